#!/usr/bin/env python3
"""The far end of a guest NIC on QEMU's `-netdev dgram` backend (Ethernet frames in UDP
datagrams on 127.0.0.1): a one-host network 192.168.77.0/24 whose host (192.168.77.1)
answers ARP, DHCP (offering 192.168.77.10, with option 42 naming itself as the NTP
server, and no router) and NTP, which it relays to a real NTP server on the host.

QEMU's user network cannot send DHCP option 42, so the test gives the guest this second
link. Usage: ntp_link.py NTP_PORT. Prints "PORT n" (where QEMU must send) on its first
line, then a line per thing it did.
"""
import socket
import struct
import sys

HOST_MAC = bytes.fromhex("525400770001")
HOST_IP = socket.inet_aton("192.168.77.1")
GUEST_IP = socket.inet_aton("192.168.77.10")
NETMASK = socket.inet_aton("255.255.255.0")
BROADCAST_MAC = b"\xff" * 6
BROADCAST_IP = b"\xff" * 4


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(dst_mac, dst_ip, src_port, dst_port, payload):
    udp_len = 8 + len(payload)
    pseudo = HOST_IP + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    header = struct.pack("!HHHH", src_port, dst_port, udp_len, 0)
    udp_sum = checksum(pseudo + header + payload) or 0xFFFF
    udp = struct.pack("!HHHH", src_port, dst_port, udp_len, udp_sum) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, HOST_IP, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + HOST_MAC + b"\x08\x00" + ip + udp


def dhcp_options(data):
    opts, i = {}, 240
    while i < len(data):
        code = data[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        length = data[i + 1]
        opts[code] = data[i + 2 : i + 2 + length]
        i += 2 + length
    return opts


def dhcp_reply(request, kind):
    reply = bytearray(240)
    reply[0:4] = bytes([2, 1, 6, 0])
    reply[4:8] = request[4:8]  # xid
    reply[10:12] = request[10:12]  # flags
    reply[16:20] = GUEST_IP  # yiaddr
    reply[28:44] = request[28:44]  # chaddr
    reply[236:240] = bytes([99, 130, 83, 99])
    reply += bytes([53, 1, kind, 54, 4]) + HOST_IP
    reply += bytes([51, 4]) + struct.pack("!I", 3600)
    reply += bytes([1, 4]) + NETMASK
    reply += bytes([42, 4]) + HOST_IP
    reply += bytes([255])
    return bytes(reply)


def main():
    ntp_port = int(sys.argv[1])
    link = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    link.bind(("127.0.0.1", 0))
    print("PORT", link.getsockname()[1], flush=True)
    ntp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ntp.settimeout(1.0)
    while True:
        frame, qemu = link.recvfrom(2048)
        if len(frame) < 14:
            continue
        src_mac, ethertype = frame[6:12], frame[12:14]
        if ethertype == b"\x08\x06" and len(frame) >= 42:
            arp = frame[14:42]
            if arp[6:8] == b"\x00\x01" and arp[24:28] == HOST_IP:
                reply = arp[0:6] + b"\x00\x02" + HOST_MAC + HOST_IP + arp[8:14] + arp[14:18]
                link.sendto(src_mac + HOST_MAC + b"\x08\x06" + reply, qemu)
                print("ARP reply to", socket.inet_ntoa(arp[14:18]), flush=True)
            continue
        if ethertype != b"\x08\x00" or len(frame) < 42 or frame[23] != 17:
            continue
        ihl = (frame[14] & 0x0F) * 4
        src_ip, dst_ip = frame[26:30], frame[30:34]
        udp = frame[14 + ihl :]
        src_port, dst_port = struct.unpack("!HH", udp[:4])
        payload = udp[8:]
        if dst_port == 67 and len(payload) >= 240:
            options = dhcp_options(payload)
            kind = options.get(53, b"\0")[0]
            if kind == 1:
                print("DHCP DISCOVER with user class", options.get(77, b"(none)").decode("latin-1"), flush=True)
            answer = {1: 2, 3: 5}.get(kind)  # DISCOVER -> OFFER, REQUEST -> ACK
            if answer:
                link.sendto(udp_frame(BROADCAST_MAC, BROADCAST_IP, 67, 68, dhcp_reply(payload, answer)), qemu)
                print("DHCP", {2: "OFFER", 5: "ACK"}[answer], "with option 42", flush=True)
        elif dst_port == 123 and dst_ip == HOST_IP:
            ntp.sendto(payload, ("127.0.0.1", ntp_port))
            try:
                answer = ntp.recv(512)
            except socket.timeout:
                print("NTP server did not answer", flush=True)
                continue
            link.sendto(udp_frame(src_mac, src_ip, 123, src_port, answer), qemu)
            print("NTP reply to", socket.inet_ntoa(src_ip), flush=True)


if __name__ == "__main__":
    main()

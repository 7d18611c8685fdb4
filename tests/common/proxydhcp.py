#!/usr/bin/env python3
"""A ProxyDHCP server on QEMU's `-netdev dgram` backend (Ethernet frames in UDP datagrams
on 127.0.0.1), joined by a hub to the guest's user network, where QEMU's own DHCP
server gives the address. It is 10.0.2.99 and answers what a PXE ProxyDHCP server
answers: a DHCPDISCOVER whose vendor class starts with PXEClient gets an offer without an
address, naming itself (option 54) and carrying option 60 "PXEClient". The first
DISCOVER's offer names the boot file (FIRST_URL); later offers name none, so the client
must ask on port 4011, whose DHCPREQUEST gets a DHCPACK naming SECOND_URL. It answers ARP
for 10.0.2.99.

Usage: proxydhcp.py FIRST_URL SECOND_URL. Prints "PORT n" (where QEMU must send) first,
then a line per thing it saw or did.
"""
import socket
import struct
import sys

from ntp_link import checksum, dhcp_options

PROXY_MAC = bytes.fromhex("525400000299")
PROXY_IP = socket.inet_aton("10.0.2.99")
BROADCAST_MAC = b"\xff" * 6
BROADCAST_IP = b"\xff" * 4


def udp_frame(dst_mac, dst_ip, src_port, dst_port, payload):
    udp_len = 8 + len(payload)
    pseudo = PROXY_IP + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    header = struct.pack("!HHHH", src_port, dst_port, udp_len, 0)
    udp_sum = checksum(pseudo + header + payload) or 0xFFFF
    udp = struct.pack("!HHHH", src_port, dst_port, udp_len, udp_sum) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, PROXY_IP, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + PROXY_MAC + b"\x08\x00" + ip + udp


def proxy_reply(request, kind, url):
    reply = bytearray(240)
    reply[0:4] = bytes([2, 1, 6, 0])
    reply[4:8] = request[4:8]  # xid
    reply[28:44] = request[28:44]  # chaddr
    if url:
        reply[20:24] = PROXY_IP  # siaddr: a boot file needs a server
    reply[236:240] = bytes([99, 130, 83, 99])
    reply += bytes([53, 1, kind, 54, 4]) + PROXY_IP
    reply += bytes([60, 9]) + b"PXEClient"
    if url:
        reply += bytes([67, len(url)]) + url.encode()
    reply += bytes([255])
    return bytes(reply)


def main():
    first_url, second_url = sys.argv[1], sys.argv[2]
    link = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    link.bind(("127.0.0.1", 0))
    print("PORT", link.getsockname()[1], flush=True)
    discovers = 0
    while True:
        frame, qemu = link.recvfrom(2048)
        if len(frame) < 14:
            continue
        src_mac, ethertype = frame[6:12], frame[12:14]
        if ethertype == b"\x08\x06" and len(frame) >= 42:
            arp = frame[14:42]
            if arp[6:8] == b"\x00\x01" and arp[24:28] == PROXY_IP:
                reply = arp[0:6] + b"\x00\x02" + PROXY_MAC + PROXY_IP + arp[8:14] + arp[14:18]
                link.sendto(src_mac + PROXY_MAC + b"\x08\x06" + reply, qemu)
            continue
        if ethertype != b"\x08\x00" or len(frame) < 42 or frame[23] != 17:
            continue
        ihl = (frame[14] & 0x0F) * 4
        src_ip, dst_ip = frame[26:30], frame[30:34]
        udp = frame[14 + ihl :]
        _, dst_port = struct.unpack("!HH", udp[:4])
        payload = udp[8:]
        if len(payload) < 240:
            continue
        options = dhcp_options(payload)
        kind = options.get(53, b"\0")[0]
        vendor = options.get(60, b"").decode("latin-1")
        if dst_port == 67 and kind == 1:
            arch = options.get(93, b"").hex()
            ndi = options.get(94, b"").hex()
            print(f"DISCOVER vendor class {vendor} arch {arch} ndi {ndi}", flush=True)
            if not vendor.startswith("PXEClient"):
                continue
            discovers += 1
            url = first_url if discovers == 1 else ""
            link.sendto(udp_frame(BROADCAST_MAC, BROADCAST_IP, 67, 68, proxy_reply(payload, 2, url)), qemu)
            print("OFFER", "with a boot file" if url else "without a boot file", flush=True)
        elif dst_port == 4011 and dst_ip == PROXY_IP and kind == 3:
            server = options.get(54, b"")
            print(f"REQUEST on 4011 from {socket.inet_ntoa(src_ip)} naming {socket.inet_ntoa(server)}", flush=True)
            reply = proxy_reply(payload, 5, second_url)
            link.sendto(udp_frame(src_mac, src_ip, 4011, 68, reply), qemu)
            print("ACK with a boot file", flush=True)


if __name__ == "__main__":
    main()

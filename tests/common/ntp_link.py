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

from ethlink import BROADCAST_IP, BROADCAST_MAC, Host, dhcp_options

HOST_MAC = bytes.fromhex("525400770001")
HOST_IP = socket.inet_aton("192.168.77.1")
GUEST_IP = socket.inet_aton("192.168.77.10")
NETMASK = socket.inet_aton("255.255.255.0")


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
    host = Host(HOST_MAC, HOST_IP)
    ntp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ntp.settimeout(1.0)
    for src_mac, src_ip, dst_ip, src_port, dst_port, payload in host.datagrams():
        if dst_port == 67 and len(payload) >= 240:
            options = dhcp_options(payload)
            kind = options.get(53, b"\0")[0]
            if kind == 1:
                print("DHCP DISCOVER with user class", options.get(77, b"(none)").decode("latin-1"), flush=True)
            answer = {1: 2, 3: 5}.get(kind)  # DISCOVER -> OFFER, REQUEST -> ACK
            if answer:
                host.send_udp(BROADCAST_MAC, BROADCAST_IP, 67, 68, dhcp_reply(payload, answer))
                print("DHCP", {2: "OFFER", 5: "ACK"}[answer], "with option 42", flush=True)
        elif dst_port == 123 and dst_ip == HOST_IP:
            ntp.sendto(payload, ("127.0.0.1", ntp_port))
            try:
                answer = ntp.recv(512)
            except socket.timeout:
                print("NTP server did not answer", flush=True)
                continue
            host.send_udp(src_mac, src_ip, 123, src_port, answer)
            print("NTP reply to", socket.inet_ntoa(src_ip), flush=True)


if __name__ == "__main__":
    main()

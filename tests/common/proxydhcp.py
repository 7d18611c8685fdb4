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
then a line per thing it saw or did (tests/common/ethlink.py is the Ethernet side).
"""
import socket
import sys

from ethlink import BROADCAST_IP, BROADCAST_MAC, Host, dhcp_options

PROXY_MAC = bytes.fromhex("525400000299")
PROXY_IP = socket.inet_aton("10.0.2.99")


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
    host = Host(PROXY_MAC, PROXY_IP, log_arp=False)
    discovers = 0
    for src_mac, src_ip, dst_ip, _, dst_port, payload in host.datagrams():
        if len(payload) < 240:
            continue
        options = dhcp_options(payload)
        kind = options.get(53, b"\0")[0]
        vendor = options.get(60, b"").decode("latin-1")
        if dst_port == 67 and kind == 1:
            arch = options.get(93, b"").hex()
            ndi = options.get(94, b"").hex()
            uuid = options.get(97, b"").hex() or "none"
            print(f"DISCOVER vendor class {vendor} arch {arch} ndi {ndi} uuid {uuid}", flush=True)
            if not vendor.startswith("PXEClient"):
                continue
            discovers += 1
            url = first_url if discovers == 1 else ""
            host.send_udp(BROADCAST_MAC, BROADCAST_IP, 67, 68, proxy_reply(payload, 2, url))
            print("OFFER", "with a boot file" if url else "without a boot file", flush=True)
        elif dst_port == 4011 and dst_ip == PROXY_IP and kind == 3:
            server = options.get(54, b"")
            print(f"REQUEST on 4011 from {socket.inet_ntoa(src_ip)} naming {socket.inet_ntoa(server)}", flush=True)
            host.send_udp(src_mac, src_ip, 4011, 68, proxy_reply(payload, 5, second_url))
            print("ACK with a boot file", flush=True)


if __name__ == "__main__":
    main()

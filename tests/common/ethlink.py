"""One host at the far end of a guest NIC on QEMU's `-netdev dgram` backend: Ethernet
frames in UDP datagrams on 127.0.0.1. The host has a MAC and an IPv4 address, answers
ARP for it, and sends and receives UDP; the responders (ntp_link.py, proxydhcp.py) say
what it answers. On start it prints "PORT n", where QEMU must send.
"""
import socket
import struct

BROADCAST_MAC = b"\xff" * 6
BROADCAST_IP = b"\xff" * 4


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


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


class Host:
    def __init__(self, mac, ip, log_arp=True):
        self.mac = mac
        self.ip = ip
        self.log_arp = log_arp
        self.link = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.link.bind(("127.0.0.1", 0))
        self.qemu = None
        print("PORT", self.link.getsockname()[1], flush=True)

    def udp_frame(self, dst_mac, dst_ip, src_port, dst_port, payload):
        udp_len = 8 + len(payload)
        pseudo = self.ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
        header = struct.pack("!HHHH", src_port, dst_port, udp_len, 0)
        udp_sum = checksum(pseudo + header + payload) or 0xFFFF
        udp = struct.pack("!HHHH", src_port, dst_port, udp_len, udp_sum) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, self.ip, dst_ip)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        return dst_mac + self.mac + b"\x08\x00" + ip + udp

    def send_udp(self, dst_mac, dst_ip, src_port, dst_port, payload):
        self.link.sendto(self.udp_frame(dst_mac, dst_ip, src_port, dst_port, payload), self.qemu)

    def datagrams(self):
        """Yields each UDP datagram the guest sends, as (src_mac, src_ip, dst_ip,
        src_port, dst_port, payload), answering ARP requests for this host meanwhile."""
        while True:
            frame, self.qemu = self.link.recvfrom(2048)
            if len(frame) < 14:
                continue
            src_mac, ethertype = frame[6:12], frame[12:14]
            if ethertype == b"\x08\x06" and len(frame) >= 42:
                arp = frame[14:42]
                if arp[6:8] == b"\x00\x01" and arp[24:28] == self.ip:
                    reply = arp[0:6] + b"\x00\x02" + self.mac + self.ip + arp[8:14] + arp[14:18]
                    self.link.sendto(src_mac + self.mac + b"\x08\x06" + reply, self.qemu)
                    if self.log_arp:
                        print("ARP reply to", socket.inet_ntoa(arp[14:18]), flush=True)
                continue
            if ethertype != b"\x08\x00" or len(frame) < 42 or frame[23] != 17:
                continue
            ihl = (frame[14] & 0x0F) * 4
            src_ip, dst_ip = frame[26:30], frame[30:34]
            udp = frame[14 + ihl :]
            src_port, dst_port = struct.unpack("!HH", udp[:4])
            yield src_mac, src_ip, dst_ip, src_port, dst_port, udp[8:]

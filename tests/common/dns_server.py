"""A minimal authoritative DNS server for the firmware tests (UDP, A records only).

usage: dns_server.py PORT NAME=IPV4 ...
Answers A queries for the given names; every other name gets NXDOMAIN. Prints "READY"
once listening on 127.0.0.1:PORT, and one line per query on stderr.
"""
import socket
import struct
import sys

port = int(sys.argv[1])
records = dict(arg.split("=", 1) for arg in sys.argv[2:])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
print("READY", flush=True)
while True:
    query, peer = sock.recvfrom(512)
    if len(query) < 12:
        continue
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    labels, i = [], 12
    while i < len(query) and query[i] != 0:
        labels.append(query[i + 1 : i + 1 + query[i]].decode("ascii", "replace"))
        i += 1 + query[i]
    question = query[12 : i + 5]
    qtype = struct.unpack("!H", query[i + 1 : i + 3])[0] if i + 3 <= len(query) else 0
    name = ".".join(labels).lower()
    sys.stderr.write("query %s type %d\n" % (name, qtype))
    sys.stderr.flush()
    rd = flags & 0x0100
    if name in records and qtype == 1:
        header = struct.pack("!HHHHHH", ident, 0x8400 | rd, 1, 1, 0, 0)
        answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(records[name])
        sock.sendto(header + question + answer, peer)
    else:
        rcode = 3 if name not in records else 0
        header = struct.pack("!HHHHHH", ident, 0x8400 | rd | rcode, 1, 0, 0, 0)
        sock.sendto(header + question, peer)

"""A static HTTPS file server for the firmware tests (Python's ssl on OpenSSL).

usage: https_server.py ROOT CERT KEY [CLIENT_CA]
Listens on 127.0.0.1 (a free port), prints "PORT <n>" once ready, serves ROOT.
With CLIENT_CA, a client certificate issued by it is required (mutual TLS).
TLS_MAX (1.0, 1.1, 1.2) caps the version and TLS_CIPHERS sets OpenSSL's TLS 1.2-and-older
cipher list, to play an old server. TLS_CLIENT_ORDER picks the suite by the client's order of
preference (Python's default is the server's). With CONN_LOG, each connection ("connection N") and each
request on it ("N GET /path 200") is appended to that file.
"""
import os
import functools
import http.server
import ssl
import sys
import threading

root, cert, key = sys.argv[1:4]
client_ca = sys.argv[4] if len(sys.argv) > 4 else None


conn_log = os.environ.get("CONN_LOG")
conn_lock = threading.Lock()
conn_count = [0]


def record(line):
    if conn_log:
        with conn_lock, open(conn_log, "a") as f:
            f.write(line + "\n")


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with conn_lock:
            conn_count[0] += 1
            self.conn_number = conn_count[0]
        record("connection %d" % self.conn_number)

    def log_request(self, code="-", size="-"):
        record("%d %s %s" % (self.conn_number, self.requestline, code))

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
versions = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2}
if os.environ.get("TLS_CLIENT_ORDER"):
    ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
if os.environ.get("TLS_CIPHERS"):
    ctx.set_ciphers(os.environ["TLS_CIPHERS"])
if os.environ.get("TLS_MAX"):
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = versions[os.environ["TLS_MAX"]]
if client_ca:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(client_ca)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()

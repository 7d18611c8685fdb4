#!/usr/bin/env python3
"""Hostile-input verification benchmark: a valid signature padded with N unrelated
certificates, verified by `bootsign verify` and by `openssl cms -verify` on the same files.

bootsign refuses signatures with more than 256 certificates at once (bootsign_pki::cms::
MAX_CERTIFICATES); below the cap its certificate pool is built in linear time. Prints the
wall time of each tool (median of --runs) and whether it accepted.
Usage: scripts/bench_verify.py [--counts 200,50000] [--runs 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tlv(tag, content):
    """One DER element."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def read_tlv(data):
    """(tag, content, rest) of the first element."""
    tag, first = data[0], data[1]
    if first < 0x80:
        start, n = 2, first
    else:
        k = first & 0x7F
        start, n = 2 + k, int.from_bytes(data[2 : 2 + k], "big")
    return tag, data[start : start + n], data[start + n :]


def pad_signature(sig, cert, count):
    """The CMS signature `sig` with `count` distinct copies of `cert` added to its
    certificates (each copy's last signature byte changed, so none is a duplicate)."""
    _, content_info, _ = read_tlv(sig)
    tag, oid_content, rest = read_tlv(content_info)
    oid = tlv(tag, oid_content)
    _, explicit, _ = read_tlv(rest)
    _, signed_data, _ = read_tlv(explicit)
    parts = []
    body = signed_data
    while body:
        t, c, body = read_tlv(body)
        parts.append((t, c))
    extra = b""
    for i in range(count):
        copy = bytearray(cert)
        copy[-4:] = i.to_bytes(4, "big")
        extra += bytes(copy)
    out = b""
    for t, c in parts:
        if t == 0xA0:
            c = c + extra
        out += tlv(t, c)
    return tlv(0x30, oid + tlv(0xA0, tlv(0x30, out)))


def timed(cmd, cwd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start, done.returncode == 0, done.stderr.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", default="200,50000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    bootsign = os.path.join(ROOT, "target", "release", "bootsign")
    with tempfile.TemporaryDirectory() as d:
        q = {"cwd": d, "check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([bootsign, "ca", "init", "--key", "p256", "--cn", "Bench CA"], **q)
        subprocess.run([bootsign, "issue", "--codesigning", "--key", "p256"], **q)
        with open(os.path.join(d, "f"), "wb") as f:
            f.write(os.urandom(4096))
        subprocess.run([bootsign, "sign", "f"], **q)
        subprocess.run(["openssl", "x509", "-in", "ca.crt", "-outform", "DER", "-out", "ca.der"], **q)
        sig = open(os.path.join(d, "f.sig"), "rb").read()
        cert = open(os.path.join(d, "ca.der"), "rb").read()
        print(f"{'certificates':>12}  {'bootsign':>10}  {'verdict':<28}  {'openssl':>10}  verdict")
        for count in [int(c) for c in args.counts.split(",")]:
            padded = os.path.join(d, f"pad{count}.sig")
            with open(padded, "wb") as f:
                f.write(pad_signature(sig, cert, count))
            ours = [bootsign, "verify", "f", "--sig", padded, "--trust", "ca.crt"]
            theirs = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", padded,
                      "-content", "f", "-CAfile", "ca.crt", "-purpose", "any", "-out", "/dev/null"]
            b = [timed(ours, d) for _ in range(args.runs)]
            o = [timed(theirs, d) for _ in range(args.runs)]
            bt, ot = statistics.median(x[0] for x in b), statistics.median(x[0] for x in o)
            bv = "accepted" if b[0][1] else ("refused: cap" if "more than" in b[0][2] else "refused")
            ov = "accepted" if o[0][1] else "refused"
            print(f"{count:>12}  {bt:>9.3f}s  {bv:<28}  {ot:>9.3f}s  {ov}")


if __name__ == "__main__":
    sys.exit(main())

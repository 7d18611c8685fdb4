#!/usr/bin/env python3
"""Image-build benchmark: times `bootsign build --efi --iso --usb --rom` (all four in one
call, with trust, a client certificate and key, and a script), unsigned and
Authenticode-signed for Secure Boot (--sb-key/--sb-cert, an RSA 2048 db key: the program
and the ROM's driver are each signed), and prints the median of ten runs. No compiler
runs: the firmware template is inside the bootsign binary.
Usage: scripts/bench_build.py [--runs 10]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    bootsign = os.path.join(ROOT, "target", "release", "bootsign")
    with tempfile.TemporaryDirectory() as d:
        quiet = {"cwd": d, "check": True, "capture_output": True}
        subprocess.run([bootsign, "ca", "init", "--cn", "Bench CA"], **quiet)
        subprocess.run([bootsign, "issue", "--client", "--key", "p256"], **quiet)
        with open(os.path.join(d, "boot.ipxe"), "w") as f:
            f.write("#!ipxe\ndhcp\nchain http://${next-server}/boot.ipxe\n")
        cmd = [bootsign, "build", "--efi", "--iso", "--usb", "--rom", "--pci", "1af4:1000", "--trust", "ca.crt",
               "--cert", "client.crt", "--privkey", "client.key", "--embed", "boot.ipxe", "--force"]
        subprocess.run([bootsign, "secureboot", "keys", "-o", "sb", "--name", "Bench"], **quiet)
        signed = cmd + ["--sb-key", "sb/db.key", "--sb-cert", "sb/db.crt"]

        def timed(c):
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(c, **quiet)
                times.append(time.perf_counter() - start)
            return times

        plain = timed(cmd)
        sizes = {ext: os.path.getsize(os.path.join(d, f"bootsign.{ext}")) for ext in ("efi", "iso", "usb", "rom")}
        sb = timed(signed)
    print(f"{'operation':<56}{'median':>10}{'min':>10}{'target':>10}")
    for name, times in [("bootsign build --efi --iso --usb --rom (all four)", plain),
                        ("  the same, signed for Secure Boot (--sb-key, RSA 2048)", sb)]:
        print(f"{name:<56}{statistics.median(times) * 1000:>8.1f}ms{min(times) * 1000:>8.1f}ms{'< 100ms':>10}")
    print("sizes: " + ", ".join(f"{ext} {size // 1024} KiB" for ext, size in sizes.items()))


if __name__ == "__main__":
    main()

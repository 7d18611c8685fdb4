#!/usr/bin/env python3
"""Sign and verify benchmark: bootsign against `openssl cms` on the same files, in one run.

Prints, for 64 MiB and 256 MiB files, the median wall time of three runs of each tool,
the ratio bootsign/OpenSSL, and each process's peak memory (flat in file size means
streaming). Usage: scripts/bench_sign.py [--sizes 64,256] [--runs 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd):
    """Runs cmd; returns (seconds, peak RSS in MiB) of that one process."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024


def median_run(cmd, cwd, runs):
    results = [run(cmd, cwd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="64,256", help="file sizes in MiB")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    bootsign = os.path.join(ROOT, "target", "release", "bootsign")
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([bootsign, "ca", "init", "--cn", "Bench CA"], cwd=d, check=True, capture_output=True)
        subprocess.run([bootsign, "issue", "--codesigning"], cwd=d, check=True, capture_output=True)
        rows = []
        for size in [int(s) for s in args.sizes.split(",")]:
            name = f"payload-{size}"
            with open(os.path.join(d, name), "wb") as f:
                block = os.urandom(1 << 20)
                for _ in range(size):
                    f.write(block)
            run(["cat", name], d)  # warm the page cache
            ours_sign = median_run([bootsign, "sign", name, "--force"], d, args.runs)
            theirs_sign = median_run(
                ["openssl", "cms", "-sign", "-binary", "-noattr", "-in", name, "-signer", "codesign.crt",
                 "-inkey", "codesign.key", "-certfile", "ca.crt", "-outform", "DER", "-out", name + ".ossl.sig"],
                d, args.runs)
            ours_verify = median_run([bootsign, "verify", name, "--trust", "ca.crt"], d, args.runs)
            theirs_verify = median_run(
                ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", name + ".sig", "-content", name,
                 "-CAfile", "ca.crt", "-purpose", "any", "-out", "/dev/null"],
                d, args.runs)
            rows.append(("sign", size, ours_sign, theirs_sign))
            rows.append(("verify", size, ours_verify, theirs_verify))
            os.remove(os.path.join(d, name))

    print(f"{'operation':<10}{'size':>9}{'bootsign s':>12}{'openssl s':>11}{'ratio':>8}"
          f"{'bootsign RSS':>14}{'openssl RSS':>13}")
    for op, size, (ot, orss), (tt, trss) in rows:
        print(f"{op:<10}{size:>5} MiB{ot:>12.3f}{tt:>11.3f}{ot / tt:>8.2f}{orss:>10.1f} MiB{trss:>9.1f} MiB")
    print("ratio = bootsign time / OpenSSL time (target: at most 1.10); RSS = peak memory of the process")


if __name__ == "__main__":
    main()

"""A monthly billing run through ZEO: contracts/s and peak memory of a real
``portmonet bill`` process; then invoice PDFs rendered on demand (invoices/s).

    .venv/bin/python bench/billing_run.py --contracts 1000000
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rating_world import BIN, Zeo, build, peak_rss_mib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--render", type=int, default=200, help="invoice PDFs to render")
    args = ap.parse_args()
    zeo = Zeo()
    try:
        db = zeo.db()
        t = time.monotonic()
        # every fourth contract has no money: it is blocked and notified
        build(db, args.contracts, broke_every=4)
        db.close()
        print(f"setup: {args.contracts} contracts in {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        proc = subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "bill",
                                 "--period", "2024-03", "--as-of", "2024-04-01",
                                 "--batch", str(args.batch)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - t
        print(proc.stdout.read().strip())
        cpu = usage.ru_utime + usage.ru_stime
        print(f"billing run: {args.contracts} contracts in {elapsed:.1f} s: "
              f"{args.contracts / elapsed:.0f} contracts/s; CPU {cpu:.1f} s "
              f"({args.contracts / cpu:.0f} contracts per CPU-second); "
              f"peak RSS {peak_rss_mib(usage):.0f} MiB (exit {os.waitstatus_to_exitcode(status)})")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        out = tempfile.mkdtemp(prefix="portmonet-invoices-")
        t = time.monotonic()
        proc = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "invoice", "render",
                               "--period", "2024-03", "--limit", str(args.render), "--out", out],
                              capture_output=True, text=True)
        print("render:", proc.stdout.strip() or proc.stderr.strip()[-300:])
        check = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "check"],
                               capture_output=True, text=True)
        print("check:", check.stdout.strip().splitlines()[-1])
    finally:
        zeo.stop()


if __name__ == "__main__":
    main()

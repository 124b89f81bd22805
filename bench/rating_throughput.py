"""Rater throughput through ZEO: records/s of a real ``portmonet rate``
process and its peak memory.

    .venv/bin/python bench/rating_throughput.py --accounts 100000 --calls 1000000 --traffic 1000000
"""
import argparse
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rating_world import BIN, Zeo, build, peak_rss_mib  # noqa: E402

DESTINATIONS = ["74991234567", "79161234567", "78121234567", "12125550100", "112", "74957654321"]


def fill(db, accounts, calls, traffic, batch=20000):
    import transaction
    from portmonet.model.root import get_root
    from portmonet.usage import UsageRecord
    rng = random.Random(1)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    queue = get_root(conn.root()).usage
    start = 1709539200_000_000          # 2024-03-04 08:00 UTC
    n = 0
    for i in range(calls + traffic):
        who = rng.randint(1, accounts)
        when = start + rng.randrange(20 * 86400) * 1_000_000
        if i < calls:
            rec = UsageRecord(f"cdr:{i}", "call", f"7495{who:07d}", when, when,
                              {"seconds": rng.randint(0, 900)},
                              {"destination": rng.choice(DESTINATIONS)})
        else:
            rec = UsageRecord(f"rad:{i}", "traffic", f"b{who}", when, when,
                              {"octets_in": rng.randint(0, 10**9), "octets_out": rng.randint(0, 10**8)},
                              {"remote": rng.choice(["8.8.8.8", "10.1.2.3", "1.1.1.1"])})
        queue.enqueue(rec)
        n += 1
        if n % batch == 0:
            tm.commit()
            conn.cacheMinimize()
    tm.commit()
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--calls", type=int, default=50000)
    ap.add_argument("--traffic", type=int, default=50000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    zeo = Zeo()
    try:
        db = zeo.db()
        t = time.monotonic()
        build(db, args.accounts)
        fill(db, args.accounts, args.calls, args.traffic)
        db.close()
        print(f"setup: {args.accounts} accounts, {args.calls} calls, {args.traffic} traffic "
              f"records in {time.monotonic() - t:.0f} s")
        total = args.calls + args.traffic
        t = time.monotonic()
        proc = subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "rate", "--once",
                                 "--batch", str(args.batch)], stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - t
        print(proc.stdout.read().strip())
        cpu = usage.ru_utime + usage.ru_stime
        print(f"rated {total} records in {elapsed:.1f} s: {total / elapsed:.0f} records/s; "
              f"rater CPU {cpu:.1f} s ({total / cpu:.0f} records per CPU-second); "
              f"peak RSS {peak_rss_mib(usage):.0f} MiB (exit {os.waitstatus_to_exitcode(status)})")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        check = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "check"],
                               capture_output=True, text=True)
        print("check:", check.stdout.strip().splitlines()[-1])
    finally:
        zeo.stop()


if __name__ == "__main__":
    main()

"""Rater throughput through ZEO: records/s of a real ``portmonet rate``
process, its peak memory and CPU, and the ZEO server's CPU.

    .venv/bin/python bench/rating_throughput.py --accounts 100000 \
        --calls 1000000 --traffic 1000000 --template-db /work/seed-1m/Data.fs

With ``--template-db`` the bench starts from a copy of that storage (e.g.
the shared 1,000,000-subscriber seed) and adds its rated contracts after
its subscribers (ids from 2,000,001), so the catalog is as big as a real
base's; without it, from an empty database.
"""
import argparse
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rating_world import BIN, Zeo, build, peak_rss_mib  # noqa: E402

PROFILED = """import cProfile, sys, time
from portmonet.cli import main
out = sys.argv.pop(1)
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(main)
except SystemExit:
    pass
profile.dump_stats(out)
"""
DESTINATIONS = ["74991234567", "79161234567", "78121234567", "12125550100", "112", "74957654321"]


def fill(db, accounts, calls, traffic, batch=20000, first_id=1):
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
        who = first_id + rng.randint(0, accounts - 1)
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


def rated_so_far(zeo):
    from portmonet.model.root import get_root
    db = zeo.db()
    conn = db.open()
    try:
        return get_root(conn.root())["rating"].rated_count()
    finally:
        conn.close()
        db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--calls", type=int, default=50000)
    ap.add_argument("--traffic", type=int, default=50000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=1,
                    help="Rater processes, one per shard (portmonet rate --workers N).")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="Stop the rater after this long and report what it rated by then.")
    ap.add_argument("--template-db", default=None,
                    help="Start from a copy of this Data.fs (e.g. /work/seed-1m/Data.fs).")
    ap.add_argument("--save-setup", default=None, metavar="PATH",
                    help="After the set-up, keep a copy of the storage at PATH (a Data.fs) "
                         "for later runs with --filled.")
    ap.add_argument("--filled", action="store_true",
                    help="--template-db already holds this bench's accounts and queued "
                         "records (made with --save-setup): skip the set-up.")
    ap.add_argument("--profile", default=None, metavar="FILE",
                    help="Run the rater under cProfile, write the stats to FILE and print the top.")
    ap.add_argument("--py-spy", default=None, metavar="FILE",
                    help="Sample the rater(s) with py-spy (collapsed stacks to FILE) and "
                         "print where the time goes; unlike --profile it does not slow "
                         "Python calls more than C code.")
    args = ap.parse_args()
    first_id = 2_000_001 if args.template_db else 1
    t = time.monotonic()
    zeo = Zeo(args.template_db)
    try:
        db = zeo.db()
        print(f"server up in {time.monotonic() - t:.0f} s", flush=True)
        t = time.monotonic()
        if not args.filled:
            build(db, args.accounts, first_id=first_id)
            fill(db, args.accounts, args.calls, args.traffic, first_id=first_id)
        db.close()
        print(f"setup: {args.accounts} accounts, {args.calls} calls, {args.traffic} traffic "
              f"records in {time.monotonic() - t:.0f} s", flush=True)
        if args.save_setup:
            zeo = zeo.saved_as(args.save_setup)
            print(f"set-up kept in {args.save_setup}", flush=True)
        total = args.calls + args.traffic
        load_before = os.getloadavg()
        server_cpu = zeo.cpu_seconds()
        t = time.monotonic()
        limit = ["--max-seconds", str(args.max_seconds)] if args.max_seconds else []
        command = [os.path.join(BIN, "portmonet"), "-c", zeo.ini, "rate", "--once",
                   "--batch", str(args.batch), "--workers", str(args.workers)] + limit
        if args.profile:
            # timed by CPU time (of all the process's threads), not by the
            # clock, so a busy machine does not inflate the figures
            command = [sys.executable, "-c", PROFILED, args.profile] + command[1:]
        if args.py_spy:
            command = [os.path.join(BIN, "py-spy"), "record", "--format", "raw", "--rate", "250",
                       "--subprocesses", "--nonblocking", "-o", args.py_spy, "--"] + command
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - t
        print(proc.stdout.read().strip())
        if args.max_seconds:
            total = rated_so_far(zeo)
        cpu = usage.ru_utime + usage.ru_stime
        print(f"rated {total} records in {elapsed:.1f} s: {total / elapsed:.0f} records/s; "
              f"rater CPU {cpu:.1f} s ({total / cpu:.0f} records per CPU-second); "
              f"peak RSS {peak_rss_mib(usage):.0f} MiB (the largest of {args.workers} rater "
              f"process(es)); {cpu / total * 1e6:.0f} µs rater CPU per record "
              f"(exit {os.waitstatus_to_exitcode(status)})")
        load_after = os.getloadavg()
        if args.profile:
            import pstats
            stats = pstats.Stats(args.profile)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
        if args.py_spy:
            from spy_summary import summarize
            summarize(args.py_spy)
        zeo_cpu = zeo.cpu_seconds() - server_cpu
        print(f"ZEO server CPU during the run {zeo_cpu:.1f} s ({zeo_cpu / total * 1e6:.0f} µs "
              f"per record)")
        print(f"load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in load_before)}, "
              f"at end {'/'.join(f'{x:.1f}' for x in load_after)} on {os.cpu_count()} CPUs")
        if args.max_seconds:
            return       # the books check of a partly rated queue takes long; skip it
        check = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "check"],
                               capture_output=True, text=True)
        print("check:", check.stdout.strip().splitlines()[-1])
    finally:
        zeo.stop()


if __name__ == "__main__":
    main()

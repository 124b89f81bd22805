"""The dashboard's contracts-per-status counters at scale.

    .venv/bin/python bench/web_status_counts.py --template-db /work/seed-1m/Data.fs \
        --workdir /tmp/bench-status-counts

Copies the seeded database (the template is never opened), starts runzeo on
the copy, runs the real ``portmonet evolve`` (the step
``core-04-contract-status-counts`` recounts every contract in batches) and
prints its time and peak memory; then, as a client, the time of the recount
that ``portmonet check`` does, whether the counters equal it, and the cost
of reading the counters and the payments day figures (what the dashboard
does now instead of walking).  Prints the load average next to the figures.
Deletes the copy unless --keep.
"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeo import BenchZeo  # noqa: E402
from web_load import copy_template  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--template-db", metavar="PATH", required=True)
    ap.add_argument("--workdir", default="/tmp/bench-status-counts")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    copy_template(args.template_db, args.workdir)
    zeo = BenchZeo(args.workdir).start()
    try:
        print(f"load average before: {os.getloadavg()}", flush=True)
        seconds, rss = zeo.portmonet("evolve")
        print(f"portmonet evolve (recount in batches): {seconds:.1f} s, peak RSS {rss:.0f} MiB, "
              f"load average {os.getloadavg()}", flush=True)
        import ZEO
        from portmonet.evolve.core import count_contracts
        from portmonet.model.root import get_root
        from portmonet.web.figures import record  # noqa: F401  (the series read below)
        db = ZEO.DB(("127.0.0.1", zeo.port), cache_size=256 << 20)
        db.setCacheSize(100_000)
        try:
            with db.transaction() as conn:
                root = get_root(conn.root())
                t0 = time.perf_counter()
                counted = count_contracts(root)
                recount = time.perf_counter() - t0
                kept = root.contract_counts.as_dict()
                print(f"recount (the check): {recount:.1f} s, {sum(counted.values()):,} contracts "
                      f"{counted}; counters equal: {kept == counted}; "
                      f"load average {os.getloadavg()}", flush=True)
                n = 10_000
                t0 = time.perf_counter()
                for _ in range(n):
                    root.contract_counts.get("blocked")
                    root.day_figures.series("payments", days=1)
                per = (time.perf_counter() - t0) / n * 1e6
                print(f"dashboard read (blocked counter + today's payments): {per:.1f} µs warm",
                      flush=True)
        finally:
            db.close()
    finally:
        zeo.stop()
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

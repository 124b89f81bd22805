"""Figures of the foundation (issue 2), through a real ZEO server:

* seeding N subscribers (contract, account, Internet service each): time, peak memory;
* lookups by login, phone and account number: median and p99, cold and warm;
* ``portmonet check`` over the database: time;
* Data.fs bytes per subscriber.

    .venv/bin/python bench/foundation.py --subscribers 1000000   # ~20 min here
    .venv/bin/python bench/foundation.py --subscribers 20000     # a quick look

Prints a table and writes bench/out/foundation-<N>.json.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeo import BenchZeo, PROJECT  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def lookups(port, n, count, rounds=2):
    """Latency of catalog lookups that load the found object, in ms."""
    import ZEO
    from portmonet.model.root import get_root
    from portmonet.ops.demo import people
    db = ZEO.DB(("127.0.0.1", port), cache_size=20000)
    conn = db.open()
    root = get_root(conn.root())
    cat = root.catalog
    rng = random.Random(7)
    ids = [rng.randint(1, n) for _ in range(count)]
    people_by_id = {}
    wanted = set(ids)
    for id, person in people(1, 1, n):
        if id in wanted:
            people_by_id[id] = person
    from portmonet.model.contract import account_number
    kinds = {
        "login": lambda i: cat.logins.get(people_by_id[i].login).login,
        "phone": lambda i: root["subscribers"][cat.phones.ids(people_by_id[i].phone).minKey()].name,
        "account": lambda i: cat.accounts.get(account_number(i, 1)).balance,
    }
    out = {}
    for kind, find in kinds.items():
        for r in range(rounds):
            times = []
            for i in ids:
                t0 = time.perf_counter()
                find(i)
                times.append((time.perf_counter() - t0) * 1000)
            label = "cold" if r == 0 else "warm"
            out[f"{kind}_{label}"] = {"median_ms": round(statistics.median(times), 4),
                                      "p99_ms": round(percentile(times, 99), 4)}
    conn.close()
    db.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10000)
    parser.add_argument("--folder", default=os.path.join(PROJECT, "bench", "out", "foundation-db"))
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--reuse", action="store_true",
                        help="Keep the database of an earlier run; measure lookups and check only.")
    args = parser.parse_args()
    os.makedirs(os.path.join(PROJECT, "bench", "out"), exist_ok=True)
    path = os.path.join(PROJECT, "bench", "out", f"foundation-{args.subscribers}.json")
    result = {}
    if args.reuse:
        if os.path.exists(path):
            with open(path) as f:
                result = json.load(f)
    else:
        shutil.rmtree(args.folder, ignore_errors=True)
    result.update({"subscribers": args.subscribers, "cpus": os.cpu_count()})

    def save():
        with open(path, "w") as f:
            json.dump(result, f, indent=2)

    zeo = BenchZeo(args.folder).start()
    try:
        if not args.reuse:
            result["load_before_seed"] = os.getloadavg()
            zeo.portmonet("init")
            print(f"seeding {args.subscribers} subscribers through ZEO ...", flush=True)
            seconds, rss = zeo.portmonet("seed", "--subscribers", str(args.subscribers),
                                         "--batch", str(args.batch))
            result["seed"] = {"seconds": round(seconds, 1), "peak_rss_mib": round(rss),
                              "subscribers_per_s": round(args.subscribers / seconds),
                              "load_after": os.getloadavg()}
            print(result["seed"], flush=True)
            save()
        size = os.path.getsize(zeo.data_fs)
        result["data_fs"] = {"bytes": size, "bytes_per_subscriber": round(size / args.subscribers)}
        print("lookups ...", flush=True)
        result["lookups"] = lookups(zeo.port, args.subscribers, args.lookups)
        save()
        print("portmonet check ...", flush=True)
        result["load_before_check"] = os.getloadavg()
        seconds, rss = zeo.portmonet("check")
        result["check"] = {"seconds": round(seconds, 1), "peak_rss_mib": round(rss)}
    finally:
        zeo.stop()
    save()
    print(json.dumps(result, indent=2))
    print(f"written {path}")


if __name__ == "__main__":
    main()

"""Workflow figures: requests started and transitions taken per second, and
the timer's sweep over a million open requests, through a real ZEO server.

    .venv/bin/python bench/workflow.py [--instances 1000000] [--moves 20000]

Builds the requests straight into a FileStorage (fast), then serves it with
``runzeo`` and measures as the processes do, through ZEO: transitions one
per transaction (what a web request does) and a thousand per transaction
(a bulk job), and ``sweep`` (the timer) when nothing is due and when 1% of
the open requests are past their deadline.  Prints a table; writes
``bench/out/workflow-N.json``.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import transaction
import ZODB
import ZODB.FileStorage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from portmonet import db as dbmod  # noqa: E402
from portmonet.clock import now_us  # noqa: E402
from portmonet.model.root import get_root, install  # noqa: E402
from portmonet.model.subscriber import Subscriber  # noqa: E402
from portmonet.workflow import engine  # noqa: E402
from portmonet.workflow.library import install_builtin  # noqa: E402

HOUR = 3_600_000_000


def build(path, count, batch=20_000):
    """*count* open repair tickets (one subscriber each tenth), created an
    hour apart in time order so 1% are past their 4-hour deadline."""
    db = ZODB.DB(ZODB.FileStorage.FileStorage(path))
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    install(conn.root())
    root = get_root(conn.root())
    install_builtin(root)
    tm.commit()
    now = now_us()
    oldest = now - (count // 100) * 360_000      # the first 1% are overdue by now
    started = time.perf_counter()
    subscriber = None
    for n in range(count):
        if n % 10 == 0:
            subscriber = root["subscribers"].add_subscriber(Subscriber(f"Bench {n}"))
        when = oldest - 4 * HOUR + n * 360_000 if n < count // 100 else now + n
        engine.start(root, "repair", f"subscriber:{subscriber.id}", "bench", when_us=when)
        if (n + 1) % batch == 0:
            tm.commit()
            conn.cacheMinimize()
            print(f"built {n + 1}/{count} ({time.perf_counter() - started:.0f} s)",
                  file=sys.stderr, flush=True)
    tm.commit()
    seconds = time.perf_counter() - started
    conn.close()
    db.close()
    return seconds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(path):
    port = free_port()
    conf = path + ".zeo.conf"
    with open(conf, "w") as f:
        f.write(f"<zeo>\n address 127.0.0.1:{port}\n</zeo>\n<filestorage>\n path {path}\n</filestorage>\n")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "runzeo"), "-C", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"zeo://127.0.0.1:{port}?wait_timeout=60&cache_size=256MB"
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("ZEO did not start")


def timed(func):
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def measure(uri, moves):
    db = dbmod.open_database({}, uri=uri)
    keys = dbmod.transact(db, lambda root: list(
        root["workflows"].requests.keys())[-moves:], "bench", "keys")
    # one move per transaction: take, as a web request would
    single = keys[: moves // 10]

    def one_each():
        for key in single:
            dbmod.transact(db, lambda root, key=key: engine.take(
                root, root["workflows"].requests[key], "take", "eng", ["engineer"]),
                "bench", "take")
    t_single, _ = timed(one_each)
    bulk = keys[moves // 10:]

    def in_batches():
        for i in range(0, len(bulk), 1000):
            def work(root, part=bulk[i:i + 1000]):
                requests = root["workflows"].requests
                for key in part:
                    engine.take(root, requests[key], "take", "eng", ["engineer"])
            dbmod.transact(db, work, "bench", "take batch")
    t_bulk, _ = timed(in_batches)
    # the timer: nothing due (a second after the build) vs 1% due (now)
    t_none, none = timed(lambda: dbmod.transact(
        db, lambda root: engine.sweep(root, now=0, limit=100_000), "bench", "sweep"))
    t_due, due = timed(lambda: dbmod.transact(
        db, lambda root: engine.sweep(root, limit=100_000), "bench", "sweep"))
    open_left = dbmod.transact(db, lambda root: root["workflows"].requests.open_count(),
                               "bench", "count")
    db.close()
    return {"moves_one_per_txn_per_s": len(single) / t_single,
            "moves_1000_per_txn_per_s": len(bulk) / t_bulk,
            "sweep_nothing_due_s": t_none, "sweep_nothing_due": none,
            "sweep_1pct_due_s": t_due, "sweep_1pct_due": due, "open": open_left}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "Data.fs")
        built = build(path, args.instances)
        size = os.path.getsize(path)
        proc, uri = serve(path)
        try:
            figures = measure(uri, args.moves)
        finally:
            proc.terminate()
            proc.wait()
    figures.update(instances=args.instances, build_s=built,
                   starts_per_s=args.instances / built, bytes_per_request=size / args.instances)
    rows = [("requests started (one transaction per 20,000, FileStorage)", f"{figures['starts_per_s']:,.0f}/s"),
            ("transitions, one per transaction, through ZEO", f"{figures['moves_one_per_txn_per_s']:,.0f}/s"),
            ("transitions, 1,000 per transaction, through ZEO", f"{figures['moves_1000_per_txn_per_s']:,.0f}/s"),
            (f"timer sweep over {args.instances:,} open, nothing due",
             f"{figures['sweep_nothing_due_s'] * 1000:,.1f} ms"),
            (f"timer sweep over {args.instances:,} open, {figures['sweep_1pct_due'][1]:,} due (escalated)",
             f"{figures['sweep_1pct_due_s']:,.1f} s"),
            ("Data.fs per request", f"{figures['bytes_per_request']:,.0f} bytes")]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    with open(os.path.join(HERE, "out", f"workflow-{args.instances}.json"), "w") as f:
        json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()

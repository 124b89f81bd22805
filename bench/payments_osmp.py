"""Terminal (OSMP) payments per second through real waitress web processes
on loopback, over a real ZEO server; then ``portmonet check``.

    .venv/bin/python bench/payments_osmp.py --subscribers 100000 --payments 20000

Keeps its database in --dir (default bench/out/payments-osmp), so a large
seed is paid once; each run pays with fresh txn ids and re-sends a share of
them (duplicates), and proves that every payment landed exactly once.
"""
import argparse
import base64
import http.client
import multiprocessing
import os
import random
import statistics
import sys
import time
import urllib.parse
from xml.etree import ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payments_env import prepare, Env, with_root  # noqa: E402

AGENT, LOGIN, PASSWORD = "bench", "bench", "bench-password-1"


def amount_of(txn):
    return 100 + txn % 50_000          # minor units, 1.00 .. 500.99


def client(args):
    """One terminal network process: keep-alive HTTP, returns its answers."""
    port, accounts, txns, dup_share, seed = args
    rng = random.Random(seed)
    auth = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    temporary = [0]
    answers = []
    latencies = []
    plan = list(txns)
    extra = [t for t in txns if rng.random() < dup_share]
    plan += extra
    for txn in plan:
        amount = amount_of(txn)
        query = urllib.parse.urlencode({
            "command": "pay", "txn_id": str(txn), "account": accounts[txn % len(accounts)],
            "sum": f"{amount // 100}.{amount % 100:02d}", "txn_date": "20261125120000"})
        started = time.perf_counter()
        for attempt in range(8):
            try:
                conn.request("GET", f"/payments/{AGENT}/osmp?{query}", headers={"Authorization": auth})
                body = conn.getresponse().read()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            doc = ElementTree.fromstring(body)
            if doc.findtext("result") != "1":
                break
            temporary[0] += 1
            time.sleep(0.5)           # "temporary error": a terminal repeats later
        latencies.append(time.perf_counter() - started)
        answers.append((txn, doc.findtext("result"), doc.findtext("prv_txn")))
    return answers, latencies, temporary[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20000)
    parser.add_argument("--payments", type=int, default=5000, help="distinct payments")
    parser.add_argument("--clients", type=int, default=8, help="terminal processes")
    parser.add_argument("--web", type=int, default=2, help="web (pserve) processes")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process")
    parser.add_argument("--duplicates", type=float, default=0.05,
                        help="share of payments sent a second time")
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "out",
                                                       "payments-osmp"))
    args = parser.parse_args()
    env = Env(args.dir)
    try:
        prepare(env, args.subscribers)
        if not with_root(env, lambda root, conn: AGENT in root["payments"]):
            env.portmonet("payments", "agent", "add", AGENT, "--protocol", "osmp",
                          "--allow", "127.0.0.1", "--login", LOGIN, "--password", PASSWORD)

        def sample(root, conn):
            ids = list(root["subscribers"].data.keys())
            rng = random.Random(7)
            picked = rng.sample(ids, min(len(ids), 50_000))
            out = [root["subscribers"].data[i].contracts()[0].account.number for i in picked]
            return out, root["payments"][AGENT].account.balance
        accounts, agent_before = with_root(env, sample)
        total_subs = with_root(env, lambda root, conn: len(root["subscribers"]))
        ports = env.start_web(args.web, args.threads)
        base = int(time.time()) * 1_000_000
        txns = list(range(base, base + args.payments))
        jobs = [(ports[i % len(ports)], accounts, txns[i::args.clients], args.duplicates, i)
                for i in range(args.clients)]
        cpu_before = env.cpu()
        started = time.perf_counter()
        with multiprocessing.Pool(args.clients) as pool:
            results = pool.map(client, jobs)
        elapsed = time.perf_counter() - started
        cpu_web, cpu_zeo = (b - a for a, b in zip(cpu_before, env.cpu()))
        env.stop_web()
        answers = [a for r in results for a in r[0]]
        latencies = sorted(x for r in results for x in r[1])
        bad = [a for a in answers if a[1] != "0"]
        repeats = sum(r[2] for r in results)
        first = {}
        mismatched = 0
        for txn, result, prv in answers:
            if first.setdefault(txn, prv) != prv:
                mismatched += 1
        expected = sum(amount_of(t) for t in txns)

        def after(root, conn):
            agent = root["payments"][AGENT]
            return agent.account.balance, sum(1 for t in txns if str(t) in agent.txns)
        agent_after, answered = with_root(env, after)
        print(f"subscribers in the database: {total_subs}")
        print(f"web processes: {args.web} x {args.threads} threads; terminal processes: "
              f"{args.clients}; requests: {len(answers)} ({len(answers) - args.payments} repeats)")
        print(f"wall time {elapsed:.1f} s: {len(answers) / elapsed:.0f} requests/s, "
              f"{args.payments / elapsed:.0f} distinct payments/s")
        print(f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms")
        print(f"CPU per request: web {cpu_web / len(answers) * 1000:.1f} ms, ZEO server "
              f"{cpu_zeo / len(answers) * 1000:.1f} ms (load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs during the run)")
        print(f"temporary answers repeated by the terminals: {repeats}")
        print(f"answers not OK: {len(bad)}; repeated txn_id with another prv_txn: {mismatched}")
        print(f"agent collected {agent_before - agent_after} of {expected} expected; "
              f"stored answers {answered}/{args.payments}")
        proc, took = env.portmonet("check", check=False)
        print(f"portmonet check ({took:.0f} s): {proc.stdout.strip().splitlines()[-1]}")
        ok = not bad and not mismatched and agent_before - agent_after == expected \
            and proc.returncode == 0
        print("RESULT:", "OK: none lost, none doubled" if ok else "FAILED")
        sys.exit(0 if ok else 1)
    finally:
        env.close()


if __name__ == "__main__":
    main()

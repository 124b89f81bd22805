"""Terminal (OSMP) payments per second through real waitress web processes
on loopback, over a real ZEO server; then ``portmonet check``.

    .venv/bin/python bench/payments_osmp.py --template-db /work/seed-1m/Data.fs \
        --payments 20000 --web 2 --threads 32 --clients 4 --conns 16

With --template-db the database is a fresh copy of a ready (seeded) one;
else it is kept in --dir (default bench/out/payments-osmp) and seeded up to
--subscribers once.  Each run pays with fresh txn ids to random
subscribers' accounts and re-sends a share of them (duplicates), then
proves that every payment landed exactly once.  --profile samples the
pserve processes with py-spy during the run.
"""
import argparse
import base64
import http.client
import multiprocessing
import os
import random
import re
import resource
import sys
import time
import urllib.parse

from ZODB.utils import p64, u64

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payments_env import prepare, Env, with_root  # noqa: E402
from portmonet.model.contract import account_number  # noqa: E402

AGENT, LOGIN, PASSWORD = "bench", "bench", "bench-password-1"


def amount_of(txn):
    return 100 + txn % 50_000          # minor units, 1.00 .. 500.99


def client(args):
    """One terminal network process: *conns* keep-alive connections, each in
    a thread of its own; returns the answers, latencies and repeats."""
    port, accounts, txns, dup_share, seed, conns = args
    import threading
    out = [None] * conns
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, terminal(
        (port, accounts, txns[i::conns], dup_share, seed * 1000 + i)))) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ([a for o in out for a in o[0]], [x for o in out for x in o[1]],
            sum(o[2] for o in out))


def _field(body, tag):
    """One element's text of the flat OSMP answer (a regex: the load
    generator shares the cores it measures, so it must be cheap)."""
    found = re.search(rb"<" + tag + rb">([^<]*)</" + tag + rb">", body)
    return found.group(1).decode() if found else None


def terminal(args):
    """One terminal: keep-alive HTTP, sends its payments one after another."""
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
            result, prv = _field(body, b"result"), _field(body, b"prv_txn")
            if result != "1":
                break
            temporary[0] += 1
            time.sleep(0.5)           # "temporary error": a terminal repeats later
        latencies.append(time.perf_counter() - started)
        answers.append((txn, result, prv))
    return answers, latencies, temporary[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20000)
    parser.add_argument("--template-db", help="copy this Data.fs (and its .index) first")
    parser.add_argument("--payments", type=int, default=5000, help="distinct payments")
    parser.add_argument("--clients", type=int, default=4, help="terminal processes")
    parser.add_argument("--conns", type=int, default=16,
                        help="concurrent terminals (connections) per terminal process")
    parser.add_argument("--web", type=int, default=2, help="web (pserve) processes")
    parser.add_argument("--threads", type=int, default=32, help="waitress threads per process")
    parser.add_argument("--cache", default="1GB", help="ZEO client cache per web process")
    parser.add_argument("--objects", type=int, default=100000,
                        help="object cache per connection (the committer's too)")
    parser.add_argument("--profile", action="store_true", help="py-spy the web processes")
    parser.add_argument("--skip-check", action="store_true",
                        help="no 'portmonet check' at the end (quick iterations only)")
    parser.add_argument("--duplicates", type=float, default=0.05,
                        help="share of payments sent a second time")
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "out",
                                                       "payments-osmp"))
    args = parser.parse_args()
    env = Env(args.dir, template=args.template_db, cache=args.cache, objects=args.objects)
    try:
        prepare(env, 0 if args.template_db else args.subscribers)
        if not with_root(env, lambda root, conn: AGENT in root["payments"]):
            env.portmonet("payments", "agent", "add", AGENT, "--protocol", "osmp",
                          "--allow", "127.0.0.1", "--login", LOGIN, "--password", PASSWORD)

        def sample(root, conn):
            # Seeded subscribers are 1..N with one contract each, so their
            # account numbers are known without loading them; a few are
            # looked up to make sure.
            total = len(root["subscribers"])
            rng = random.Random(7)
            picked = [account_number(rng.randint(1, total), 1)
                      for _ in range(min(total, 200_000))]
            for number in picked[:20]:
                assert root.catalog.accounts.get(number) is not None, number
            return (picked, root["payments"][AGENT].account.balance, total,
                    conn.db().lastTransaction())
        accounts, agent_before, total_subs, tid_before = with_root(env, sample)
        ports = env.start_web(args.web, args.threads, extra=[
            f"portmonet.payments.committer_cache = {args.objects}"])
        base = int(time.time()) * 1_000_000
        txns = list(range(base, base + args.payments))
        jobs = [(ports[i % len(ports)], accounts, txns[i::args.clients], args.duplicates, i,
                 args.conns) for i in range(args.clients)]
        if args.profile:
            env.profile(os.path.join(env.dir, "profile"))
        cpu_before = env.cpu()
        clients_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_before = os.getloadavg()
        started = time.perf_counter()
        with multiprocessing.Pool(args.clients) as pool:
            results = pool.map(client, jobs)
        elapsed = time.perf_counter() - started
        # The pool's terminal processes have been waited for: their CPU.
        clients_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_clients = (clients_after.ru_utime + clients_after.ru_stime
                       - clients_before.ru_utime - clients_before.ru_stime)
        load_after = os.getloadavg()
        cpu_web, cpu_zeo = (b - a for a, b in zip(cpu_before, env.cpu()))
        env.stop_profile()
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
            commits = sum(1 for t in conn.db().storage.iterator(p64(u64(tid_before) + 1))
                          if t.user == b"payments")
            return agent.account.balance, sum(1 for t in txns if str(t) in agent.txns), commits
        agent_after, answered, commits = with_root(env, after)
        def pct(p):
            return latencies[max(0, int(len(latencies) * p) - 1)] * 1000
        print(f"subscribers in the database: {total_subs}")
        print(f"web processes: {args.web} x {args.threads} threads; terminals: "
              f"{args.clients} processes x {args.conns} connections; requests: {len(answers)} "
              f"({len(answers) - args.payments} repeated txn_ids)")
        print(f"wall time {elapsed:.1f} s: {len(answers) / elapsed:.0f} requests/s, "
              f"{args.payments / elapsed:.0f} distinct payments/s")
        print(f"latency p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms")
        print(f"CPU per request: web {cpu_web / len(answers) * 1000:.2f} ms, ZEO server "
              f"{cpu_zeo / len(answers) * 1000:.2f} ms, terminals (load generator) "
              f"{cpu_clients / len(answers) * 1000:.2f} ms")
        print(f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, "
              f"on {os.cpu_count()} CPUs (shared machine)")
        print(f"group commits: {commits}, {len(answers) / max(commits, 1):.1f} requests per commit")
        print(f"temporary answers repeated by the terminals: {repeats}")
        print(f"answers not OK: {len(bad)}; repeated txn_id with another prv_txn: {mismatched}")
        print(f"agent collected {agent_before - agent_after} of {expected} expected; "
              f"stored answers {answered}/{args.payments}")
        ok = not bad and not mismatched and agent_before - agent_after == expected
        if args.skip_check:
            print("portmonet check skipped (--skip-check)")
        else:
            proc, took = env.portmonet("check", check=False)
            print(f"portmonet check ({took:.0f} s): {proc.stdout.strip().splitlines()[-1]}")
            ok = ok and proc.returncode == 0
        print("RESULT:", "OK: none lost, none doubled" if ok else "FAILED")
        sys.exit(0 if ok else 1)
    finally:
        env.close()


if __name__ == "__main__":
    main()

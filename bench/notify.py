"""Notifications: N letters rendered and delivered by a real ``portmonet
notify`` through ZEO to a local aiosmtpd, in a process of its own.

    .venv/bin/python bench/notify.py                  # 100,000 letters
    .venv/bin/python bench/notify.py --letters 10000

Prints letters/s and the time for the whole batch, and checks at the SMTP
server's side that every letter arrived once (no loss, no duplicate).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeo import BIN, PROJECT, BenchZeo, free_port  # noqa: E402


def sink_main(port, out):
    """The SMTP server process: counts letters by Message-ID; on SIGTERM
    writes the counts to *out*."""
    import threading
    from portmonet.notify import sink
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller, held = sink.start("127.0.0.1", port, reuse_port=True, keep=False)
    open(out + ".ready", "w").close()
    stop.wait()
    controller.stop()
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(out, "w") as f:
        json.dump({"received": held.received, "ids": list(held.ids.elements()),
                   "cpu": usage.ru_utime + usage.ru_stime}, f)


def build(zeo, letters, batch=5000):
    """Subscribers with an e-mail address, and a low-balance notice each."""
    import ZEO
    import transaction
    from portmonet.model.root import install
    from portmonet.model.subscriber import Subscriber
    db = ZEO.DB(("127.0.0.1", zeo.port), wait_timeout=60)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    root = install(conn.root())
    tm.commit()
    t = time.monotonic()
    for start in range(0, letters, batch):
        for n in range(start, min(start + batch, letters)):
            sid = 100_000 + n
            s = root["subscribers"].add_subscriber(
                Subscriber(f"Subscriber Number{n}", email=f"s{n}@example.net"), id=sid)
            s.notify_language = "en" if n % 2 else "ru"
            root.outbox.queue("mail", f"low-balance:{sid}:bench", {
                "event": "low-balance", "subscriber": sid, "contract": f"C{sid}",
                "balance": 12345, "days_left": 2, "currency": "RUB"})
        tm.commit()
        conn.cacheMinimize()
    print(f"built {letters} subscribers and notices in {time.monotonic() - t:.0f} s")
    conn.close()
    db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--connections", type=int, default=4, help="SMTP connections")
    ap.add_argument("--sinks", type=int, default=2, help="SMTP server processes")
    ap.add_argument("--sink", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sink:
        return sink_main(int(args.sink[0]), args.sink[1])
    folder = tempfile.mkdtemp(prefix="portmonet-bench-notify-")
    zeo = BenchZeo(folder).start()
    smtp_port = free_port()
    counts = [os.path.join(folder, f"sink{i}.json") for i in range(args.sinks)]
    sinks = [subprocess.Popen([sys.executable, __file__, "--sink", str(smtp_port), out])
             for out in counts]
    try:
        deadline = time.monotonic() + 60
        while not all(os.path.exists(out + ".ready") for out in counts):
            if time.monotonic() > deadline or any(p.poll() is not None for p in sinks):
                raise SystemExit("the SMTP sinks did not start")
            time.sleep(0.1)
        build(zeo, args.letters)
        with open(zeo.ini, "a") as f:
            f.write(f"notify.mail.port = {smtp_port}\nnotify.mail.from = billing@bench.example\n"
                    f"notify.batch = {args.batch}\nnotify.poll = 0.2\nnotify.quiet_hours =\n"
                    f"notify.mail.connections = {args.connections}\n"
                    f"notify.journal_dir = {folder}\nnotify.operator_name = Bench ISP\n")
        load = os.getloadavg()
        t = time.perf_counter()
        log = os.path.join(folder, "notify.log")
        with open(log, "w") as out:
            proc = subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "notify",
                                     "--channels", "mail", "--until-idle"], cwd=PROJECT,
                                    env=dict(os.environ, PYTHONWARNINGS="ignore"),
                                    stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        notifier_cpu = usage.ru_utime + usage.ru_stime
        with open(log) as f:
            output = f.read()
        if status:
            raise SystemExit(output)
    finally:
        for sink in sinks:
            sink.send_signal(signal.SIGTERM)
            sink.wait(60)
        zeo.stop()
    import collections
    received, ids, sink_cpu = 0, collections.Counter(), 0.0
    for out in counts:           # a letter sent again may reach the other sink: merge the ids
        with open(out) as f:
            held = json.load(f)
        received += held["received"]
        sink_cpu += held["cpu"]
        ids.update(held["ids"])
    got = {"received": received, "distinct": len(ids),
           "duplicates": sum(1 for n in ids.values() if n > 1)}
    print(output.strip())
    print(f"load average (1 min) before and after the run: {load[0]:.1f}, "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work shares the machine)")
    print(f"{args.letters} letters in {seconds:.1f} s: {args.letters / seconds:.0f} letters/s "
          f"(the process's whole life, start-up and the last idle check included); "
          f"received {got['received']}, distinct {got['distinct']}, "
          f"duplicates {got['duplicates']}")
    print(f"CPU: the notifier {notifier_cpu:.1f} s ({1e6 * notifier_cpu / args.letters:.0f} µs "
          f"a letter), the SMTP servers {sink_cpu:.1f} s "
          f"({1e6 * sink_cpu / args.letters:.0f} µs a letter)")
    ok = got["received"] == got["distinct"] == args.letters and not got["duplicates"]
    print("OK: none lost, none twice" if ok else "FAILED: lost or repeated letters")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

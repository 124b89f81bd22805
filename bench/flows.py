"""Flow collector figures: flows/s decoded + attributed + summed on one
core, for NetFlow v5, v9 and IPFIX, and the commit lag of a window.

    .venv/bin/python bench/flows.py --subscribers 100000 --active 100000

A throw-away ZEO server is seeded with ``--subscribers`` subscribers
(``portmonet seed``: each has a static address 10.x.y.z), traffic classes
are loaded, and packets made here carry flows between ``--active`` of
those addresses (plus 10% of unknown ones) and 50,000 remote addresses.
The packets go through ``Collector.handle`` -- the same code the process
runs for each datagram, minus the socket -- twice: the first pass finds
every address in the database (cold), the second from the collector's
cache (warm, what a running collector does within a window).  Then the
window is committed as the committer thread does (usage records + hourly
series) and timed.  With the ``netflow`` package installed (``pip install
-e .[bench]``) its decoding rate is printed for comparison.
"""
import argparse
import os
import random
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeo import BenchZeo  # noqa: E402

V9_FIELDS = [(8, 4), (12, 4), (21, 4), (22, 4), (1, 4), (2, 4), (10, 4), (14, 4),
             (4, 1), (5, 1), (7, 2), (11, 2), (6, 1)]          # softflowd's v9 data record
IPFIX_FIELDS = [(8, 4), (12, 4), (153, 8), (152, 8), (1, 8), (2, 8), (10, 4), (14, 4),
                (4, 1), (5, 1), (7, 2), (11, 2), (6, 1)]


def addresses(active, rng):
    inside = [(10 << 24) | (((i + 1) >> 16 & 255) << 16) | (((i + 1) >> 8 & 255) << 8)
              | ((i + 1) & 255) for i in range(active)]
    unknown = [(172 << 24) | (16 << 16) | rng.randrange(1 << 16) for _ in range(active // 10)]
    remote = [rng.randrange(1 << 24, 223 << 24) for _ in range(50_000)]
    return inside + unknown, remote


def flows(n, inside, remote, rng, now_ms):
    out = []
    for _ in range(n):
        a, b = rng.choice(inside), rng.choice(remote)
        if rng.random() < 0.5:
            a, b = b, a
        out.append((a, b, rng.randrange(64, 1_500_000), rng.randrange(1, 1000),
                    now_ms - rng.randrange(60_000)))
    return out


def v5_packets(records, now_ms):
    secs, uptime = now_ms // 1000, 1_000_000
    out = []
    for i in range(0, len(records), 30):
        chunk = records[i:i + 30]
        head = struct.pack("!HHIIIIBBH", 5, len(chunk), uptime, secs, 0, i, 0, 0, 0)
        out.append(head + b"".join(struct.pack(
            "!IIIHHIIIIHHxBBBHHBBxx", s, d, 0, 1, 2, p, o,
            uptime - (now_ms - t) - 1000, uptime - (now_ms - t), 1000, 80, 0, 6, 0, 0, 0, 0, 0)
            for s, d, o, p, t in chunk))
    return out


def _template(set_id, fields):
    body = struct.pack("!HH", 256, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def v9_packets(records, now_ms, per=34):
    secs, uptime = now_ms // 1000, 1_000_000
    out = []
    for n, i in enumerate(range(0, len(records), per)):
        body = b"".join(struct.pack("!IIIIIIIIBBHHB", s, d, uptime - (now_ms - t),
                                    uptime - (now_ms - t) - 1000, o, p, 1, 2, 6, 0, 1000, 80, 0)
                        for s, d, o, p, t in records[i:i + per])
        sets = (_template(0, V9_FIELDS) if n % 16 == 0 else b"") + \
            struct.pack("!HH", 256, 4 + len(body)) + body
        out.append(struct.pack("!HHIIII", 9, per, uptime, secs, n, 0) + sets)
    return out


def ipfix_packets(records, now_ms, per=27):
    out = []
    for n, i in enumerate(range(0, len(records), per)):
        body = b"".join(struct.pack("!IIQQQQIIBBHHB", s, d, t, t - 1000, o, p, 1, 2, 6, 0,
                                    1000, 80, 0) for s, d, o, p, t in records[i:i + per])
        sets = (_template(2, IPFIX_FIELDS) if n % 16 == 0 else b"") + \
            struct.pack("!HH", 256, 4 + len(body)) + body
        out.append(struct.pack("!HHIII", 10, 16 + len(sets), now_ms // 1000, n, 0) + sets)
    return out


def seed(db, count):
    from portmonet.ops.seed import seed as seed_subscribers
    from portmonet.db import connection
    with connection(db) as (conn, tm):
        seed_subscribers(conn, tm, count, batch=5000)


def setup(db):
    from portmonet.db import transact
    from portmonet.traffic.classes import parse
    from portmonet.traffic.model import Exporter, add_exporter

    def build(root):
        add_exporter(root, Exporter("bench", "192.0.2.1"))
        root["traffic"].classes.load(parse(
            "10.0.0.0/8 local\n100.64.0.0/10 local\n192.0.2.0/24 peering\n"
            "198.51.100.0/24 free\n203.0.113.0/24 peering\n"))
    transact(db, build, "bench", "exporter and classes")


def run_pass(collector, packets):
    handle, now = collector.handle, time.monotonic()
    collector.recent, collector.older = set(), set()
    started = time.process_time()
    for packet in packets:
        handle(packet, "192.0.2.1", now)
    return time.process_time() - started


def commit_lag(collector, name):
    """Seconds to commit the window's sums (as the committer thread does):
    the first time on a cold connection, then again (as the next window of
    the same subscribers would be) on the warm one."""
    window = collector.window
    item = (f"bench:{name}:{collector.instance}", window, {}, {"bench": ""})
    conn = collector.bench_conn
    started = time.monotonic()
    collector._commit(conn, conn.transaction_manager, *item)
    return time.monotonic() - started, len(window.sums)


def unique(packets, copies=40):
    """*copies* of *packets*, each with its own v5 sequence number."""
    out = []
    for n in range(copies):
        for i, packet in enumerate(packets):
            out.append(packet[:16] + struct.pack("!I", n * len(packets) + i) + packet[20:])
    return out


def kernel_drops(port):
    """The kernel's drop counter of the UDP socket bound to *port*."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                return int(fields[-1])
    return None


def udp_run(zeo, packets, per_packet, rate, seconds, window=5):
    """The real ``portmonet flows`` process fed over loopback at *rate*
    flows/s for *seconds*: (flows/s sent, packets sent, packets the
    collector read, kernel drops, seconds from the last packet to its
    window's commit)."""
    import signal
    import socket
    import subprocess
    from zeo import BIN, free_port
    port = free_port()
    ini = os.path.join(zeo.folder, "udp.ini")
    with open(zeo.ini) as f:
        base = f.read()
    with open(ini, "w") as f:
        f.write(base + f"flows.bind = 127.0.0.1\nflows.port = {port}\n"
                f"flows.window = {window}\n")
    log_path = os.path.join(zeo.folder, "udp-flows.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", ini, "flows"], stdout=log,
                            stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    try:
        deadline = time.time() + 120
        while "listening on" not in open(log_path).read():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(open(log_path).read())
            time.sleep(0.2)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        pps = rate / per_packet
        started, sent = time.monotonic(), 0
        while True:
            elapsed = time.monotonic() - started
            if elapsed >= seconds:
                break
            due = min(int(elapsed * pps) + 1, len(packets))
            while sent < due:
                sock.sendto(packets[sent % len(packets)], ("127.0.0.1", port))
                sent += 1
            time.sleep(0.002)
        took = time.monotonic() - started
        time.sleep(1)
        drops = kernel_drops(port)
        stop_sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(600)
        lag = time.monotonic() - stop_sent
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    text = open(log_path).read()
    import re
    read = re.search(r"packets=(\d+)", text)
    return sent * per_packet / took, sent, int(read.group(1)) if read else None, drops, lag


def decode_rate(packets):
    """Flows/s of Portmonet's decoder alone (no attribution, no sums)."""
    from portmonet.traffic.decode import Decoder
    decoder, n = Decoder(), 0
    started = time.process_time()
    for packet in packets:
        n += len(decoder.decode("bench", packet, 0)[0])
    return n / (time.process_time() - started)


def decode_only(count):
    """Both decoders on the same packets, no database."""
    rng = random.Random(1)
    inside, remote = addresses(100_000, rng)
    now_ms = int(time.time() * 1000)
    records = flows(count, inside, remote, rng, now_ms)
    print(f"decoding only, {count:,} flows: flows/s on one core")
    print(f"{'version':8} {'portmonet':>12} {'netflow pkg':>12}")
    for version, make in ((5, v5_packets), (9, v9_packets), (10, ipfix_packets)):
        packets = make(records, now_ms)
        other = netflow_rate(packets, version)
        other = "-" if other is None else other if isinstance(other, str) else f"{other:,.0f}"
        print(f"{'IPFIX' if version == 10 else f'v{version}':8} {decode_rate(packets):12,.0f} "
              f"{other:>12}")


def netflow_rate(packets, version):
    try:
        from netflow.ipfix import IPFIXExportPacket
        from netflow.v5 import V5ExportPacket
        from netflow.v9 import V9ExportPacket
    except ImportError:
        return None
    templates = {}
    started, n = time.process_time(), 0
    for packet in packets:
        try:
            if version == 5:
                n += len(V5ExportPacket(packet).flows)
            elif version == 9:
                n += len(V9ExportPacket(packet, templates).flows)
            else:
                n += len(IPFIXExportPacket(packet, templates).flows)
        except Exception:
            return "fails"
    return n / (time.process_time() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=100_000)
    parser.add_argument("--flows", type=int, default=300_000, help="flows per version")
    parser.add_argument("--folder", default=None)
    parser.add_argument("--span", default="60", help="flows.span: seconds per usage record")
    parser.add_argument("--udp", type=int, default=0, metavar="FLOWS_PER_S",
                        help="also feed the real process over UDP at this rate (v5)")
    parser.add_argument("--udp-seconds", type=int, default=20)
    parser.add_argument("--udp-window", type=int, default=5, help="its flows.window")
    parser.add_argument("--udp-only", action="store_true", help="skip the in-process passes")
    parser.add_argument("--decode-only", action="store_true",
                        help="only the decoders' rates (no database)")
    args = parser.parse_args()
    if args.decode_only:
        return decode_only(args.flows)
    active = min(args.active, args.subscribers)
    from portmonet import crypto
    from portmonet.traffic.collector import Collector
    crypto.configure(crypto.DEMO_KEY)
    folder = args.folder or tempfile.mkdtemp(prefix="bench-flows-")
    zeo = BenchZeo(folder)
    zeo.start()
    try:
        import ZEO
        from portmonet.model.root import install
        db = ZEO.DB(("127.0.0.1", zeo.port), cache_size=256 << 20, wait_timeout=60)
        db.setCacheSize(400_000)
        with db.transaction() as conn:
            install(conn.root())
        with db.transaction() as conn:
            have = len(conn.root()["portmonet"]["subscribers"])
        if have < args.subscribers:          # --folder of an earlier run: seeded already
            started = time.monotonic()
            seed(db, args.subscribers - have)
            print(f"seeded {args.subscribers - have:,} subscribers in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
            setup(db)
        rng = random.Random(1)
        inside, remote = addresses(active, rng)
        now_ms = int(time.time() * 1000)
        records = flows(args.flows, inside, remote, rng, now_ms)
        print(f"{args.flows:,} flows per version (ends within one minute), {active:,} active "
              f"subscriber addresses + {active // 10:,} unknown, {len(remote):,} remote "
              f"addresses, usage records of {args.span} s")
        print(f"{'version':8} {'cold flows/s':>13} {'warm flows/s':>13} {'µs/flow':>8} "
              f"{'sums':>8} {'commit s cold/warm':>19} {'warm sums/s':>11} {'netflow pkg flows/s':>20}")
        for version, make in ((5, v5_packets), (9, v9_packets), (10, ipfix_packets)):
            if args.udp_only:
                break
            packets = make(records, now_ms)
            collector = Collector(db, {"flows.bind": "127.0.0.1", "flows.port": "0",
                                       "flows.cache_size": "400000", "flows.span": args.span})
            collector.open()
            import transaction
            collector.bench_conn = db.open(transaction_manager=transaction.TransactionManager())
            try:
                cold = run_pass(collector, packets)
                warm = run_pass(collector, packets)
                lag, sums = commit_lag(collector, f"{version}-cold")
                warm_lag, _ = commit_lag(collector, f"{version}-warm")
            finally:
                collector.bench_conn.close()
                collector.close()
            other = netflow_rate(packets, version)
            other = "-" if other is None else other if isinstance(other, str) else f"{other:,.0f}"
            print(f"{'IPFIX' if version == 10 else f'v{version}':8} "
                  f"{args.flows / cold:13,.0f} {args.flows / warm:13,.0f} "
                  f"{warm / args.flows * 1e6:8.1f} {sums:8,} {f'{lag:.1f} / {warm_lag:.1f}':>19} "
                  f"{sums / warm_lag:11,.0f} {other:>20}", flush=True)
        if args.udp:
            from portmonet.db import transact
            from portmonet.traffic.model import Exporter, add_exporter

            def loopback(root):
                if "udp" not in root["traffic"].exporters:
                    add_exporter(root, Exporter("udp", "127.0.0.1"))
            transact(db, loopback, "bench", "loopback exporter")
            packets = v5_packets(records, now_ms)
            # each packet once within two windows (the collector drops a
            # datagram it saw before): vary the v5 sequence field
            copies = int(args.udp * args.udp_seconds / 30 / len(packets)) + 2
            rate, sent, read, drops, lag = udp_run(zeo, unique(packets, copies), 30, args.udp,
                                                   args.udp_seconds, args.udp_window)
            print(f"UDP v5 at {rate:,.0f} flows/s for {args.udp_seconds} s, windows of "
                  f"{args.udp_window} s: {sent:,} packets sent, "
                  f"{read if read is not None else '?':,} read by the collector, kernel drops "
                  f"{drops}, stop (last window committed) {lag:.1f} s after the last packet")
        db.close()
    finally:
        zeo.stop()


if __name__ == "__main__":
    main()

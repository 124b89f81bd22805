"""RADIUS load: Portmonet's ``portmonet radius`` against FreeRADIUS ``files``.

The same load generator (FreeRADIUS's ``radclient`` in parallel mode, ``-p``)
sends the same requests to both servers on loopback:

- Access-Requests (PAP, with Message-Authenticator), every one distinct,
  for ``--users`` logins that exist on both sides (Portmonet: subscribers
  with a contract, account, tariff with a rate limit and static IP;
  FreeRADIUS: the ``files`` module with the same passwords and replies);
- Accounting-Requests: a Start for each of ``--users`` sessions, then
  Interim-Updates with growing counters (Portmonet commits each one — a
  session update and a usage record — before it answers; FreeRADIUS writes
  each to a ``detail`` file, its usual accounting store).

A latency probe (pyrad, one request every few ms) runs beside each load to
give p50/p99 under load.  Portmonet's database holds ``--subscribers`` seeded
subscribers (``portmonet seed``) plus the bench users, on a real ZEO server.

    .venv/bin/python bench/radius_load.py --subscribers 20000 --users 5000 \\
        --requests 20000 --parallel 64 --processes 2

With ``--template-db PATH`` the database is a copy of a seeded Data.fs (e.g.
``/work/seed-1m/Data.fs``, made by ``portmonet seed --subscribers 1000000
--seed 1``) instead: the load uses ``--users`` of its seeded logins
(u0000001.., spread over the whole id range), whose passwords
``portmonet.ops.demo.people(1, 1, N)`` regenerates.

    .venv/bin/python bench/radius_load.py --template-db /work/seed-1m/Data.fs \\
        --users 100000 --requests 20000 --parallel 64 --clients 2 --processes 2

Prints requests/s for each side and the ratio.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path.insert(0, PROJECT)
sys.path.insert(0, os.path.join(PROJECT, "tests"))

from conftest import BIN, ZeoServer, run_portmonet  # noqa: E402
from tests.radius.freeradius import FreeRadius  # noqa: E402

SECRET = "bench-secret"
RADCLIENT = shutil.which("radclient")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Users:
    """The logins the load uses: made by the bench, or seeded ones."""

    def __init__(self, count):
        self.count = count
        self.logins = [f"bench{i:07d}" for i in range(count)]
        self.passwords = [f"pw-{i * 7919 % 1000003:07d}" for i in range(count)]
        self.ips = [f"10.{64 + i // 65536 % 64}.{i // 256 % 256}.{i % 256}" for i in range(count)]
        self.rate_limits = ["10M/20M"] * count

    @classmethod
    def seeded(cls, count, subscribers, seed=1):
        """*count* of the seeded logins u0000001..: every (subscribers/count)th
        one with a positive opening balance (the others would be debtors)."""
        from portmonet.ops.demo import TARIFFS, people
        internet = [name for name, _, kind, _ in TARIFFS if kind == "internet"]
        self = cls(0)
        stride = max(1, subscribers // count)
        for id, person in people(seed, 1, subscribers):
            if id % stride == 0 and person.balance > 0 and len(self.logins) < count:
                self.logins.append(person.login)
                self.passwords.append(person.password)
                self.ips.append(person.ip)
                self.rate_limits.append(SEEDED_RATES[internet[id % len(internet)]])
        self.count = len(self.logins)
        return self


# The demo plans' speeds: today's demo tariffs carry them; the bench gives
# them to the plain tariffs of older seeds, and to FreeRADIUS's users.
from portmonet.ops.demo import SPEEDS as SEEDED_RATES  # noqa: E402
USERS = Users(0)


def login(i):
    return USERS.logins[i]


def password(i):
    return USERS.passwords[i]


def ip(i):
    return USERS.ips[i]


# -- the Portmonet side -----------------------------------------------------

def copy_template(template, tmp):
    """Copy a seeded Data.fs (and its index, if it has one) for the ZEO server."""
    t = time.time()
    shutil.copyfile(template, os.path.join(tmp, "Data.fs"))
    index = template + ".index"
    if os.path.exists(index) and os.path.getmtime(index) >= os.path.getmtime(template) - 1:
        shutil.copyfile(index, os.path.join(tmp, "Data.fs.index"))
    return time.time() - t


def prepare_template(zeo, ini, users):
    """On the copy: evolve, register the NAS, give the demo tariffs their
    rate limits and the bench users room for the sessions the load opens."""
    t = time.time()
    run_portmonet("evolve", ini=ini, timeout=3600)
    from portmonet import crypto
    from portmonet.db import transact
    from portmonet.radius.nas import Nas, add_nas
    crypto.configure(crypto.DEMO_KEY)
    db = zeo.open_db()

    def setup(root):
        add_nas(root, Nas("bench-nas", "127.0.0.1", SECRET, "mikrotik"))
        for name, rate in SEEDED_RATES.items():
            tariff = root["tariffs"][name]
            if not tariff.rate_limit:       # a plain tariff of an older seed
                tariff.rate_limit = rate

    transact(db, setup, "bench", "NAS and tariff speeds")
    for lo in range(0, users.count, 5000):
        def allow(root, lo=lo):
            logins = root.catalog.logins
            for i in range(lo, min(lo + 5000, users.count)):
                # The load re-authenticates logins whose sessions are open.
                logins.get(users.logins[i]).max_sessions = 1000
        transact(db, allow, "bench", f"bench users from {lo}")
    db.close()
    return time.time() - t


def build_database(zeo, ini, subscribers, users):
    """A new database: seeded subscribers plus *users* bench users."""
    t = time.time()
    run_portmonet("init", ini=ini, timeout=3600)
    if subscribers:
        run_portmonet("seed", "--subscribers", str(subscribers), ini=ini, timeout=24 * 3600)
    seeded = time.time() - t
    from portmonet import crypto
    from portmonet.db import transact
    from portmonet.model.services import InternetService
    from portmonet.model.simple import Tariff
    from portmonet.model.subscriber import Subscriber
    from portmonet.radius.nas import Nas, add_nas
    crypto.configure(crypto.DEMO_KEY)
    db = zeo.open_db()

    def setup(root):
        add_nas(root, Nas("bench-nas", "127.0.0.1", SECRET, "mikrotik"))
        tariff = root["tariffs"].add("bench", Tariff("bench", "Bench 20M"))
        tariff.rate_limit = "10M/20M"

    transact(db, setup, "bench", "NAS and tariff")
    for lo in range(0, users, 2000):
        def add(root, lo=lo):
            tariff = root["tariffs"]["bench"]
            for i in range(lo, min(lo + 2000, users)):
                sub = root["subscribers"].add_subscriber(Subscriber(f"Bench User {i}"))
                contract = sub.new_contract()
                service = InternetService(login(i), password(i), ip(i), tariff=tariff)
                # The load re-authenticates logins whose sessions are open.
                service.max_sessions = 1000
                contract.add_service(service)
                contract.account.post(100000, "payment", f"bench:{i}")
        transact(db, add, "bench", f"bench users from {lo}")
    db.close()
    return seeded, time.time() - t


def start_portmonet(ini, processes):
    """The first process takes accounting and the outbox; the others only
    authorize (one accounting writer: see docs/radius.md)."""
    procs = []
    with open(ini) as f:
        text = f.read()
    for n in range(processes):
        path = ini
        if n:
            path = f"{ini}.{n}.ini"
            with open(path, "w") as f:
                f.write(text.rstrip("\n") + "\nradius.accounting = false\nradius.send_coa = false\n")
        log = open(f"{ini}.{n}.log", "w+")
        procs.append((subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", path, "radius"],
                                       stdout=log, stderr=subprocess.STDOUT), log))
    deadline = time.time() + 60
    for proc, log in procs:
        while "portmonet radius: auth on" not in open(log.name).read():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(open(log.name).read())
            time.sleep(0.1)
    return procs


def stop_portmonet(procs):
    for proc, log in procs:
        proc.terminate()
    for proc, log in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        stopped = [line for line in log.read().splitlines() if "radius: stopped" in line]
        print(f"  portmonet process {proc.pid}: {stopped[-1].split('stopped ')[-1] if stopped else '?'}")
        log.close()


# -- the load ---------------------------------------------------------------

def write_file(path, packets):
    with open(path, "w") as f:
        f.write("\n".join(packets))


def auth_packets(users, requests):
    return [f'User-Name = "{login(i % users)}"\nUser-Password = "{password(i % users)}"\n'
            f"NAS-IP-Address = 127.0.0.1\nMessage-Authenticator = 0x00\n"
            for i in range(requests)]


def acct_packets(users, requests, status, round_no=1):
    out = []
    for i in range(requests):
        u = i % users
        r = round_no + i // users
        lines = [f"Acct-Status-Type = {status}", f'User-Name = "{login(u)}"',
                 f'Acct-Session-Id = "b{u:07d}"', "NAS-IP-Address = 127.0.0.1",
                 f"Framed-IP-Address = {ip(u)}"]
        if status != "Start":
            lines += [f"Acct-Input-Octets = {r * 1_000_000}", f"Acct-Output-Octets = {r * 5_000_000}",
                      f"Acct-Session-Time = {r * 60}"]
        out.append("\n".join(lines) + "\n")
    return out


CLIENTS = 1


def radclient_run(path, port, command, parallel, clients=None, split=True):
    """Run *clients* radclients at once, each on its share of the packets in
    *path* (or each on all of them); returns (seconds, summed summary)."""
    clients = clients or CLIENTS
    with open(path) as f:
        packets = f.read().split("\n\n")
    paths = []
    for n in range(clients):
        part = f"{path}.{n}"
        share = packets[n::clients] if split else packets
        write_file(part, [p.strip() + "\n" for p in share if p.strip()])
        paths.append(part)
    t = time.perf_counter()
    procs = [subprocess.Popen([RADCLIENT, "-q", "-s", "-p", str(parallel), "-r", "3", "-t", "3",
                               "-f", part, f"127.0.0.1:{port}", command, SECRET],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=os.path.dirname(path))
             for part in paths]
    outputs = [proc.communicate(timeout=1800)[0] for proc in procs]
    elapsed = time.perf_counter() - t
    summary = {}
    for text in outputs:
        for line in text.splitlines():
            key, _, value = line.strip().partition(":")
            if value.strip().isdigit() and key.strip() in ("Accepted", "Rejected", "Lost"):
                summary[key.strip()] = summary.get(key.strip(), 0) + int(value)
    return elapsed, summary


class Probe:
    """Sends one request every *interval* s while the load runs; latencies in ms."""

    def __init__(self, port, kind, users, interval=0.005):
        self.port, self.kind, self.users, self.interval = port, kind, users, interval
        self.latencies = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        from pyrad.packet import AcctPacket, AuthPacket
        from portmonet.radius import dictionary
        d = dictionary()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            n = 0
            while not self._stop.is_set():
                n += 1
                u = n % self.users
                if self.kind == "auth":
                    pkt = AuthPacket(secret=SECRET.encode(), dict=d, User_Name=login(u))
                    pkt["User-Password"] = pkt.PwCrypt(password(u))
                    pkt.add_message_authenticator()
                else:
                    pkt = AcctPacket(secret=SECRET.encode(), dict=d, User_Name=login(u))
                    pkt["Acct-Status-Type"] = "Interim-Update"
                    pkt["Acct-Session-Id"] = f"probe{u:07d}"
                    pkt["Acct-Input-Octets"] = n
                pkt.id = n % 256
                raw = pkt.RequestPacket()
                t = time.perf_counter()
                s.sendto(raw, ("127.0.0.1", self.port))
                try:
                    while True:
                        data, _ = s.recvfrom(4096)
                        if data[1] == pkt.id:
                            break
                    self.latencies.append((time.perf_counter() - t) * 1000)
                except socket.timeout:
                    self.latencies.append(2000.0)
                time.sleep(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join(5)

    def summary(self):
        if len(self.latencies) < 2:
            return "n/a"
        q = statistics.quantiles(self.latencies, n=100)
        return f"p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms ({len(self.latencies)} probes)"


def run_auth(label, port, users, requests, parallel, tmp):
    path = os.path.join(tmp, f"auth-{label}.txt")
    write_file(path, auth_packets(users, requests))
    with Probe(port, "auth", users) as probe:
        elapsed, summary = radclient_run(path, port, "auth", parallel)
    return requests / elapsed, summary, probe.summary()


def run_acct(label, port, users, requests, parallel, tmp, round_no):
    path = os.path.join(tmp, f"interim-{label}.txt")
    write_file(path, acct_packets(users, requests, "Interim-Update", round_no))
    with Probe(port, "acct", users) as probe:
        elapsed, summary = radclient_run(path, port, "acct", parallel)
    return requests / elapsed, summary, probe.summary()


def run_start(label, port, users, parallel, tmp):
    path = os.path.join(tmp, f"start-{label}.txt")
    write_file(path, acct_packets(users, users, "Start"))
    elapsed, summary = radclient_run(path, port, "acct", parallel)
    return users / elapsed, summary, ""


def compare(sides, users, requests, parallel, rounds, tmp):
    """Alternate the two servers round by round (the machine's load moves
    under us), keep every figure, report the median per side."""
    results = {label: {"auth": [], "acct-start": [], "acct-interim": []} for label in sides}
    for label, (auth_port, acct_port) in sides.items():
        results[label]["acct-start"].append(run_start(label, acct_port, users, parallel, tmp))
        print(f"  {label:10s} acct-start   {results[label]['acct-start'][-1][0]:8.0f} req/s "
              f"{results[label]['acct-start'][-1][1]} load {os.getloadavg()[0]:.1f}", flush=True)
    for r in range(rounds):
        for label, (auth_port, acct_port) in sides.items():
            got = run_auth(label, auth_port, users, requests, parallel, tmp)
            results[label]["auth"].append(got)
            print(f"  round {r + 1} {label:10s} auth         {got[0]:8.0f} req/s {got[1]} {got[2]} "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
        for label, (auth_port, acct_port) in sides.items():
            # Interims carry counters that grow by round: new traffic each time.
            got = run_acct(label, acct_port, users, requests, parallel, tmp,
                           1 + r * (requests // users + 1))
            results[label]["acct-interim"].append(got)
            print(f"  round {r + 1} {label:10s} acct-interim {got[0]:8.0f} req/s {got[1]} {got[2]} "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=20000,
                        help="seeded subscribers in Portmonet's database (besides --users)")
    parser.add_argument("--users", type=int, default=5000, help="logins the load uses")
    parser.add_argument("--requests", type=int, default=20000, help="requests per measurement")
    parser.add_argument("--parallel", type=int, default=64, help="radclient -p")
    parser.add_argument("--clients", type=int, default=1,
                        help="radclient processes at once (each -p --parallel)")
    parser.add_argument("--processes", type=int, default=1,
                        help="portmonet radius processes sharing the ports (SO_REUSEPORT)")
    parser.add_argument("--batch", type=int, default=200, help="radius.batch")
    parser.add_argument("--threads", type=int, default=4, help="FreeRADIUS worker threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side")
    parser.add_argument("--tmp", default=None, help="where the bench's files go (the "
                        "database copy: several GB with --template-db)")
    parser.add_argument("--template-db", metavar="PATH",
                        help="copy this seeded Data.fs instead of building a database "
                             "(--subscribers is then how many it holds)")
    args = parser.parse_args()
    global CLIENTS
    CLIENTS = args.clients
    if RADCLIENT is None:
        sys.exit("radclient not found: apt-get install -y freeradius-utils freeradius")
    global USERS
    if args.template_db:
        USERS = Users.seeded(args.users, args.subscribers)
    else:
        USERS = Users(args.users)
    args.users = USERS.count
    tmp = tempfile.mkdtemp(prefix="portmonet-bench-radius-", dir=args.tmp)
    print(f"{args.clients} x radclient -p {args.parallel}; {args.requests} requests per run; {args.users} users; "
          f"{args.subscribers} seeded subscribers; {args.processes} portmonet radius process(es); "
          f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    if args.template_db:
        print(f"copied {args.template_db} in {copy_template(args.template_db, tmp):.0f} s",
              flush=True)
    zeo = ZeoServer(tmp)
    try:
        auth_port, acct_port = free_udp_port(), free_udp_port()
        ini = zeo.ini(os.path.join(tmp, "bench.ini"), radius_bind="127.0.0.1",
                      radius_auth_port=auth_port, radius_acct_port=acct_port,
                      radius_reuse_port="true", radius_batch=args.batch,
                      radius_cache_size=max(100000, args.users * 12))
        if args.template_db:
            print(f"template prepared in {prepare_template(zeo, ini, USERS):.0f} s", flush=True)
        else:
            seeded, built = build_database(zeo, ini, args.subscribers, args.users)
            print(f"database built in {built:.0f} s (seeding {seeded:.0f} s)", flush=True)
        # The same reply Portmonet gives: Service-Type, Framed-Protocol, the
        # static address, the tariff's speed, the interim interval.
        users = [(login(i), password(i), ["Service-Type = Framed-User",
                                          "Framed-Protocol = PPP",
                                          f"Framed-IP-Address = {ip(i)}",
                                          f'Mikrotik-Rate-Limit = "{USERS.rate_limits[i]}"',
                                          "Acct-Interim-Interval = 300"])
                 for i in range(args.users)]
        procs = start_portmonet(ini, args.processes)
        fr = FreeRadius(SECRET, users=users, threads=args.threads, detail=True)
        try:
            # Warm the caches once (as a running server would be), then measure.
            # SO_REUSEPORT picks the process by the client's source port: send
            # every login from several clients so that each process has
            # every login in its cache (as after some minutes of service).
            write_file(os.path.join(tmp, "warm.txt"), auth_packets(args.users, args.users))
            radclient_run(os.path.join(tmp, "warm.txt"), auth_port, "auth", args.parallel,
                          clients=4 * args.processes, split=False)
            sides = {"portmonet": (auth_port, acct_port),
                     "freeradius": (fr.auth_port, fr.acct_port)}
            results = compare(sides, args.users, args.requests, args.parallel, args.rounds, tmp)
        finally:
            fr.stop()
            stop_portmonet(procs)
    finally:
        zeo.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"median requests/s (portmonet / freeradius = ratio); load average now "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}:")
    for kind in ("auth", "acct-start", "acct-interim"):
        ours = statistics.median(x[0] for x in results["portmonet"][kind])
        theirs = statistics.median(x[0] for x in results["freeradius"][kind])
        print(f"  {kind:13s} {ours:8.0f} / {theirs:8.0f} = {ours / theirs:6.1%}")
    for kind in ("auth", "acct-interim"):
        for label in results:
            print(f"  latency {label:10s} {kind:13s} last round: {results[label][kind][-1][2]}")


if __name__ == "__main__":
    main()

"""Load on the web process: requests per second and latency percentiles of
search, the subscriber's card and the office home page, with N concurrent
clients, through waitress (``pserve``) on loopback on a real ZEO server.

    .venv/bin/python bench/web_load.py --subscribers 100000 --clients 20 --seconds 20
    .venv/bin/python bench/web_load.py --template-db /work/seed-1m/Data.fs \
        --subscribers 1000000 --workdir /tmp/pm-web-1m --processes 2 --cleanup

It starts ``runzeo`` on a FileStorage in --workdir (kept, so a second run with
the same --workdir and size skips seeding; --template-db copies a database
seeded by ``portmonet seed --seed 1`` there first, never opening the
original), seeds what is missing with ``portmonet seed``, adds a staff user, starts ``pserve`` and drives it with
client threads (each its own keep-alive connection and session).  The load
generator runs on the same machine and takes CPU from the server: the
figures are a floor, not a ceiling.
"""
import argparse
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.join(PROJECT, "src"))

from portmonet import crypto  # noqa: E402

STAFF_PASSWORD = "bench password 1"


from zeo import free_port, wait_port  # noqa: E402


class Client:
    """One browser-like client: a keep-alive connection and a cookie."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}

    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        res = self.conn.getresponse()
        data = res.read()
        for header in res.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return res.status, data.decode("utf-8", "replace")

    def form_post(self, form_path, post_path, fields):
        status, page = self.request("GET", form_path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.request("POST", post_path, dict(fields, csrf_token=token))


def copy_template(template, workdir):
    """A private copy of a seeded database: the template stays untouched
    (a ZEO server opening it would append and lock it)."""
    t0 = time.time()
    for suffix in ("", ".index"):
        src = template + suffix
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(workdir, "Data.fs" + suffix))
    print(f"copied {template} ({os.path.getsize(template) / 1e9:.2f} GB) in "
          f"{time.time() - t0:.0f}s", flush=True)


def chameleon_cache(workdir):
    path = os.path.join(workdir, "chameleon-cache")
    os.makedirs(path, exist_ok=True)
    return path


def remove_database(workdir):
    for name in os.listdir(workdir):
        if name.startswith("Data.fs"):
            os.remove(os.path.join(workdir, name))


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def run_scenario(name, clients, make_path, seconds):
    latencies, errors = [], []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(client, rng):
        mine, bad = [], 0
        while time.time() < stop:
            path = make_path(client, rng)
            t0 = time.perf_counter()
            status, _ = client.request("GET", path)
            mine.append(time.perf_counter() - t0)
            if status != 200:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors.append(bad)

    threads = [threading.Thread(target=worker, args=(c, random.Random(i)))
               for i, c in enumerate(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    n = len(latencies)
    print(f"{name:14s} requests={n:6d} errors={sum(errors):4d} req/s={n / elapsed:7.1f} "
          f"p50={percentile(latencies, 50) * 1000:6.1f}ms p95={percentile(latencies, 95) * 1000:6.1f}ms "
          f"p99={percentile(latencies, 99) * 1000:6.1f}ms "
          "load avg={:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)


def make_sample(subscribers, size):
    """The seeded people (``portmonet seed --seed 1``, ids from 1) of *size*
    ids spread evenly over all of them, so the pages read all over the
    database, not a corner that stays in the caches."""
    from portmonet.ops.demo import people
    step = max(1, subscribers // size)
    sample = {sid: p for sid, p in people(1, 1, subscribers) if sid % step == 0}
    surnames = sorted({p.name.split()[0][:4] for p in sample.values()})
    return sample, list(sample), surnames


def paths(sample, ids, surnames):
    def search_path(client, rng):
        sid = rng.choice(ids)
        kind = rng.randrange(5)
        q = (sample[sid].login, rng.choice(surnames), sample[sid].phone, f"{sid}-1",
             sample[sid].email)[kind]
        return "/search?" + urllib.parse.urlencode({"q": q})

    def card_path(client, rng):
        return f"/subscribers/{rng.choice(ids)}/"

    def office_path(client, rng):
        return f"/subscribers/{client.sid}/@@office"

    return search_path, card_path, office_path


def profile(ini, args, sample, ids, surnames):
    """Each page N times in this process, one thread, under cProfile: where
    a request's time goes (the figures of the load are end to end)."""
    import cProfile
    import pstats
    import webtest
    from pyramid.paster import get_app
    app = get_app(ini, "main")
    staff = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    page = staff.get("/@@login")
    form = page.forms["form"]
    form["login"], form["password"] = f"bench-{args.role}", STAFF_PASSWORD
    form.submit(status=302)
    office = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.2"})
    sid = ids[len(ids) // 2]
    form = office.get("/@@office-login").forms["form"]
    form["identifier"], form["password"] = sample[sid].login, sample[sid].password
    form.submit(status=302)
    office.sid = sid
    search_path, card_path, office_path = paths(sample, ids, surnames)
    rng = random.Random(7)
    for name, client, make in (("search", staff, search_path), ("card", staff, card_path),
                               ("office home", office, office_path)):
        for _ in range(5):                                  # warm the code paths
            client.get(make(client, rng))
        times = []
        prof = cProfile.Profile()
        for _ in range(args.profile):
            path = make(client, rng)
            t0 = time.perf_counter()
            prof.enable()
            client.get(path)
            prof.disable()
            times.append(time.perf_counter() - t0)
        print(f"{name:14s} n={len(times)} p50={percentile(times, 50) * 1000:6.1f}ms "
              f"p95={percentile(times, 95) * 1000:6.1f}ms (in process, one thread)", flush=True)
        stats = pstats.Stats(prof)
        stats.sort_stats("tottime").print_stats(18)
        stats.sort_stats("cumulative").print_stats("portmonet", 18)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--threads", type=int, default=8, help="waitress threads")
    ap.add_argument("--processes", type=int, default=1,
                    help="web processes (each its own port; clients spread over them)")
    ap.add_argument("--role", default="cashier", help="the staff role of the clients")
    ap.add_argument("--workdir", default="/tmp/portmonet-web-bench")
    ap.add_argument("--template-db", metavar="PATH",
                    help="copy this Data.fs (and its .index) into --workdir first")
    ap.add_argument("--sample", type=int, default=20000,
                    help="subscribers the clients pick from, spread evenly over all ids")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="instead of the load: N requests of each page in this process "
                         "(the app pserve serves, one thread) under cProfile")
    ap.add_argument("--cleanup", action="store_true",
                    help="delete --workdir's database when done (disk is shared)")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    if args.template_db:
        copy_template(args.template_db, args.workdir)
    zport = free_port()
    wports = [free_port() for _ in range(args.processes)]
    conf = os.path.join(args.workdir, "zeo.conf")
    with open(conf, "w") as f:
        f.write(f"<zeo>\n  address 127.0.0.1:{zport}\n</zeo>\n"
                f"<filestorage>\n  path {args.workdir}/Data.fs\n</filestorage>\n")
    ini = os.path.join(args.workdir, "bench.ini")
    template = f"""[app:main]
use = egg:portmonet
zodbconn.uri = zeo://127.0.0.1:{zport}?cache_size=512MB&connection_cache_size=100000&wait_timeout=60
portmonet.secret_keys = {crypto.DEMO_KEY}
portmonet.evolve_on_start = true
portmonet.cookie_secure = false
portmonet.login_throttle = 1000

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:WEB_PORT
threads = {args.threads}
connection_limit = 200

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""
    inis = []
    for n, port in enumerate([wports[0]] + wports):
        path = ini if n == 0 else os.path.join(args.workdir, f"bench-{n}.ini")
        with open(path, "w") as f:
            f.write(template.replace("WEB_PORT", str(port)))
        if n:
            inis.append(path)
    procs = []
    try:
        zeo = subprocess.Popen([os.path.join(BIN, "runzeo"), "-C", conf],
                               stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(args.workdir, "zeo.log"), "w"))
        procs.append(zeo)
        wait_port(zport, zeo, "runzeo", deadline=600)     # a big index on a busy machine
        portmonet = [os.path.join(BIN, "portmonet"), "-c", ini]
        subprocess.run(portmonet + ["init"], check=True, capture_output=True)
        have = int(subprocess.run(
            [sys.executable, "-c", "import sys; from portmonet import db; from portmonet.cli import app_root;"
             f"s=db.load_settings({ini!r}); db.configure(s); d=db.open_database(s);"
             "c=d.open(); print(len(app_root(c)['subscribers']))"],
            check=True, capture_output=True, text=True).stdout.split()[-1])
        if have < args.subscribers:
            t0 = time.time()
            subprocess.run(portmonet + ["seed", "--subscribers", str(args.subscribers - have)],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"seeded {args.subscribers - have} subscribers in {time.time() - t0:.0f}s", flush=True)
        subprocess.run(portmonet + ["staff", "add", f"bench-{args.role}", "--role", args.role,
                                    "--password", STAFF_PASSWORD], capture_output=True)
        sample, ids, surnames = make_sample(args.subscribers, args.sample)
        if args.profile:
            profile(ini, args, sample, ids, surnames)
            return
        for n, (path, port) in enumerate(zip(inis, wports)):
            # Compiled templates kept on disk, as a deployment does
            # (CHAMELEON_CACHE): else each process compiles them at its
            # first requests.
            env = dict(os.environ, CHAMELEON_CACHE=chameleon_cache(args.workdir))
            web = subprocess.Popen([os.path.join(BIN, "pserve"), path], cwd=args.workdir, env=env,
                                   stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(args.workdir, f"web-{n}.log"), "w"))
            procs.append(web)
            wait_port(port, web, "pserve", deadline=60)

        staff = []
        for i in range(args.clients):
            c = Client(wports[i % len(wports)])
            status, _ = c.form_post("/@@login", "/@@login",
                                    {"login": f"bench-{args.role}", "password": STAFF_PASSWORD})
            assert status == 302, status
            staff.append(c)
        office = []
        for i in range(args.clients):
            sid = ids[i * 7 % len(ids)]
            c = Client(wports[i % len(wports)])
            status, _ = c.form_post("/@@office-login", "/@@office-login",
                                    {"identifier": sample[sid].login, "password": sample[sid].password})
            assert status == 302, status
            c.sid = sid
            office.append(c)

        search_path, card_path, office_path = paths(sample, ids, surnames)

        print(f"subscribers={args.subscribers} clients={args.clients} web processes={args.processes} "
              f"waitress threads={args.threads} "
              f"role={args.role} seconds={args.seconds}", flush=True)
        # The first requests compile the templates and read the indexes'
        # inner nodes, which a server that has been running holds in its
        # caches: not part of the figures.
        run_scenario("warm-up", staff, search_path, min(15, args.seconds))
        run_scenario("warm-up", staff, card_path, min(5, args.seconds))
        run_scenario("warm-up", office, office_path, min(3, args.seconds))
        run_scenario("search", staff, search_path, args.seconds)
        run_scenario("card", staff, card_path, args.seconds)
        run_scenario("office home", office, office_path, args.seconds)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if args.cleanup:
            remove_database(args.workdir)


if __name__ == "__main__":
    main()

"""Shared by the payments benches: a real ZEO server, an ini, the CLI, pserve."""
import os
import signal
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
from zeo import DEMO_KEY, free_port, wait_port  # noqa: E402,F401  (the benches' one copy)


def cpu_seconds(pid):
    """User + system CPU time a process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_template(template, folder):
    """Start from a copy of a ready database (never opened in place)."""
    import shutil
    started = time.time()
    for suffix in ("", ".index"):
        target = os.path.join(folder, "Data.fs" + suffix)
        if os.path.exists(target):
            os.remove(target)
        if os.path.exists(template + suffix):
            shutil.copyfile(template + suffix, target)
    print(f"copied {template} ({os.path.getsize(template) / 1e9:.1f} GB) "
          f"in {time.time() - started:.0f} s")


class Env:
    def __init__(self, folder, template=None, cache="256MB", objects=20000):
        self.dir = os.path.abspath(folder)
        os.makedirs(self.dir, exist_ok=True)
        if template:
            copy_template(os.path.abspath(template), self.dir)
        self.cache, self.objects = cache, objects
        self.port = free_port()
        conf = os.path.join(self.dir, "zeo.conf")
        with open(conf, "w") as f:
            f.write(f"<zeo>\n  address 127.0.0.1:{self.port}\n</zeo>\n"
                    f"<filestorage>\n  path {self.dir}/Data.fs\n</filestorage>\n")
        self.zeo = subprocess.Popen([os.path.join(BIN, "runzeo"), "-C", conf],
                                    stdout=open(os.path.join(self.dir, "zeo.log"), "a"),
                                    stderr=subprocess.STDOUT)
        # A copied 1M database without its index takes minutes to open.
        wait_port(self.port, self.zeo, "ZEO", deadline=900)
        self.webs = []

    def ini(self, name="bench.ini", web_port=None, threads=8, extra=()):
        path = os.path.join(self.dir, name)
        # A pool smaller than waitress's threads (+1 for the payments
        # committer) throws connections, and their warm caches, away.
        uri = (f"zeo://127.0.0.1:{self.port}?cache_size={self.cache}"
               f"&connection_cache_size={self.objects}&connection_pool_size={threads + 4}"
               f"&wait_timeout=60")
        text = ["[app:main]", "use = egg:portmonet", f"zodbconn.uri = {uri}",
                f"portmonet.secret_keys = {DEMO_KEY}", "portmonet.evolve_on_start = true"]
        text += list(extra)
        if web_port:
            text += ["", "[server:main]", "use = egg:waitress#main",
                     f"listen = 127.0.0.1:{web_port}", f"threads = {threads}",
                     "connection_limit = 1000", "channel_timeout = 300"]
        with open(path, "w") as f:
            f.write("\n".join(text) + "\n")
        return path

    def portmonet(self, *args, check=True, profile=None):
        """Run the real CLI (under cProfile into *profile*, if given)."""
        started = time.time()
        prefix = [sys.executable, "-m", "cProfile", "-o", profile] if profile else []
        proc = subprocess.run(prefix + [os.path.join(BIN, "portmonet"), "-c", self.ini()]
                              + list(args),
                              capture_output=True, text=True,
                              env=dict(os.environ, PYTHONWARNINGS="ignore"))
        if check and proc.returncode != 0:
            raise RuntimeError(f"portmonet {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc, time.time() - started

    def start_web(self, count, threads, extra=()):
        ports = []
        for i in range(count):
            port = free_port()
            ini = self.ini(f"web{i}.ini", port, threads, extra)
            cmd = [os.path.join(BIN, "pserve"), ini]
            proc = subprocess.Popen(cmd,
                                    stdout=subprocess.DEVNULL,
                                    stderr=open(os.path.join(self.dir, f"web{i}.log"), "w"))
            self.webs.append(proc)
            ports.append(port)
        for port, proc in zip(ports, self.webs):
            wait_port(port, proc, "web")
        return ports

    def profile(self, prefix):
        """Sample the running pserve processes with py-spy (if installed)
        until :meth:`stop_profile`; collapsed stacks in ``<prefix>.<i>.txt``."""
        spy = os.path.join(BIN, "py-spy")
        self.spies = [subprocess.Popen([spy, "record", "--format", "raw", "--rate", "200", "--gil",
                                        "--nonblocking", "-o", f"{prefix}.{i}.txt",
                                        "-p", str(proc.pid)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for i, proc in enumerate(self.webs)]

    def stop_profile(self):
        for spy in getattr(self, "spies", ()):
            spy.send_signal(signal.SIGINT)
        for spy in getattr(self, "spies", ()):
            spy.wait(60)
        self.spies = []

    def cpu(self):
        """(web processes, ZEO server) CPU seconds used so far."""
        return sum(cpu_seconds(p.pid) for p in self.webs), cpu_seconds(self.zeo.pid)

    def stop_web(self):
        for proc in self.webs:
            proc.terminate()
        for proc in self.webs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.webs = []

    def close(self):
        self.stop_web()
        self.zeo.terminate()
        self.zeo.wait(30)


def with_root(env, func):
    """func(root) on a client of the bench's ZEO server (read-only use)."""
    import ZEO
    from portmonet import crypto
    from portmonet.model.root import get_root
    crypto.configure(DEMO_KEY)
    db = ZEO.DB(("127.0.0.1", env.port), wait_timeout=60)
    try:
        with db.transaction() as conn:
            return func(get_root(conn.root()), conn)
    finally:
        db.close()


def prepare(env, subscribers):
    """An initialised database with at least *subscribers* (kept between runs)."""
    env.portmonet("init")
    have = with_root(env, lambda root, conn: len(root["subscribers"]))
    if have < subscribers:
        _, took = env.portmonet("seed", "--subscribers", str(subscribers - have),
                                "--seed", str(have + 1))
        print(f"seeded {subscribers - have} subscribers in {took:.0f} s")

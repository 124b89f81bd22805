"""A throw-away ZEO server for benchmarks (the same runzeo the system uses)."""
import os
import socket
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from portmonet.crypto import DEMO_KEY  # noqa: E402  (the key the demo ini files name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, deadline=120):
    """Until *proc* (a server the bench started) listens on *port*."""
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start")


class BenchZeo:
    def __init__(self, folder, port=None):
        os.makedirs(folder, exist_ok=True)
        self.folder = os.path.abspath(folder)
        self.port = port or free_port()
        self.conf = os.path.join(self.folder, "zeo.conf")
        with open(self.conf, "w") as f:
            f.write(f"<zeo>\n  address 127.0.0.1:{self.port}\n</zeo>\n"
                    f"<filestorage>\n  path {self.folder}/Data.fs\n</filestorage>\n")
        self.ini = os.path.join(self.folder, "bench.ini")
        with open(self.ini, "w") as f:
            f.write("[app:main]\nuse = egg:portmonet\n"
                    f"zodbconn.uri = zeo://127.0.0.1:{self.port}?cache_size=256MB"
                    "&connection_cache_size=100000&wait_timeout=60\n"
                    f"portmonet.secret_keys = {DEMO_KEY}\n")
        self.proc = None

    @property
    def data_fs(self):
        return os.path.join(self.folder, "Data.fs")

    def start(self):
        self.log = open(os.path.join(self.folder, "zeo.log"), "a")
        self.proc = subprocess.Popen([os.path.join(BIN, "runzeo"), "-C", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("ZEO did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None

    def portmonet(self, *args):
        """Run the real command; returns (seconds, peak RSS of that child in MiB)."""
        cmd = [os.path.join(BIN, "portmonet"), "-c", self.ini] + list(args)
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        if status:
            raise RuntimeError(f"{' '.join(args)} exited with {status}")
        return seconds, usage.ru_maxrss / 1024

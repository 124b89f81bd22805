"""Shared fixtures: an in-memory database for unit tests, a real ZEO server
(``runzeo`` in a subprocess, on a free loopback port) for integration tests."""
import os
import socket
import subprocess
import sys
import time

import pytest
import transaction
import ZODB
from ZODB.MappingStorage import MappingStorage

from portmonet import clock, crypto
from portmonet.model.root import install

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)

crypto.configure(crypto.DEMO_KEY)

# Every log record of the whole run (as far as the loggers' levels let it
# through) also goes to one file, which tests/security/test_run_log.py — run
# last — greps for the secrets the tests used.
RUN_LOG = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"portmonet-test-run-{os.getpid()}.log")


def pytest_configure(config):
    import logging
    handler = logging.FileHandler(RUN_LOG, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    config._portmonet_run_log = handler


def pytest_unconfigure(config):
    import logging
    handler = getattr(config, "_portmonet_run_log", None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
        os.unlink(RUN_LOG)


def pytest_collection_modifyitems(items):
    """Tests marked ``run_last`` run after all the others."""
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)


@pytest.fixture(autouse=True)
def process_registry():
    """Each test starts from the same process registry for events, the
    default features' (built once; an app a test made with other features
    leaves none behind)."""
    from portmonet import features
    if features._process_registry is None:
        features.bootstrap({})
    before = features._process_registry
    yield
    features.use_registry(before)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def db():
    database = ZODB.DB(MappingStorage())
    yield database
    database.close()


@pytest.fixture
def conn(db):
    tm = transaction.TransactionManager()
    connection = db.open(transaction_manager=tm)
    install(connection.root())
    tm.commit()
    yield connection
    tm.abort()
    connection.close()


@pytest.fixture
def tm(conn):
    return conn.transaction_manager


@pytest.fixture
def root(conn):
    from portmonet.model.root import get_root
    return get_root(conn.root())


class ZeoServer:
    """A real ZEO server on a FileStorage in a temporary folder."""

    def __init__(self, tmpdir):
        self.dir = str(tmpdir)
        self.port = free_port()
        self.address = ("127.0.0.1", self.port)
        conf = os.path.join(self.dir, "zeo.conf")
        with open(conf, "w") as f:
            f.write(f"<zeo>\n  address 127.0.0.1:{self.port}\n</zeo>\n"
                    f"<filestorage>\n  path {self.dir}/Data.fs\n</filestorage>\n")
        self.log = open(os.path.join(self.dir, "zeo.log"), "w")
        self.proc = subprocess.Popen([os.path.join(BIN, "runzeo"), "-C", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(self.address, timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(open(self.log.name).read())
                time.sleep(0.1)
        raise RuntimeError("ZEO server did not start")

    @property
    def uri(self):
        return f"zeo://127.0.0.1:{self.port}?wait_timeout=30"

    def ini(self, path, **extra):
        """Write a Pyramid-style ini pointing at this server."""
        lines = ["[app:main]", "use = egg:portmonet", f"zodbconn.uri = {self.uri}",
                 f"portmonet.secret_keys = {crypto.DEMO_KEY}",
                 "portmonet.evolve_on_start = true"]
        lines += [f"{k.replace('_', '.', 1)} = {v}" for k, v in extra.items()]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return str(path)

    def open_db(self, server_sync=False):
        """A new client; ``server_sync``: each transaction first asks the
        server, so it sees every commit made before it began (invalidations
        otherwise arrive asynchronously)."""
        import ZEO
        return ZEO.DB(self.address, wait_timeout=30, server_sync=server_sync)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def zeo_server(tmp_path):
    server = ZeoServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def zeo_db(zeo_server):
    """A client database on the real ZEO server, with the application installed."""
    database = zeo_server.open_db()
    with database.transaction() as c:
        install(c.root())
    yield database
    database.close()


@pytest.fixture
def operator_zone():
    """Set the operator's zone for one test (restored after)."""
    before = clock.zone().key
    yield clock.set_zone
    clock.set_zone(before)


@pytest.fixture
def server_tz():
    """Set the server's own TZ for one test (restored after)."""
    before = os.environ.get("TZ")

    def use(name):
        os.environ["TZ"] = name
        time.tzset()
    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def today_pinned_to(day):
    """An autouse fixture for a test module whose tests compare what the
    pages offer with a date the module computed (``TOMORROW``): the code
    under test sees *day* as the operator's today, so a suite that crosses
    midnight (``make test-dates``) asks them what it meant to ask."""
    @pytest.fixture(autouse=True)
    def pinned(monkeypatch):
        monkeypatch.setattr(clock, "today", lambda: day)
    return pinned


def run_portmonet(*args, ini=None, input=None, timeout=300, check=True):
    """Run the real ``portmonet`` console command in a subprocess."""
    cmd = [os.path.join(BIN, "portmonet")] + (["-c", ini] if ini else []) + list(args)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(cmd, capture_output=True, text=True, input=input,
                          timeout=timeout, env=env, cwd=PROJECT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc

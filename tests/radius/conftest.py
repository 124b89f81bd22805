"""RADIUS test peers: the server in-process on a real ZEO server, FreeRADIUS's
``radclient`` as the NAS, and a FreeRADIUS ``coa`` listener as the NAS's
dynamic-authorization side."""
import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from portmonet.db import transact
from portmonet.model.services import InternetService
from portmonet.model.simple import Tariff
from portmonet.model.subscriber import Subscriber
from portmonet.radius.nas import Nas, add_nas
from portmonet.radius.server import RadiusServer

SECRET = "s3cret-nas"
RADCLIENT = shutil.which("radclient")
FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"

if RADCLIENT is None or not os.path.exists(FREERADIUS):
    raise RuntimeError("the RADIUS tests need freeradius and freeradius-utils "
                       "(apt-get install -y freeradius freeradius-utils)")


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def radclient(port, command, text, secret=SECRET, timeout=2, retries=1, args=()):
    """Send the packets in *text* (radclient's input format) with the real
    radclient; returns (returncode, output)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
    try:
        proc = subprocess.run(
            [RADCLIENT, "-x", "-t", str(timeout), "-r", str(retries), *args, "-f", f.name,
             f"127.0.0.1:{port}", command, secret],
            capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
    return proc.returncode, proc.stdout + proc.stderr


def access(login, password=None, chap=False, ma=True, **extra):
    lines = [f'User-Name = "{login}"']
    if password is not None:
        lines.append(f'{"CHAP-Password" if chap else "User-Password"} = "{password}"')
    if ma:
        lines.append("Message-Authenticator = 0x00")
    lines += [f'{k.replace("_", "-")} = "{v}"' for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def acct(status, login, session_id, **extra):
    lines = [f'Acct-Status-Type = {status}', f'User-Name = "{login}"',
             f'Acct-Session-Id = "{session_id}"', 'NAS-IP-Address = 127.0.0.1']
    lines += [f'{k.replace("_", "-")} = {v}' for k, v in extra.items()]
    return "\n".join(lines) + "\n"


class ServerThread:
    """The real RadiusServer in its own event loop thread, on loopback."""

    def __init__(self, db, **settings):
        base = {"radius.bind": "127.0.0.1", "radius.auth_port": free_port(),
                "radius.acct_port": free_port(), "radius.coa_poll": "0.2",
                "radius.coa_timeout": "0.5", "radius.interim_interval": "60"}
        base.update({k.replace("_", ".", 1): v for k, v in settings.items()})
        self.server = RadiusServer(db, base)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.auth_port = self.server.auth_port
        self.acct_port = self.server.acct_port

    def refresh(self):
        self.call(self.server.refresh_nases)

    def call(self, func, *args):
        async def run():
            return func(*args)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def make_subscriber(root, login, password="pw-" + "x", balance=10000, status="active",
                    credit_limit=0, tariff=None, **service_fields):
    sub = root["subscribers"].add_subscriber(Subscriber(f"Test {login}"))
    contract = sub.new_contract(credit_limit=credit_limit)
    service = InternetService(login, password, service_fields.pop("ip", None), tariff=tariff)
    for name, value in service_fields.items():
        setattr(service, name, value)
    contract.add_service(service)
    if balance:
        contract.account.post(balance, "payment", f"test:{login}")
    if status != "active":
        contract.set_status(status, "test", "test")
    return service


@pytest.fixture
def radius(zeo_db):
    """(server thread, db) with NAS 'bras1' = 127.0.0.1 (MikroTik) and users:
    alice (good, static IP, 10M/20M), bob (blocked), carol (debtor),
    dave (MAC-bound), erin (2 sessions allowed)."""
    def setup(root):
        add_nas(root, Nas("bras1", "127.0.0.1", SECRET, "mikrotik"))
        tariff = root["tariffs"].add("fast", Tariff("fast", "Fast 20M"))
        tariff.rate_limit = "10M/20M"
        make_subscriber(root, "alice", "alice-pw", ip="10.0.0.5", tariff=tariff)
        make_subscriber(root, "bob", "bob-pw", status="blocked", tariff=tariff)
        make_subscriber(root, "carol", "carol-pw", balance=0, tariff=tariff)
        make_subscriber(root, "dave", "dave-pw", tariff=tariff, mac="00:11:22:33:44:55")
        make_subscriber(root, "erin", "erin-pw", tariff=tariff, max_sessions=2)
    transact(zeo_db, setup, "test", "radius fixture")
    server = ServerThread(zeo_db)
    yield server, zeo_db
    server.stop()


def wait_for(predicate, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def read(db, func):
    from portmonet.model.root import get_root
    with db.transaction() as conn:
        return func(get_root(conn.root()))

"""The real ``portmonet`` commands: ``nas add/list/remove`` and the
``portmonet radius`` process, which survives malformed packets."""
import os
import signal
import socket
import struct
import subprocess
import sys

import pytest

from portmonet.db import transact
from portmonet.model.root import install

from .conftest import SECRET, access, free_port, make_subscriber, radclient, wait_for

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from conftest import BIN, run_portmonet  # noqa: E402  (the project's fixtures module)


@pytest.fixture
def process(zeo_server, tmp_path):
    ports = {"radius_bind": "127.0.0.1", "radius_auth_port": free_port(),
             "radius_acct_port": free_port()}
    ini = zeo_server.ini(tmp_path / "radius.ini", **ports)
    run_portmonet("init", ini=ini)
    db = zeo_server.open_db()
    transact(db, lambda r: make_subscriber(r, "alice", "alice-pw"), "test", "subscriber")
    db.close()
    yield ini, ports


def start_server(ini):
    log = open(os.path.join(os.path.dirname(ini), "radius.log"), "w+")
    proc = subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", ini, "radius"],
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, log


def stop_server(proc, log):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_nas_commands(process):
    ini, _ = process
    out = run_portmonet("nas", "add", "bras1", "127.0.0.1", SECRET, "--vendor", "mikrotik",
                        ini=ini).stdout
    assert "NAS bras1 (127.0.0.1, mikrotik) added" in out
    listed = run_portmonet("nas", "list", ini=ini).stdout
    assert listed.split("\t")[:3] == ["bras1", "127.0.0.1", "mikrotik"]
    assert SECRET not in listed
    dup = run_portmonet("nas", "add", "bras9", "127.0.0.1", "x", ini=ini, check=False)
    assert dup.returncode != 0 and "address 127.0.0.1 exists" in dup.stderr
    bad = run_portmonet("nas", "add", "bras8", "not-an-ip", "x", ini=ini, check=False)
    assert bad.returncode != 0 and "not an IP address" in bad.stderr
    assert "bras1 removed" in run_portmonet("nas", "remove", "bras1", ini=ini).stdout
    assert run_portmonet("nas", "list", ini=ini).stdout == ""


def garbage_packets(port):
    good_header = struct.pack("!BBH16s", 1, 7, 20, b"\0" * 16)
    return [
        b"",                                            # empty
        b"\x01\x02",                                    # truncated header
        good_header[:19],                               # one octet short
        struct.pack("!BBH16s", 1, 8, 4000, b"\0" * 16),  # length beyond the data
        struct.pack("!BBH16s", 1, 9, 10, b"\0" * 16),    # length below 20
        struct.pack("!BBH16s", 1, 10, 22, b"\0" * 16) + b"\x01\x00",  # attribute length 0
        struct.pack("!BBH16s", 1, 11, 23, b"\0" * 16) + b"\x01\x01\x00",  # attribute length 1
        struct.pack("!BBH16s", 1, 12, 26, b"\0" * 16) + b"\x01\x10abcd",  # runs past the end
        struct.pack("!BBH16s", 99, 13, 20, b"\0" * 16),  # unknown code
        struct.pack("!BBH16s", 4, 14, 20, b"\0" * 16),   # Accounting-Request on the auth port
        struct.pack("!BBH16s", 2, 15, 20, b"\0" * 16),   # an Access-Accept sent to a server
        struct.pack("!BBH16s", 1, 16, 38, b"\0" * 16) + b"\x50\x12" + b"\0" * 16,  # bad MA
        os.urandom(300),
        b"\xff" * 4096,
    ]


def test_radius_process_serves_and_survives_malformed_packets(process):
    ini, ports = process
    run_portmonet("nas", "add", "bras1", "127.0.0.1", SECRET, ini=ini)
    proc, log = start_server(ini)
    try:
        assert wait_for(lambda: "portmonet radius: auth on 127.0.0.1" in open(log.name).read(), 30), \
            open(log.name).read()
        auth, acct = ports["radius_auth_port"], ports["radius_acct_port"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for port in (auth, acct):
                for data in garbage_packets(port):
                    s.sendto(data, ("127.0.0.1", port))
            s.settimeout(0.5)
            with pytest.raises(socket.timeout):
                s.recvfrom(4096)            # nothing malformed is answered
        assert proc.poll() is None
        rc, out = radclient(auth, "auth", access("alice", "alice-pw"))
        assert "Access-Accept" in out, out + open(log.name).read()
        rc, out = radclient(acct, "acct", 'Acct-Status-Type = Start\nUser-Name = "alice"\n'
                                          'Acct-Session-Id = "P1"\n')
        assert "Accounting-Response" in out, out
        sessions = run_portmonet("radius", "sessions", "alice", ini=ini).stdout
        assert sessions.startswith("bras1\tP1\t") and "online" in sessions
        # The NAS removed: the running server drops it within its refresh.
        run_portmonet("nas", "remove", "bras1", ini=ini)
        assert wait_for(lambda: "Access-Accept" not in radclient(
            auth, "auth", access("alice", "alice-pw"), timeout=0.3, retries=0)[1], 10)
        text = open(log.name).read()
        assert "dropped" in text and "Traceback" not in text, text
        assert SECRET not in text and "alice-pw" not in text
    finally:
        stop_server(proc, log)
    assert proc.returncode == 0


def test_pool_commands(process):
    ini, _ = process
    run_portmonet("nas", "add", "bras1", "127.0.0.1", SECRET, ini=ini)
    out = run_portmonet("radius", "pool", "add", "home", "10.50.0.0/24", "--nas", "bras1",
                        ini=ini).stdout
    assert "pool home (10.50.0.0/24, 254 addresses) added" in out
    run_portmonet("radius", "pool", "add", "any", "10.51.0.10-10.51.0.19", ini=ini)
    listed = run_portmonet("radius", "pool", "list", ini=ini).stdout.splitlines()
    assert listed == ["any\t10.51.0.10-10.51.0.19\t*\t*\t0/10",
                      "home\t10.50.0.0/24\tbras1\t*\t0/254"]
    for args, error in ((("home", "10.60.0.0/24"), "exists"),
                        (("x", "10.50.0.128/25"), "overlaps pool home"),
                        (("y", "10.70.0.0/24", "--tariff", "nope"), "no tariff"),
                        (("z", "10.80.0.0/99"), "not an IPv4 prefix")):
        bad = run_portmonet("radius", "pool", "add", *args, ini=ini, check=False)
        assert bad.returncode != 0 and error in bad.stderr, bad.stderr
    run_portmonet("radius", "pool", "remove", "any", ini=ini)
    assert run_portmonet("radius", "pool", "list", ini=ini).stdout.startswith("home\t")


def test_purge_command_in_batches(zeo_server, zeo_db, tmp_path):
    from portmonet.ledger.account import now_us
    from portmonet.radius import accounting
    from portmonet.radius.nas import Nas, add_nas
    ini = zeo_server.ini(tmp_path / "purge.ini", radius_session_retention_days="30")
    db = zeo_db
    day = 86_400 * 10**6

    def sessions(root):
        nas = add_nas(root, Nas("bras1", "127.0.0.1", SECRET))
        for n in range(5):
            when = now_us() - (40 if n < 3 else 10) * day
            rec = {"status": accounting.START, "when_us": when, "session_id": f"s{n}",
                   "login": "alice", "octets_in": 0, "octets_out": 0, "seconds": 0,
                   "framed_ip": "", "mac": "", "port_id": "", "cause": 1}
            accounting.apply(root, nas, rec)
            accounting.apply(root, nas, dict(rec, status=accounting.STOP, octets_in=100,
                                             when_us=when + 60 * 10**6, seconds=60))
    transact(db, sessions, "test", "old sessions")
    out = run_portmonet("radius", "purge", "--batch", "2", ini=ini).stdout
    assert "purged 3 session(s) closed more than 30 day(s) ago" in out
    with db.transaction() as conn:
        from portmonet.model.root import get_root
        root = get_root(conn.root())
        assert sorted(root["equipment"]["bras1"].sessions.keys()) == ["s3", "s4"]
        assert sum(v[0] for v in root.radius.daily.values()) == 300
    assert "purged 0 session(s)" in run_portmonet("radius", "purge", ini=ini).stdout


def test_two_radius_processes_lease_distinct_addresses(process, zeo_server, tmp_path):
    """Two real ``portmonet radius`` processes (the second authorization-only)
    lease from one /28 at once: 14 distinct addresses, the rest refused."""
    import re
    import threading
    from portmonet.radius.pools import add_pool
    ini, ports = process
    logins = [f"q{i:02d}" for i in range(24)]
    db = zeo_server.open_db()

    def world(root):
        from portmonet.radius.nas import Nas, add_nas
        add_nas(root, Nas("bras1", "127.0.0.1", SECRET))
        add_pool(root, "p", "10.30.0.0/28")
        for login in logins:
            make_subscriber(root, login, "pw-" + login)
    transact(db, world, "test", "two processes, one pool")
    (tmp_path / "second").mkdir()
    second = str(tmp_path / "second" / "second.ini")      # its own folder: its own log
    second_auth = free_port()
    with open(ini) as f:
        text = f.read().replace(f"radius.auth_port = {ports['radius_auth_port']}",
                                f"radius.auth_port = {second_auth}")
    with open(second, "w") as f:
        f.write(text + "radius.accounting = false\nradius.send_coa = false\n")
    servers = [start_server(ini), start_server(second)]
    outputs = {}
    try:
        for proc, log in servers:
            assert wait_for(lambda: "auth on" in open(log.name).read(), 30), open(log.name).read()

        def send(n, port):
            text = "\n".join(access(x, "pw-" + x) for x in logins[n::2])
            outputs[n] = radclient(port, "auth", text, args=("-p", "12"))[1]
        threads = [threading.Thread(target=send, args=(n, port))
                   for n, port in enumerate((ports["radius_auth_port"], second_auth))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for proc, log in servers:
            stop_server(proc, log)
    replies = outputs[0] + outputs[1]
    addresses = re.findall(r"Framed-IP-Address = (10\.30\.0\.\d+)", replies)
    assert len(addresses) == 14 and len(set(addresses)) == 14, replies
    assert replies.count("Received Access-Reject") == 10
    leased = [int(re.search(r"leased=(\d+)", open(log.name).read()).group(1))
              for _, log in servers]
    assert sum(leased) == 14 and all(leased), leased        # both processes leased
    with db.transaction() as conn:
        from portmonet.model.root import get_root
        root = get_root(conn.root())
        held = {str(__import__("ipaddress").IPv4Address(a)): v[0]
                for a, v in root.radius.pools["p"].leases.items()}
    assert sorted(held) == sorted(addresses) and len(set(held.values())) == 14
    db.close()

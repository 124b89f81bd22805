"""Concurrent terminal payments: two real web processes (pserve + waitress)
on one real ZEO server, four terminal processes sending overlapping txn_ids
to the same accounts.  Every payment lands once; ``portmonet check`` agrees."""
import collections
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import ZEO

from conftest import BIN, free_port, run_portmonet
from portmonet.model.root import get_root

from .conftest import add_subscriber

pytestmark = pytest.mark.integration
HERE = os.path.dirname(os.path.abspath(__file__))


def web_ini(zeo_server, path, port):
    zeo_server.ini(path)
    with open(path, "a") as f:
        f.write(f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\n"
                "threads = 4\n")
    return str(path)


def wait_port(port, proc, deadline=40):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("web process exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("web process did not start")


def test_concurrent_payments_from_several_processes(zeo_server, tmp_path):
    ports = [free_port(), free_port()]
    inis = [web_ini(zeo_server, tmp_path / f"web{i}.ini", p) for i, p in enumerate(ports)]
    run_portmonet("init", ini=inis[0])
    out = run_portmonet("payments", "agent", "add", "term", "--protocol", "osmp",
                        "--allow", "127.0.0.1", "--login", "t1", "--password", "pw-123456",
                        ini=inis[0]).stdout
    assert "agent term (osmp) added" in out
    db = ZEO.DB(zeo_server.address, wait_timeout=30, server_sync=True)
    with db.transaction() as conn:
        root = get_root(conn.root())
        numbers = [add_subscriber(root, f"Payer {i}").account.number for i in range(3)]
        assert root["payments"]["term"].password_hash.startswith("$argon2")
    webs = [subprocess.Popen([os.path.join(BIN, "pserve"), ini], stdout=subprocess.DEVNULL,
                             stderr=open(tmp_path / f"web{i}.log", "w"))
            for i, ini in enumerate(inis)]
    try:
        for port, proc in zip(ports, webs):
            wait_port(port, proc)
        # Client k pays txn ids [k*20, k*20+40): every id is sent twice, by two
        # clients through different web processes, at about the same time.
        clients = [subprocess.Popen(
            [sys.executable, os.path.join(HERE, "osmp_client.py"),
             f"http://127.0.0.1:{ports[k % 2]}/payments/term/osmp", "t1", "pw-123456",
             ",".join(numbers), str(1000 + k * 20), "40"],
            stdout=subprocess.PIPE, text=True) for k in range(4)]
        answers = []
        for c in clients:
            stdout, _ = c.communicate(timeout=120)
            assert c.returncode == 0
            answers += [json.loads(line) for line in stdout.splitlines()]
    finally:
        for proc in webs:
            proc.terminate()
            proc.wait(10)
    assert len(answers) == 160 and {a["result"] for a in answers} == {"0"}
    first = collections.defaultdict(set)
    for a in answers:
        first[a["osmp_txn_id"]].add(a["prv_txn"])
    # Ids 1000-1099: 1000-1019 and 1080-1099 were sent once, the rest twice.
    assert len(first) == 100 and all(len(v) == 1 for v in first.values())
    expected = collections.Counter()
    for txn in range(1000, 1100):
        expected[numbers[txn % 3]] += (1 + txn % 7) * 100 + txn % 100
    with db.transaction() as conn:
        root = get_root(conn.root())
        for number in numbers:
            assert root.catalog.accounts.get(number).balance == expected[number]
        assert len(root["payments"].journal.entries) == 160
        assert root["payments"]["term"].account.balance == -sum(expected.values())
    db.close()
    check = run_portmonet("check", ini=inis[0]).stdout
    assert check.startswith("OK") and "payments booked=100" in check


def test_two_payments_to_one_account_both_land(zeo_db):
    """Concurrent payments into a ledger bucket that already holds postings
    merge (the ZEO server resolves the conflict) instead of failing."""
    import transaction
    from portmonet.payments.credit import credit
    with zeo_db.transaction() as conn:
        root = get_root(conn.root())
        number = add_subscriber(root, "Shared").account.number
        credit(root, root.catalog.accounts.get(number), 100, "osmp", "x", "0")
    tms = [transaction.TransactionManager() for _ in range(2)]
    conns = [zeo_db.open(transaction_manager=t) for t in tms]
    for n, conn in enumerate(conns, 1):
        root = get_root(conn.root())
        credit(root, root.catalog.accounts.get(number), 1000 * n, "osmp", "x", str(n))
    for t in tms:
        t.commit()
    for c in conns:
        c.close()
    with zeo_db.transaction() as conn:
        account = get_root(conn.root()).catalog.accounts.get(number)
        assert account.balance == 3100 and len(account.ledger) == 3

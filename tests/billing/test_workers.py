"""Two real ``portmonet bill --shard i/2`` worker processes on a real ZEO
server, one killed mid-run, then ``portmonet bill --workers 2`` to resume it
and number the invoices: the books equal those of a single-process run of
the same world on another ZEO server."""
import os
import signal
import subprocess
import time

import pytest

from portmonet.model.root import get_root

from conftest import BIN, PROJECT, ZeoServer, run_portmonet
from tariffs.world import load_plans, make_contract

pytestmark = pytest.mark.integration
N = 300
BILL = ("bill", "--period", "2024-03", "--batch", "10", "--as-of", "2024-04-01")


def build(db):
    with db.transaction() as c:
        root = get_root(c.root())
        load_plans(root)
        for n in range(N):
            make_contract(root, n, balance=0 if n % 4 == 0 else 200000)


def books(db):
    """What a run leaves, by each subscriber's name (ids differ between
    databases): fees, balance, status, the invoice's number and sums."""
    out = {}
    with db.transaction() as c:
        root = get_root(c.root())
        billing = root["billing"]
        for account in root.catalog.accounts.tree.values():
            contract = account.__parent__
            name = contract.__parent__.name
            fees = sorted(p.amount for p in account.ledger.values() if p.cause.startswith("fee:"))
            inv = billing.invoices.get(("2024-03", account.number))
            out[name] = (fees, account.balance, contract.status, inv.number,
                         inv.opening, inv.charges, inv.closing, inv.lines)
        numbers = list(billing.invoice_numbers)
        radius = len(root.outbox.channels["radius"])
        mail = len(root.outbox.channels["mail"])
        assert billing.runs["2024-03"].finished_us
    return out, numbers, radius, mail


def progress(db):
    with db.transaction() as c:
        state = get_root(c.root())["billing"].runs.get("2024-03")
        return [(s.done_through, s.finished) for s in state.shards] if state else []


def test_two_workers_one_killed_equal_one_process(zeo_server, zeo_db, tmp_path):
    (tmp_path / "single").mkdir()
    single = ZeoServer(tmp_path / "single")
    try:
        single_db = single.open_db()
        from portmonet.model.root import install
        with single_db.transaction() as c:
            install(c.root())
        build(single_db)
        build(zeo_db)
        run_portmonet(*BILL, ini=single.ini(tmp_path / "single.ini"))
        expected = books(single_db)
        single_db.close()
    finally:
        single.stop()

    ini = zeo_server.ini(tmp_path / "t.ini")
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    workers = [subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", ini, *BILL,
                                 "--shard", f"{i}/2", "--quiet"], cwd=PROJECT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i in range(2)]
    deadline = time.time() + 60
    while time.time() < deadline:
        shards = progress(zeo_db)
        if shards and shards[0][0] is not None:
            break
        time.sleep(0.02)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(10)
    assert workers[1].wait(60) == 0
    (done0, finished0), (_, finished1) = progress(zeo_db)
    assert done0 is not None and not finished0 and finished1
    with zeo_db.transaction() as c:
        billing = get_root(c.root())["billing"]
        drawn = sum(len(t) for t in billing.drawn_trees("2024-03"))
        assert 0 < drawn < N and len(billing.invoice_numbers) == 0      # drawn, not numbered
        assert len(billing.invoices) == 0
        assert not billing.runs["2024-03"].finished_us

    out = run_portmonet(*BILL, "--workers", "2", ini=ini).stdout
    assert f"{N} contracts" in out and f"{N} invoices numbered" in out
    got = books(zeo_db)
    assert got[1] == list(range(1, N + 1))          # numbered 1..N, no gap, no double
    assert got == expected
    fees, _, status, *_ = zip(*got[0].values())
    assert sum(len(f) for f in fees) == 2 * N and status.count("blocked") == N // 4
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK") and f"fees={2 * N}" in check.stdout

    # billed again with workers: nothing changes, nothing is numbered twice
    out = run_portmonet(*BILL, "--workers", "2", ini=ini).stdout
    assert "0 fees, 0 invoices, 0 blocked" in out and "0 invoices numbered" in out
    assert books(zeo_db) == expected

"""A real ``portmonet bill`` on a real ZEO server, killed mid-run and run
again: every fee charged once, every invoice drawn once, numbers without gaps."""
import os
import signal
import subprocess
import time

import pytest

from portmonet.model.root import get_root

from conftest import BIN, PROJECT, run_portmonet
from tariffs.world import load_plans, make_contract

pytestmark = pytest.mark.integration
N = 400


def test_billing_run_killed_and_resumed(zeo_server, zeo_db, tmp_path):
    with zeo_db.transaction() as c:
        root = get_root(c.root())
        load_plans(root)
        for n in range(N):
            make_contract(root, n, balance=0 if n % 4 == 0 else 200000)
    ini = zeo_server.ini(tmp_path / "t.ini")
    cmd = [os.path.join(BIN, "portmonet"), "-c", ini, "bill", "--period", "2024-03",
           "--batch", "10", "--as-of", "2024-04-01"]
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    deadline = time.time() + 60
    done = None
    while time.time() < deadline and done is None:
        time.sleep(0.05)
        with zeo_db.transaction() as c:
            state = get_root(c.root())["billing"].runs.get("2024-03")
            shards = state.shards if state is not None else ()
            done = shards[0].done_through if shards else None
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    with zeo_db.transaction() as c:
        billing = get_root(c.root())["billing"]
        # drawn by the workers, not numbered yet (kept per shard till the pass)
        interrupted = sum(len(t) for t in billing.drawn_trees("2024-03"))
        assert len(billing.invoices) == 0 and billing.runs["2024-03"].finished_us == 0
    assert 0 < interrupted < N
    out = run_portmonet("bill", "--period", "2024-03", "--batch", "10", "--as-of", "2024-04-01", ini=ini)
    assert f"{N - interrupted} invoices" in out.stdout
    with zeo_db.transaction() as c:
        root = get_root(c.root())
        billing = root["billing"]
        assert len(billing.invoices) == N and list(billing.invoice_numbers) == list(range(1, N + 1))
        assert billing.drawn_trees("2024-03") == []
        fees = 0
        for account in root.catalog.accounts.tree.values():
            charged = sorted(p.amount for p in account.ledger.values() if p.cause.startswith("fee:"))
            assert charged == [-60000, -30000]
            fees += len(charged)
        assert fees == 2 * N
        blocked = [c for c in root.catalog.contracts.tree.values() if c.status == "blocked"]
        assert len(blocked) == N // 4
        assert len(root.outbox.channels["radius"]) == N // 4
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK") and f"fees={2 * N}" in check.stdout and f"invoices={N}" in check.stdout

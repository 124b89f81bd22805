"""A real ``portmonet rate`` process on a real ZEO server, killed mid-run:
nothing lost, nothing charged twice."""
import os
import signal
import subprocess
import time

import pytest

from portmonet.model.root import get_root

from conftest import BIN, PROJECT, run_portmonet
from tariffs.world import call, phones_and_logins, traffic, us

pytestmark = pytest.mark.integration
N_CONTRACTS = 20
N_RECORDS = 3000


def fill(zeo_db):
    numbers, logins = phones_and_logins(zeo_db, N_CONTRACTS)
    start = us(2024, 3, 4, 9, 0)
    for base in range(0, N_RECORDS, 1000):
        with zeo_db.transaction() as c:
            queue = get_root(c.root()).usage
            for i in range(base, base + 1000):
                when = start + i * 7_000_000
                if i % 3:
                    queue.enqueue(call(f"cdr:{i}", numbers[i % N_CONTRACTS],
                                       ["74992223344", "79161234567", "112"][i % 3], 30 + i % 200, when))
                else:
                    queue.enqueue(traffic(f"rad:{i}", logins[i % N_CONTRACTS],
                                          (i % 50) * 10_000_000, 1_000_000, when, remote="8.8.8.8"))


def test_rater_killed_mid_batch_loses_and_doubles_nothing(zeo_server, zeo_db, tmp_path):
    fill(zeo_db)
    ini = zeo_server.ini(tmp_path / "t.ini")
    cmd = [os.path.join(BIN, "portmonet"), "-c", ini, "rate", "--batch", "100", "-v"]
    killed_after = []
    for delay in (0.3, 0.5):
        proc = subprocess.Popen(cmd, cwd=PROJECT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                env=dict(os.environ, PYTHONWARNINGS="ignore"), text=True)
        line = proc.stderr.readline()           # the first batch is committed
        assert line.startswith("batch:"), line
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with zeo_db.transaction() as c:
            killed_after.append(get_root(c.root()).usage.count())
    assert 0 < killed_after[0] < N_RECORDS and killed_after[1] < killed_after[0]
    # restarted as two sharded raters: they finish the queue between them
    out = run_portmonet("rate", "--once", "--workers", "2", ini=ini)
    assert "(shard 0/2)" in out.stdout and "(shard 1/2)" in out.stdout
    with zeo_db.transaction() as c:
        root = get_root(c.root())
        state = root["rating"]
        assert not root.usage.count()
        rated = [r for _, r in state.rated_items()]
        assert len(rated) == N_RECORDS == state.rated_count() and not state.error_count()
        charged = sum(r.amount for r in rated)
        posted = 0
        for account in root.catalog.accounts.tree.values():
            for p in account.ledger.values():
                assert p.cause.startswith("usage:")
                posted -= p.amount
        assert posted == charged > 0
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK") and "rated=3000" in check.stdout

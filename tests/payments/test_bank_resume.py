"""A bank statement import killed half-way (a real process, SIGKILL) and
imported again: every line is posted exactly once, the file is journaled
once, the books agree."""
import os
import signal
import subprocess

import pytest
import ZEO

from conftest import BIN, run_portmonet
from portmonet.model.root import get_root

from .conftest import add_subscriber
from .test_bank import doc, one_c

pytestmark = pytest.mark.integration
LINES = 3000
BATCH = 50


def test_a_killed_import_resumed_posts_every_line_exactly_once(zeo_server, tmp_path):
    ini = zeo_server.ini(tmp_path / "t.ini")
    run_portmonet("init", ini=ini)
    db = ZEO.DB(zeo_server.address, wait_timeout=30, server_sync=True)
    with db.transaction() as conn:
        root = get_root(conn.root())
        numbers = [add_subscriber(root, f"Payer {n}").account.number for n in range(40)]
    # Several lines per account, in every batch: payments to one account
    # within a batch and across batches.
    amounts = [100 + n for n in range(LINES)]
    path = tmp_path / "statement.txt"
    path.write_bytes(one_c([doc(str(n + 1), f"{amounts[n] // 100}.{amounts[n] % 100:02d}",
                                f"л/с {numbers[n % len(numbers)]}", inn=f"77{n:010d}")
                            for n in range(LINES)]).encode("cp1251"))
    cmd = [os.path.join(BIN, "portmonet"), "-c", ini, "payments", "bank", "import", str(path),
           "--format", "1c", "--bank", "sber", "--batch", str(BATCH)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    try:
        # Progress lines come after committed batches: kill after the first.
        for line in proc.stderr:
            if line.startswith("bank statement lines:"):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    def booked():
        with db.transaction() as conn:
            root = get_root(conn.root())
            rows = list(root["payments"].register.channel("bank"))
            return len(rows), sum(row[1] for _, row in rows)
    count, _ = booked()
    assert BATCH <= count < LINES, count         # killed half-way, some batches committed

    again = run_portmonet(*cmd[3:], ini=ini)
    assert "resuming the unfinished import" in again.stderr
    assert (f"{LINES} incoming lines: {LINES - count} posted, 0 to suspense, "
            f"{count} already known") in again.stdout
    assert "bank statement lines: 3000/3000 (100%)" in again.stderr
    assert booked() == (LINES, sum(amounts))
    with db.transaction() as conn:
        root = get_root(conn.root())
        balances = sum(root.catalog.accounts.get(n).balance for n in numbers)
        causes = [p.cause for n in numbers for p in root.catalog.accounts.get(n).postings()]
        entries = [e for e in root["payments"].journal.search(channel="bank")]
    assert balances == sum(amounts)
    assert len(causes) == len(set(causes)) == LINES
    assert len(entries) == 1 and entries[0].status == "done"       # journaled once
    # A third import of the same file posts nothing and says so.
    third = run_portmonet(*cmd[3:], ini=ini)
    assert f"0 posted, 0 to suspense, {LINES} already known" in third.stdout
    assert booked() == (LINES, sum(amounts))
    check = run_portmonet("check", ini=ini).stdout
    assert check.startswith("OK") and f"payments received={LINES}" in check
    db.close()

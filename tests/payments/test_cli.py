"""The ``portmonet payments`` commands against a real ZEO server."""
import os
import re
from decimal import Decimal

import pytest
import ZEO

from conftest import run_portmonet
from portmonet.model.root import get_root

from .conftest import add_subscriber
from .test_bank import doc, one_c

pytestmark = pytest.mark.integration


def test_bank_import_suspense_assign_reconcile_cards(zeo_server, tmp_path):
    ini = zeo_server.ini(tmp_path / "t.ini")
    run_portmonet("init", ini=ini)
    db = ZEO.DB(zeo_server.address, wait_timeout=30, server_sync=True)
    with db.transaction() as conn:
        root = get_root(conn.root())
        a = add_subscriber(root, "Орлова Анна", login="anna")
        number = a.account.number
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(one_c([doc("1", "100.00", f"л/с {number}"),
                            doc("2", "7.00", "без указания счета", inn="123456789012")]
                           ).encode("cp1251"))
    out = run_portmonet("payments", "bank", "import", str(path), "--format", "1c",
                        "--bank", "sber", ini=ini).stdout
    assert "2 incoming lines: 1 posted, 1 to suspense, 0 already known" in out
    waiting = run_portmonet("payments", "bank", "suspense", ini=ini).stdout
    assert "без указания счета" in waiting and "7.00" in waiting
    ref = waiting.split("\t")[1]
    run_portmonet("payments", "bank", "assign", ref, "anna", "--bank", "sber", ini=ini)
    bad = run_portmonet("payments", "bank", "import", str(tmp_path / "t.ini"), "--format", "1c",
                        ini=ini, check=False)
    assert bad.returncode != 0 and "nothing imported" in bad.stderr
    journal = run_portmonet("payments", "journal", "--channel", "bank", ini=ini).stdout
    assert "rejected" in journal and "done" in journal and "posted=1" in journal
    # the register's days are the operator's days the payments were booked
    # on (two, if the suite crossed midnight between the import and the assign)
    with db.transaction() as conn:
        days = get_root(conn.root())["payments"].register.days("bank")
    totals = [0, 0, 0, 0]
    for day in days:
        rec = run_portmonet("payments", "reconcile", "bank", day, ini=ini).stdout
        found = re.search(r"received (\d+) \(([\d.]+)\), booked (\d+) \(([\d.]+)\)", rec)
        assert found, rec
        for i, value in enumerate(found.groups()):
            totals[i] += Decimal(value)
    assert totals == [2, Decimal("107.00"), 2, Decimal("107.00")], days
    today = days[-1]
    register = tmp_path / "agent.csv"
    register.write_text("txn_id;account;amount\n1;x;5.00\n")
    rec = run_portmonet("payments", "reconcile", "osmp", today, "--agent", "t",
                        "--register", str(register), ini=ini, check=False)
    assert rec.returncode == 1 and "REGISTER 1: in their register, not in ours" in rec.stdout
    out_csv = tmp_path / "cards.csv"
    run_portmonet("payments", "cards", "generate", "--series", "S1", "--nominal", "300",
                  "--count", "3", "--expires", "2030-01-01", "--out", str(out_csv), ini=ini)
    assert oct(os.stat(out_csv).st_mode & 0o777) == "0o600"
    printed = out_csv.read_text().splitlines()
    assert printed[0] == "serial,pin,nominal,currency,expires,status,dealer" and len(printed) == 4
    inventory = run_portmonet("payments", "cards", "export", "S1", ini=ini).stdout
    assert printed[1].split(",")[1] not in inventory and "generated" in inventory
    check = run_portmonet("check", ini=ini).stdout
    assert check.startswith("OK") and "payments received=2" in check
    with db.transaction() as conn:
        assert get_root(conn.root()).catalog.accounts.get(number).balance == 10700
    db.close()

"""The commands for real: a ZEO server, the ``portmonet`` executable."""
import csv
import io

import pytest

from portmonet import clock
from portmonet.model.root import get_root

from conftest import run_portmonet
from tariffs.world import phone_contract_with_a_call

pytestmark = pytest.mark.integration


def test_assign_bill_render_report_promise(zeo_server, zeo_db, tmp_path):
    from portmonet.rating import rater
    with zeo_db.transaction() as c:
        root = get_root(c.root())
        number, line = phone_contract_with_a_call(root)
        assert rater.rate_batch(root, 10)["rated"] == 1
        # a charge is booked when it is rated: the report's month is that one
        account = root.catalog.contracts.get(number).account
        rated_in = clock.period_of(next(p.time for p in account.postings()
                                        if p.cause == "usage:cdr:a"))
    ini = zeo_server.ini(tmp_path / "t.ini")
    out = run_portmonet("tariffs", "assign", "--contract", number, "--service", "internet-1",
                        "--tariff", "phone", ini=ini, check=False)
    assert out.returncode == 1 and "phone is a phone tariff, internet-1 a internet service" in out.stderr
    out = run_portmonet("tariffs", "assign", "--contract", number, "--service", "internet-1",
                        "--tariff", "hotspot", "--from", "2024-03-16", ini=ini).stdout
    assert "on hotspot from 2024-03-16" in out
    out = run_portmonet("bill", "--period", "2024-03", "--as-of", "2024-04-01", ini=ini).stdout
    assert "1 contracts, 2 fees, 1 invoices, 1 blocked" in out
    out = run_portmonet("invoice", "render", "--period", "2024-03", "--format", "both",
                        "--out", str(tmp_path / "inv"), ini=ini).stdout
    assert "rendered 1 invoices" in out
    assert (tmp_path / "inv" / "INV-00000001.pdf").read_bytes().startswith(b"%PDF")
    assert "Closing balance" in (tmp_path / "inv" / "INV-00000001.html").read_text()
    rows = list(csv.reader(io.StringIO(
        run_portmonet("report", "charges", "--period", rated_in, "--csv", "-", ini=ini).stdout)))
    assert rows[0] == ["service", "tariff", "postings", "amount"]
    assert ["call", "phone", "1", "2.40"] in rows
    debtors = run_portmonet("report", "debtors", ini=ini).stdout
    assert number in debtors and "blocked" in debtors
    out = run_portmonet("promise", number, "1000.00", ini=ini, check=False)
    assert out.returncode == 1 and "up to 500.00" in out.stderr
    assert "until" in run_portmonet("promise", number, "500.00", "--days", "2", ini=ini).stdout
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK")

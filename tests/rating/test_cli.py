"""The commands for real: a ZEO server, the ``portmonet`` executable."""

import pytest

from portmonet.model.root import get_root

from conftest import run_portmonet
from tariffs.world import call, phone_contract_with_a_call, us

pytestmark = pytest.mark.integration


def test_rate_errors_retry_show_rerate(zeo_server, zeo_db, tmp_path):
    with zeo_db.transaction() as c:
        root = get_root(c.root())
        number, line = phone_contract_with_a_call(root)
        root.usage.enqueue(call("cdr:b", "74950000000", "74992223344", 61, us(2024, 3, 4, 12, 0)))
    ini = zeo_server.ini(tmp_path / "t.ini")
    out = run_portmonet("rate", "--once", ini=ini).stdout
    assert "rated 1, parked 1" in out
    errors = run_portmonet("rating", "errors", ini=ini).stdout
    assert "cdr:b\tcall\t74950000000\tattempts=1\tunknown calling number 74950000000" in errors
    shown = run_portmonet("rating", "show", "cdr:a", ini=ini).stdout
    assert "-> 240" in shown and "phone v1 zone local" in shown
    with zeo_db.transaction() as c:
        from portmonet.model.services import TelephoneLine
        root = get_root(c.root())
        root.catalog.contracts.get(number).add_service(
            TelephoneLine("74950000000", tariff=root["tariffs"]["phone"]))
    assert "rated 1 parked records; 0 still" in run_portmonet("rate", "--retry-errors", ini=ini).stdout
    # a corrected local price, re-rated with the difference shown
    from tariffs.samples import PLANS
    plans = tmp_path / "fixed.yaml"
    plans.write_text(PLANS.replace('price: "1.00", increment: 60/60, prices',
                                   'price: "1.50", increment: 60/60, prices'))
    run_portmonet("import", "tariffs", str(plans), "--replace", ini=ini)
    out = run_portmonet("rerate", "--contract", number, "--from", "2024-03-01", "--to", "2024-04-01",
                        ini=ini).stdout
    assert "2 records, 2 changed: 4.80 -> 7.20 (difference 2.40)" in out
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK") and "rated=2" in check.stdout

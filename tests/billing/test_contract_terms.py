"""The contract's billing terms (grace days, discount group) are fields,
edited in the workplace's contract form and used by the billing run."""
import datetime

import pytest
import webtest

from portmonet import main
from portmonet.billing.groups import known_discount_groups
from portmonet.clock import day_start_us
from portmonet.billing.run import Options, run
from portmonet.model.contract import Contract
from portmonet.model.root import get_root

from tariffs.world import load_plans, make_contract


def test_new_and_old_contracts_read_the_defaults():
    # a contract pickled before the fields existed has none in its state
    c = Contract.__new__(Contract)
    assert (c.grace_days, c.discount_group) == (0, None)


@pytest.fixture
def site(monkeypatch):
    from argon2 import PasswordHasher
    from portmonet import crypto
    from portmonet.model.staff import StaffUser
    monkeypatch.setattr(crypto, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    wsgi = main({}, **{"zodbconn.uri": "memory://", "portmonet.secret_keys": crypto.DEMO_KEY,
                       "portmonet.evolve_on_start": "true", "portmonet.cookie_secure": "false"})
    db = wsgi.registry._zodb_databases[""]
    with db.transaction() as c:
        root = get_root(c.root())
        load_plans(root)
        k = make_contract(root, 1, balance=0)
        number, url = k.number, f"/subscribers/{k.__parent__.id}/{k.number}/@@edit"
        root["staff"].add_user(StaffUser("manager", ("manager",), "correct horse 1"))
    client = webtest.TestApp(wsgi, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    form = client.get("/@@login").forms["form"]
    form["login"], form["password"] = "manager", "correct horse 1"
    form.submit(status=302)
    yield client, db, number, url
    db.close()


def _contract(db, number):
    with db.transaction() as c:
        k = get_root(c.root()).catalog.contracts.get(number)
        return k.grace_days, k.discount_group, k.account.credit_limit


def test_edit_form_validates_and_saves_the_terms(site):
    client, db, number, url = site
    form = client.get(url).forms["form"]
    # the groups offered are those the tariffs' discounts name, and none
    assert [o[0] for o in form["discount_group"].options] == ["", "staff"]
    assert form["grace_days"].value == "0"
    for bad in ("91", "-1", "abc", ""):
        form = client.get(url).forms["form"]
        form["grace_days"] = bad
        page = form.submit(status=400)
        assert "grace" in page.text.lower()
    # a group no tariff knows is refused (a forged POST)
    form = client.get(url).forms["form"]
    form["grace_days"] = "5"
    form["discount_group"].force_value("vip")
    form.submit(status=400)
    assert _contract(db, number) == (0, None, 0)
    form = client.get(url).forms["form"]
    form["grace_days"] = "90"
    form["discount_group"] = "staff"
    form["credit_limit"] = "10.00"
    form.submit(status=302)
    assert _contract(db, number) == (90, "staff", 1000)
    form = client.get(url).forms["form"]
    assert (form["grace_days"].value, form["discount_group"].value) == ("90", "staff")
    form["grace_days"] = "0"
    form["discount_group"] = ""
    form.submit(status=302)
    assert _contract(db, number) == (0, None, 1000)


def test_the_run_uses_the_discount_group_and_grace_days(db, root, tm):
    load_plans(root)
    assert known_discount_groups(root) == ["staff"]
    staff = make_contract(root, 1, balance=0)
    staff.discount_group = "staff"
    staff.grace_days = 3
    plain = make_contract(root, 2, balance=0)
    numbers = staff.number, plain.number
    tm.commit()
    run(db, "2024-03", now=day_start_us(datetime.date(2024, 4, 1)), options=Options(invoices=False))
    tm.begin()
    s, p = (root.catalog.contracts.get(n) for n in numbers)
    # the phone tariff's fee (250.00 + 20% VAT) is half off for staff; home has no discount
    assert s.account.find_cause(f"fee:{s.number}:phone-2:2024-03").amount == -15000
    assert p.account.find_cause(f"fee:{p.number}:phone-2:2024-03").amount == -30000
    assert s.account.find_cause(f"fee:{s.number}:internet-1:2024-03").amount == -60000
    # the plain debtor is blocked at once, the staff debtor has 3 days' grace
    assert (s.status, p.status) == ("active", "blocked")

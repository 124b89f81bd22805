"""The cash desk through WebTest: shifts, receipts, refunds and their permissions."""
import datetime

import pytest
import webtest
from pyramid.security import Allowed, Denied
from pyramid.config import Configurator
from pyramid.session import SignedCookieSessionFactory

from portmonet import clock
import portmonet
from portmonet import crypto
from portmonet.model.root import get_root
from portmonet.model.staff import StaffUser
from portmonet.payments import cashdesk
from portmonet.payments.permissions import NotPermitted, allowed

from .conftest import add_subscriber


class StaffHeaderPolicy:
    """A stand-in for the web's policy: who is in X-Staff, permissions from roles."""

    def identity(self, request):
        return request.headers.get("X-Staff")

    def authenticated_userid(self, request):
        return self.identity(request)

    def permits(self, request, context, permission):
        staff = request.root["staff"].get(self.identity(request) or "")
        return Allowed("role") if allowed(staff, permission) else Denied("role")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


@pytest.fixture
def app():
    settings = {"zodbconn.uri": "memory://", "portmonet.secret_keys": crypto.DEMO_KEY,
                "portmonet.evolve_on_start": "true",
                "tm.manager_hook": "pyramid_tm.explicit_manager"}
    with Configurator(settings=settings, root_factory=portmonet.root_factory) as config:
        config.include("pyramid_chameleon")
        config.include("pyramid_tm")
        config.include("pyramid_zodbconn")
        config.set_security_policy(StaffHeaderPolicy())
        # The desk's forms carry a CSRF token, which lives in the session.
        config.set_session_factory(SignedCookieSessionFactory("test-secret"))
        config.scan("portmonet.payments")
        portmonet.prepare_database(config, settings)
    wsgi = config.make_wsgi_app()
    db = config.registry._zodb_databases[""]
    with db.transaction() as conn:
        root = get_root(conn.root())
        for login, roles in (("kate", ["cashier"]), ("boss", ["manager"]),
                             ("acc", ["accountant"])):
            root["staff"].add_user(StaffUser(login, roles, "password-123"))
        number = add_subscriber(root, "Smirnova Olga", login="olga").account.number
    test = webtest.TestApp(wsgi)
    test.db, test.number = db, number
    return test


def as_(login):
    return {"X-Staff": login}


def balance(app):
    with app.db.transaction() as conn:
        return get_root(conn.root()).catalog.accounts.get(app.number).balance


def test_shift_payment_receipt_and_totals(app):
    app.get("/payments/cashdesk", headers=as_("nobody"), status=403)
    page = app.get("/payments/cashdesk", headers=as_("kate"))
    assert "Open a shift" in page.text
    app.post("/payments/cashdesk/open", headers=as_("kate"), status=302)
    page = app.get("/payments/cashdesk", {"q": "smirnova"}, headers=as_("kate"))
    assert app.number in page.text
    form = page.forms[2]            # the first account's payment form
    form["amount"] = "500,00"
    receipt = form.submit(headers=as_("kate")).follow(headers=as_("kate"))
    assert "500.00 RUB" in receipt.text and "Smirnova Olga" in receipt.text
    form.submit(headers=as_("kate"))          # the same form again: pays once
    assert balance(app) == 50000
    app.post("/payments/cashdesk/pay", {"account": "olga", "amount": "abc"},
             headers=as_("kate"), status=400)
    app.post("/payments/cashdesk/pay", {"account": "nobody", "amount": "1"},
             headers=as_("kate"), status=400)
    totals = app.post("/payments/cashdesk/close", headers=as_("kate")).json
    assert totals["payments"] == 1 and totals["payments_sum"] == 50000 and totals["cash"] == 50000
    app.post("/payments/cashdesk/pay", {"account": "olga", "amount": "1"},
             headers=as_("kate"), status=400)          # no open shift
    today = clock.today().isoformat()
    day = app.get("/payments/cashdesk/day", {"day": today}, headers=as_("boss")).json
    assert day["kate"]["payments_sum"] == 50000 and day["kate"]["shifts"] == 1


def test_refund_needs_the_role_and_a_reason(app):
    app.post("/payments/cashdesk/open", headers=as_("kate"))
    app.post("/payments/cashdesk/pay", {"account": "olga", "amount": "300"}, headers=as_("kate"))
    # A cashier may not refund ...
    app.post("/payments/cashdesk/refund", {"account": "olga", "amount": "100", "reason": "x"},
             headers=as_("kate"), status=403)
    # ... a manager may, with a reason, within the balance, in a shift of their own.
    app.post("/payments/cashdesk/open", headers=as_("boss"))
    app.post("/payments/cashdesk/refund", {"account": "olga", "amount": "100", "reason": " "},
             headers=as_("boss"), status=400)
    app.post("/payments/cashdesk/refund", {"account": "olga", "amount": "1000", "reason": "r"},
             headers=as_("boss"), status=400)
    res = app.post("/payments/cashdesk/refund", {"account": "olga", "amount": "100",
                                                 "reason": "service not provided", "token": "ab12"},
                   headers=as_("boss"), status=302)
    assert "Refund receipt" in res.follow(headers=as_("boss")).text
    assert balance(app) == 20000
    # A correction is an accountant's, never an edit.
    app.post("/payments/cashdesk/correct", {"account": "olga", "amount": "-5", "reason": "typo"},
             headers=as_("boss"), status=403)
    app.post("/payments/cashdesk/correct", {"account": "olga", "amount": "-5", "reason": "typo"},
             headers=as_("acc"))
    assert balance(app) == 19500
    with app.db.transaction() as conn:
        root = get_root(conn.root())
        kinds = [(p.kind, p.amount) for p in root.catalog.accounts.get(app.number).ledger.values()]
        assert sorted(kinds) == [("correction", -500), ("payment", 30000), ("refund", -10000)]
        from portmonet.ops.check import check_books
        assert check_books(root, conn).ok


def test_service_functions_hold_the_same_rule(root, tm):
    account = add_subscriber(root, "Orlov").account
    cashier = StaffUser("anna", ["cashier"])
    engineer = StaffUser("egor", ["engineer"])
    desk = root["payments"].cashdesk
    with pytest.raises(NotPermitted):
        desk.open_shift(engineer)
    desk.open_shift(cashier)
    cashdesk.take_payment(root, cashier, account, 1000, token="t1")
    with pytest.raises(NotPermitted):
        cashdesk.refund(root, cashier, account, 100, "why")
    with pytest.raises(cashdesk.CashDeskError):
        desk.open_shift(cashier)
    tm.commit()


def test_back_office_views(app):
    app.post("/payments/add-agent", {"name": "t2", "protocol": "osmp", "allow": "10.0.0.0/8"},
             headers=as_("kate"), status=403)
    with app.db.transaction() as conn:
        get_root(conn.root())["staff"].add_user(StaffUser("root", ["administrator"], "password-123"))
    out = app.post("/payments/add-agent", {"name": "t2", "protocol": "osmp", "allow": "10.0.0.0/8",
                                           "login": "x", "password": "secret-pw"},
                   headers=as_("root")).json
    assert out["account"].startswith("9")
    app.post("/payments/add-agent", {"name": "t3", "protocol": "osmp"},
             headers=as_("root"), status=400)
    listed = app.get("/payments", headers=as_("boss")).json
    assert [a["name"] for a in listed] == ["t2"] and listed[0]["url"].endswith("/payments/t2/osmp")
    assert app.get("/payments/journal", {"channel": "osmp"}, headers=as_("boss")).json == []
    assert app.get("/payments/bank", headers=as_("acc")).json == []
    app.post("/payments/bank/assign", {"bank": "b", "ref": "r", "account": "1"},
             headers=as_("kate"), status=403)
    app.post("/payments/bank/assign", {"bank": "b", "ref": "r", "account": "1"},
             headers=as_("acc"), status=400)
    rec = app.get("/payments/reconcile", {"channel": "cash", "day": "2026-11-25"},
                  headers=as_("boss")).json
    assert rec["received"] == rec["booked"] == 0


def test_dealers_see_and_sell_only_their_cards(app):
    with app.db.transaction() as conn:
        root = get_root(conn.root())
        for login in ("d1", "d2"):
            root["staff"].add_user(StaffUser(login, ["dealer"], "password-123"))
        cards = root["payments"].cards
        _, mine = cards.generate("M", 10000, 2, datetime.date(2030, 1, 1))
        _, theirs = cards.generate("T", 10000, 1, datetime.date(2030, 1, 1))
        cards.issue("M", "d1")
        cards.issue("T", "d2")
    assert [b["series"] for b in app.get("/payments/cards/mine", headers=as_("d1")).json] == ["M"]
    app.get("/payments/cards/mine", headers=as_("kate"), status=403)
    ok = app.post("/payments/cards/sell", {"serial": mine[0][0]}, headers=as_("d1")).json
    assert ok["status"] == "sold"
    app.post("/payments/cards/sell", {"serial": theirs[0][0]}, headers=as_("d1"), status=400)

"""The billing and rating web views through the real WSGI application."""
import pytest
import transaction
import webtest

from portmonet import main
from portmonet.billing.run import run
from portmonet.model.root import get_root
from portmonet.rating import rater

from tariffs.world import call, load_plans, make_contract, us


@pytest.fixture
def app():
    from portmonet import crypto
    wsgi = main({}, **{"zodbconn.uri": "memory://", "portmonet.secret_keys": crypto.DEMO_KEY,
                       "portmonet.evolve_on_start": "true", "portmonet.cookie_secure": "false"})
    db = wsgi.registry._zodb_databases[""]
    with db.transaction() as c:
        root = get_root(c.root())
        load_plans(root)
        k = make_contract(root, 1, balance=0)
        root.usage.enqueue(call("cdr:w", k.services("phone")[0].number, "74992223344", 61,
                                us(2024, 3, 4, 12, 0)))
        root.usage.enqueue(call("cdr:x", "74950000000", "74992223344", 61, us(2024, 3, 4, 12, 0)))
        rater.rate_batch(root, 10)
    from portmonet.clock import day_start_us
    import datetime
    run(db, "2024-03", now=day_start_us(datetime.date(2024, 4, 1)))
    yield signed_in(wsgi, db, "accountant")
    transaction.abort()


def signed_in(wsgi, db, role):
    """A browser signed in as an employee with *role* (the views are closed to anonymous)."""
    from portmonet.model.staff import StaffUser
    with db.transaction() as c:
        get_root(c.root())["staff"].add_user(StaffUser(role, (role,), "correct horse 1"))
    client = webtest.TestApp(wsgi, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    form = client.get("/@@login").forms["form"]
    form["login"], form["password"] = role, "correct horse 1"
    form.submit(status=302)
    return client


def test_views_are_closed_to_anonymous(app):
    anonymous = webtest.TestApp(app.app)
    assert anonymous.get("/billing/invoice?number=1", status=302).location.endswith(
        "came_from=%2Fbilling%2Finvoice%3Fnumber%3D1")
    anonymous.get("/rating/errors", status=302)


def test_invoice_pdf_and_html(app):
    res = app.get("/billing/invoice?number=1")
    assert res.content_type == "application/pdf" and res.body.startswith(b"%PDF")
    assert "INV-00000001" in app.get("/billing/invoice?number=1&format=html").text
    app.get("/billing/invoice?number=99", status=404)
    app.get("/billing/invoice?number=x", status=400)


def test_reports_on_screen_and_csv(app):
    page = app.get("/billing/report?kind=charges&period=2024-03").text
    assert "internet" in page and "600.00" in page
    csv = app.get("/billing/report?kind=revenue&period=2024-03&format=csv")
    assert csv.content_type == "text/csv" and "home,600.00" in csv.text
    assert "blocked" in app.get("/billing/report?kind=debtors").text
    app.get("/billing/report?kind=charges&period=2024-3", status=400)


def test_rating_errors_and_explain(app):
    assert "unknown calling number 74950000000" in app.get("/rating/errors").text
    assert app.get("/rating/explain?source_id=cdr:w").json["amount"] == 240
    app.get("/rating/explain?source_id=nope", status=404)


def test_reports_need_the_reports_permission(app):
    cashier = signed_in(app.app, app.app.registry._zodb_databases[""], "cashier")
    cashier.get("/billing/report?kind=charges&period=2024-03", status=403)

"""The subscribers' office."""
import datetime

from portmonet import clock
from portmonet import crypto

from .conftest import csrf_of


def test_login_by_internet_login_shows_balance_and_ledger(site):
    client = site.office_login("ivanov", "inet-pass-1")
    assert "@@office" in client.get("/").location         # the front page sends them home
    home = client.get("/office").follow()
    assert home.request.path == "/subscribers/1001/@@office"
    assert home.html.find(id="balance-1001-1").text == "500.00"
    assert "Opening payment" in home.text
    ledger = client.get("/subscribers/1001/@@office-ledger", {"contract": "1001-1"})
    assert "Opening payment" in ledger.text
    assert client.get("/subscribers/1001/@@office-ledger", {"contract": "nope"},
                      expect_errors=True).status_int == 404


def test_login_by_contract_number_needs_office_password(site):
    client = site.client()
    form = client.get("/@@office-login").forms["form"]
    form["identifier"], form["password"] = "1001-1", "inet-pass-1"
    assert form.submit(expect_errors=True).status_int == 403
    def set_pw(root):
        root["subscribers"]["1001"].office_password_hash = crypto.hash_password("office secret 1")
    site.change(set_pw)
    site.office_login("1001-1", "office secret 1")
    # With an office password set, the Internet password no longer opens it.
    form = site.client().get("/@@office-login").forms["form"]
    form["identifier"], form["password"] = "ivanov", "inet-pass-1"
    assert form.submit(expect_errors=True).status_int == 403


def test_unknown_and_wrong_look_the_same(site):
    results = []
    for ident in ("ivanov", "no-such-login"):
        form = site.client().get("/@@office-login").forms["form"]
        form["identifier"], form["password"] = ident, "wrong"
        res = form.submit(expect_errors=True)
        results.append((res.status_int, res.html.find(id="login-error").text))
    assert results[0] == results[1]


def test_office_throttled(site):
    client = site.client()
    for _ in range(10):
        form = client.get("/@@office-login").forms["form"]
        form["identifier"], form["password"] = "ivanov", "wrong"
        form.submit(expect_errors=True)
    form = client.get("/@@office-login").forms["form"]
    form["identifier"], form["password"] = "ivanov", "inet-pass-1"
    assert form.submit(expect_errors=True).status_int == 403


def test_change_password(site):
    client = site.office_login("ivanov", "inet-pass-1")
    other_session = site.office_login("ivanov", "inet-pass-1")
    form = client.get("/subscribers/1001/@@office-password").forms["form"]
    form["old"], form["new"], form["confirm"] = "wrong", "new office pw", "new office pw"
    assert "wrong password" in form.submit(status=400).text
    form = client.get("/subscribers/1001/@@office-password").forms["form"]
    form["old"], form["new"], form["confirm"] = "inet-pass-1", "new office pw", "different"
    form.submit(status=400)
    form["old"], form["new"], form["confirm"] = "inet-pass-1", "new office pw", "new office pw"
    form.submit(status=302)
    assert client.get("/subscribers/1001/@@office").status_int == 200      # still signed in
    assert other_session.get("/subscribers/1001/@@office", expect_errors=True).status_int == 302
    site.office_login("1001-1", "new office pw")
    rec = site.db.history(site.read(lambda r: r["subscribers"]["1001"]._p_oid), 1)[0]
    assert rec["user_name"] == "subscriber:1001" and "office password" in rec["description"]


def test_runs_out_date_from_recent_charges(site):
    from portmonet.ledger.account import now_us
    def charge(root):
        acc = root["subscribers"]["1001"]["1001-1"].account
        acc.post(-30000, "charge", "t:month", "Fees", when=now_us() - 86_400_000_000)
    site.change(charge)          # 300.00 a month = 10.00 a day; 200.00 left
    client = site.office_login("ivanov", "inet-pass-1")
    home = client.get("/subscribers/1001/@@office")
    expected = (clock.today() + datetime.timedelta(days=20)).isoformat()
    assert home.html.find(class_="runs-out").text == expected


def test_office_logout(site):
    client = site.office_login("ivanov", "inet-pass-1")
    page = client.get("/subscribers/1001/@@office")
    client.post("/office-logout", {"csrf_token": csrf_of(page)}, status=302)
    assert client.get("/subscribers/1001/@@office", expect_errors=True).status_int == 302


def test_notification_settings(site):
    client = site.office_login("ivanov", "inet-pass-1")
    form = client.get("/subscribers/1001/@@office-notifications").forms["form"]
    assert form["notify_email"].checked and form["notify_sms"].checked
    form["notify_sms"] = False
    form.submit(status=302)
    assert site.read(lambda r: (r["subscribers"]["1001"].notify_email,
                                r["subscribers"]["1001"].notify_sms)) == (True, False)
    assert client.get("/subscribers/1002/@@office-notifications", expect_errors=True).status_int == 403

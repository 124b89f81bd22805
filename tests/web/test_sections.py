"""The card's and the office's sections from the features' real data:
RADIUS accounting (sessions), the rater (calls), the billing run
(invoices and their PDFs), billing's promised payment."""
import datetime

from portmonet import clock
from portmonet.ledger.account import now_us
from portmonet.radius import accounting
from portmonet.radius.nas import Nas
from portmonet.rating import rater

from tariffs.world import call, make_contract, load_plans, us

from .conftest import csrf_of

HOUR = 3600 * 1_000_000


def _acct(root, nas, status, sid, login, when_us, seconds=0, octets_in=0, octets_out=0):
    accounting.apply(root, nas, {
        "status": status, "when_us": when_us, "session_id": sid, "login": login,
        "octets_in": octets_in, "octets_out": octets_out, "seconds": seconds,
        "framed_ip": "10.0.0.7", "mac": "", "port_id": "", "cause": 1})


def world(site, sessions=3):
    """Ivanov's login with *sessions* closed sessions and one online; a
    subscriber with a telephone line, one rated call and a billed month."""
    def setup(root):
        nas = Nas("nas1", "127.0.0.1", "nas secret 1")
        root["equipment"].add("nas1", nas)
        now = now_us()
        for n in range(sessions):
            start = now - (n + 2) * HOUR
            _acct(root, nas, accounting.START, f"s{n}", "ivanov", start)
            _acct(root, nas, accounting.STOP, f"s{n}", "ivanov", start + 600 * 1_000_000,
                  seconds=600, octets_in=(n + 1) * 1_000_000, octets_out=2_000_000)
        _acct(root, nas, accounting.START, "live", "ivanov", now - 60 * 1_000_000)
        load_plans(root)
        contract = make_contract(root, 7, balance=100000)
        line = contract.services("phone")[0].number
        for n in range(3):
            root.usage.enqueue(call(f"cdr:{n}", line, "74992223344", 61 + n,
                                    us(2024, 3, 4, 12, n)))
        contract.account.post(5000, "payment", "t:pay", "Bank")
        return contract.__parent__.id, contract.number
    sid, number = site.change(setup)
    site.change(lambda root: rater.rate_batch(root, 10))
    from portmonet.billing import run
    run.run(site.db, "2024-03", now=us(2024, 4, 2, 0, 0))
    return sid, number


def test_card_shows_sessions_traffic_calls_invoices_payments(site):
    sid, number = world(site)
    client = site.login("manager")
    card = client.get("/subscribers/1001/")
    online = card.html.find(id="online").text
    assert "ivanov" in online and "online" in online
    recent = card.html.find(id="recent-sessions")
    assert len(recent.find_all("tr")) == 1 + 3          # header + 3 closed
    assert "3.0" in recent.text                          # 3 MB in of the oldest session
    bars = card.html.find(id="plot-traffic").find_all("rect")
    # the newest closed session started two hours ago: its UTC day (yesterday
    # just after midnight) has a bar
    day = datetime.datetime.fromtimestamp(now_us() / 1e6 - 2 * 3600, datetime.timezone.utc)
    heights = {b.title.text.split(":")[0]: int(b["height"]) for b in bars}
    assert len(bars) == 14 and heights[day.strftime("%d.%m")] > 0

    other = client.get(f"/subscribers/{sid}/")
    calls = other.html.find(id=f"calls-{number}")
    assert len(calls.find_all("tr")) == 1 + 3 and "74992223344" in calls.text
    invoices = other.html.find(id=f"invoices-{number}")
    link = invoices.find("a", class_="invoice-pdf")
    assert link.text == "INV-00000001.pdf" and "2024-03" in invoices.text
    pdf = client.get(link["href"])
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF")
    assert "50.00" in other.html.find(id=f"payments-{number}").text


def test_card_shows_why_the_network_refused_a_login_and_the_office_does_not(site):
    world(site, sessions=1)

    def refuse(root):
        for n in range(12):
            root.radius.record_reject("ivanov", f"wrong password #{n}", "nas1",
                                      when_us=1_700_000_000_000_000 + n)
    site.change(refuse)
    card = site.login("manager").get("/subscribers/1001/")
    rows = card.html.find(id="rejects").find_all("tr")[1:]
    assert len(rows) == 10                                   # one card page, newest first
    assert "wrong password #11" in rows[0].text and "nas1" in rows[0].text
    assert "wrong password #2" in rows[-1].text
    home = site.office_login("ivanov", "inet-pass-1").get("/subscribers/1001/@@office")
    assert "online" in home.html.find(id="online").text      # the office home's sections...
    assert home.html.find(id="rejects") is None              # ...without the refusals


def test_sessions_pages_walk_back_without_repeats(site):
    world(site, sessions=45)
    client = site.login("cashier")
    seen, url = [], "/subscribers/1001/@@sessions"
    while url:
        page = client.get(url)
        rows = page.html.find(id="sessions").find_all("tr")[1:]
        assert 0 < len(rows) <= 20 + (not seen)        # the online one on the first page
        seen.extend(r.find_all("td")[1].text for r in rows)
        older = page.html.find(id="older")
        url = older["href"] if older else None
    assert len(seen) == 46 and len(set(seen)) == 46 and seen == sorted(seen, reverse=True)


def test_calls_page_pages(site):
    sid, number = world(site)
    client = site.login("auditor")
    page = client.get(f"/subscribers/{sid}/@@calls?contract={number}")
    assert len(page.html.find(id="calls").find_all("tr")) == 4
    assert client.get(f"/subscribers/{sid}/@@calls?contract=nope", status=404)


def test_office_sees_own_sections_and_invoice_pdf_only(site):
    sid, number = world(site)
    def office_password(root):
        from portmonet import crypto
        root["subscribers"][sid].office_password_hash = crypto.hash_password("office pw 7")
    site.change(office_password)
    client = site.office_login(number, "office pw 7")
    home = client.get(f"/subscribers/{sid}/@@office")
    link = home.html.find(id=f"invoices-{number}").find("a", class_="invoice-pdf")
    assert client.get(link["href"]).body.startswith(b"%PDF")
    assert len(home.html.find(id=f"calls-{number}").find_all("tr")) == 4
    assert client.get(f"/subscribers/{sid}/@@office-calls?contract={number}").status_int == 200
    # Another subscriber's invoice number through one's own office: not found.
    ivanov = site.office_login("ivanov", "inet-pass-1")
    assert ivanov.get("/subscribers/1001/@@office-invoice?number=1", expect_errors=True
                      ).status_int == 404
    assert ivanov.get(f"/subscribers/{sid}/@@office-invoice?number=1", expect_errors=True
                      ).status_int == 403
    assert ivanov.get(f"/subscribers/{sid}/@@office-sessions", expect_errors=True
                      ).status_int == 403


def test_office_promised_payment_uses_billing_rules(site):
    client = site.office_login("ivanov", "inet-pass-1")
    page = client.get("/subscribers/1001/@@office-promise")
    form = page.forms["form"]
    form["amount"], form["days"] = "900.00", "3"
    assert "up to 500.00" in form.submit(status=400).text
    form = client.get("/subscribers/1001/@@office-promise").forms["form"]
    form["amount"], form["days"] = "300.00", "3"
    form.submit(status=302)
    home = client.get("/subscribers/1001/@@office")
    until = (clock.today() + datetime.timedelta(days=3)).isoformat()
    assert "300.00" in home.html.find(class_="promise").text and until in home.text
    def check(root):
        c = root["subscribers"][1001]["1001-1"]
        return c.account.credit_limit, root["billing"].promises[c.number].active
    assert site.read(check) == (30000, True)
    # A second one while the first runs: refused by billing, nothing saved.
    form = client.get("/subscribers/1001/@@office-promise").forms["form"]
    form["amount"], form["days"] = "100.00", "1"
    assert "already running" in form.submit(status=400).text
    assert site.read(check) == (30000, True)
    rec = site.db.history(site.read(lambda r: r["billing"].promises._p_oid), 1)[0]
    assert rec["user_name"] == "subscriber:1001" and "promised payment 30000" in rec["description"]
    # Missing CSRF token: refused.
    res = client.post("/subscribers/1001/@@office-promise",
                      {"contract": "1001-1", "amount": "1.00", "days": "1"}, expect_errors=True)
    assert res.status_int in (400, 403)
    assert csrf_of(home)


def test_dashboard_operations(site):
    world(site)
    def debt(root):
        from portmonet.payments.credit import credit
        contract = root["subscribers"][1002]["1002-1"]
        # Booked the one way payments are booked: recorded in the day figures.
        credit(root, contract.account, 12345, "osmp", "agent", "t1")
        # (a debtor after the payment: a payment clears the debt it covers)
        root["billing"].debt["1002-1"] = clock.today().toordinal()
        contract.set_status("blocked", "debt", "test")
        return dict(root.contract_counts.as_dict())
    counts = site.change(debt)
    client = site.login("auditor")
    page = client.get("/")
    assert page.html.find(id="op-online").b.text == "1"
    assert page.html.find(id="op-debtors").b.text == "1"
    assert page.html.find(id="op-payments-today").b.text == "1 / 123.45"
    # Contracts per status from the counters Contract keeps.
    assert counts["blocked"] == 1
    assert page.html.find(id="op-blocked").b.text == "1"
    assert page.html.find(id="op-active").b.text == f"{counts['active']:,}"
    assert site.read(lambda r: r.day_figures.series("payments", days=1)[0][1:]) == (1, 12345)
    # RADIUS accounting's traffic (3 closed sessions: 1+2+3 MB in, 2 MB out
    # each) recorded as it happened, and plotted.
    assert site.read(lambda r: r.day_figures.series("traffic", days=1)[0][2]) == 12_000_000
    assert len(page.html.find(id="plot-traffic").find_all("rect")) == 14
    # A gauge a feature keeps wins over counting (once the memo expires).
    site.change(lambda root: root.day_figures.adjust("online_sessions", 41))
    assert page.html.find(id="op-online").b.text == "1"
    site.app.registry.pm_dashboard_memo.ttl = 0
    assert client.get("/").html.find(id="op-online").b.text == "41"


def test_bounded_len_caps():
    from BTrees.OOBTree import OOBTree
    from portmonet.web.figures import bounded_len
    tree = OOBTree({n: n for n in range(50)})
    assert bounded_len(tree.keys(), cap=10) == (10, False)
    assert bounded_len(tree.keys(), cap=100) == (50, True)


def test_buckets_holding_names_the_buckets_of_keys():
    from BTrees.LOBTree import LOBTree
    from portmonet.web.helpers import buckets_holding
    tree = LOBTree({n: str(n) for n in range(100_000)})
    buckets = buckets_holding(tree, [99_999, 5, 50_000, 6])
    assert len(buckets) == 3
    for key in (5, 6, 50_000, 99_999):
        assert sum(1 for b in buckets if key in b) == 1
    assert buckets_holding(LOBTree({1: "a"}), [1]) == []        # one inline bucket
    assert buckets_holding(tree, []) == []

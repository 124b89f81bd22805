"""The employees' workplace: search, card, forms, cash desk, ledger, status,
staff, with hostile input."""
import datetime
import re

import pytest

from portmonet import clock
from portmonet.model.subscriber import Subscriber

from .conftest import csrf_of

C = "/subscribers/1001/1001-1"


def _ids(page):
    return [int(x) for x in re.findall(r'<tr>\s*<td>(\d+)</td>', page.text)]


@pytest.mark.parametrize("query, expected", [
    ("ivanov", [1001]),                  # Internet login
    ("Ivan", [1001]),                    # name word prefix
    ("iva", [1001]),
    ("IVANOV ivan", [1001]),
    ("8 (495) 123-45-67", [1001]),       # contact phone, any spelling
    ("+74951112233", [1002]),
    ("1001-1", [1001]),                  # contract number
    ("10.0.0.7", [1001]),                # static IP
    ("IVAN@example.com", [1001]),        # e-mail
    ("1002", [1002]),                    # subscriber number
    ("nobody", []),
])
def test_search_finds(site, query, expected):
    client = site.login("cashier")
    page = client.get("/search", {"q": query})
    assert _ids(page) == expected


def test_search_by_account_number(site):
    client = site.login("cashier")
    page = client.get("/search", {"q": site.ids["ivanov_account"]})
    assert _ids(page) == [1001]


def test_search_paginates(site):
    client = site.login("cashier")
    first = client.get("/search", {"q": "sidorov"})
    assert first.html.find(id="total").text == "45"
    assert len(_ids(first)) == 20 and "1 / 3" in first.text
    third = first.click(href="page=1").click(href="page=2")
    assert len(_ids(third)) == 5 and "3 / 3" in third.text
    assert set(_ids(first)).isdisjoint(_ids(third))


def test_search_hostile_queries(site):
    client = site.login("cashier")
    assert client.get("/search", {"q": "x" * 5000}, expect_errors=True).status_int == 400
    page = client.get("/search", {"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert client.get("/search", {"q": "sidorov", "page": "abc"}).status_int == 200
    assert client.get("/search", {"q": "", "page": "-5"}, expect_errors=True).status_int in (200, 400)


def test_create_subscriber_and_reshow_errors(site):
    client = site.login("manager")
    form = client.get("/subscribers/@@add").forms["form"]
    form["name"] = "A" * 300                 # overlong
    form["phone"] = "call me maybe"          # wrong type
    form["email"] = "not-an-address"
    bad = form.submit(status=400)
    assert bad.text.count('class="error"') >= 3
    assert "not-an-address" in bad.text      # the form comes back filled in
    assert site.read(lambda r: len(r["subscribers"])) == 47
    form = bad.forms["form"]
    form["name"] = "<script>alert('x')</script> Smirnova"
    form["phone"] = "+7 916 000 11 22"
    form["email"] = "smirnova@example.com"
    card = form.submit(status=302).follow()
    assert "<script>alert" not in card.text and "&lt;script&gt;" in card.text
    sid = int(card.request.path.strip("/").split("/")[-1])
    def check(root):
        s = root["subscribers"][str(sid)]
        return s.phone, len(s.contracts()), list(root.catalog.phones.ids("79160001122"))[0]
    assert site.read(check) == ("79160001122", 1, sid)


def test_edit_subscriber_recorded_in_history(site):
    client = site.login("manager")
    form = client.get("/subscribers/1001/@@edit").forms["form"]
    form["name"] = "Ivanov Ivan Petrovich"
    form.submit(status=302)
    auditor = site.login("auditor")
    card = auditor.get("/subscribers/1001/")
    history = card.click(href="@@history").html.find(id="history").text
    assert "manager" in history and "subscriber 1001 edited" in history
    assert "Ivanov Ivan Petrovich" in history           # what changed
    assert _ids(client.get("/search", {"q": "petrovich"})) == [1001]
    # A cashier sees the card but not the change history.
    assert "@@history" not in site.login("cashier").get("/subscribers/1001/").text


def test_duplicate_login_refused_and_nothing_half_saved(site):
    client = site.login("manager")
    form = client.get(f"{C}/@@add-internet").forms["form"]
    form["login"] = "petrov"                 # taken by another subscriber
    form["password"] = "x1"
    res = form.submit(status=400)
    assert "already taken" in res.text
    assert site.read(lambda r: len(r["subscribers"]["1001"]["1001-1"].services())) == 1
    form = res.forms["form"]
    form["login"] = "ivanov2"
    form["password"] = "x1"
    form["ip"] = "300.1.1.1"
    assert form.submit(status=400)
    form = client.get(f"{C}/@@add-internet").forms["form"]
    form["login"], form["password"], form["ip"] = "ivanov2", "x1", "10.0.0.8"
    form.submit(status=302)
    assert site.read(lambda r: r.catalog.logins.get("ivanov2").ip_text) == "10.0.0.8"


def test_cash_desk_payment_posts_once(site):
    client = site.login("cashier")
    page = client.get(f"{C}/@@pay")
    form = page.forms["form"]
    form["amount"] = "123,45"
    res = form.submit(status=302).follow()
    assert res.html.find(id="balance").text == "623.45"
    # The same form sent again (double click, retry) posts nothing more.
    form.submit(status=302)
    def check(root):
        acc = root["subscribers"]["1001"]["1001-1"].account
        payments = [p for p in acc.ledger.values() if p.cause.startswith("cashdesk:")]
        return acc.balance, [(p.amount, p.user) for p in payments]
    assert site.read(check) == (62345, [(12345, "cashier")])
    payments = client.get("/subscribers/1001/").html.find(id="payments-1001-1").text
    assert "123.45" in payments and "500.00" in payments and "cashier" in payments
    rec = site.db.history(site.read(lambda r: r["subscribers"]["1001"]["1001-1"].account._p_oid), 1)[0]
    assert rec["user_name"] == "cashier" and "cash desk payment 12345" in rec["description"]


@pytest.mark.parametrize("amount", ["", "abc", "-5", "0", "1.234", "1e10", "9" * 30,
                                    "<script>", "NaN"])
def test_cash_desk_refuses_bad_amounts(site, amount):
    client = site.login("cashier")
    form = client.get(f"{C}/@@pay").forms["form"]
    form["amount"] = amount
    res = form.submit(expect_errors=True)
    assert res.status_int == 400
    assert site.read(lambda r: r["subscribers"]["1001"]["1001-1"].account.balance) == 50000


def test_payment_token_must_be_well_formed(site):
    client = site.login("cashier")
    page = client.get(f"{C}/@@pay")
    res = client.post(f"{C}/@@pay", {"csrf_token": csrf_of(page), "amount": "10",
                                      "token": "../../etc"}, expect_errors=True)
    assert res.status_int == 400


def test_block_and_unblock_queue_disconnect(site):
    client = site.login("engineer")
    form = client.get(f"{C}/@@status").forms["form"]
    form["status"] = "blocked"
    form["reason"] = "debt"
    page = form.submit(status=302).follow()
    assert page.html.find(id="status").text == "blocked"
    assert "debt" in page.html.find(id="status-history").text
    due = site.read(lambda r: [(m.payload["action"], m.payload["login"])
                               for m in r.outbox.due("radius")])
    assert ("disconnect", "ivanov") in due
    form = client.get(f"{C}/@@status").forms["form"]
    form["status"] = "draft"                 # not allowed from blocked
    form["reason"] = "oops"
    assert "cannot become" in form.submit(status=400).text
    form = client.get(f"{C}/@@status").forms["form"]
    form["status"], form["reason"] = "active", "paid"
    form.submit(status=302)
    assert site.read(lambda r: r["subscribers"]["1001"]["1001-1"].status) == "active"


def test_ledger_filters_by_kind_and_period(site):
    def post(root):
        acc = root["subscribers"]["1001"]["1001-1"].account
        acc.post(-1000, "charge", "t:c1", "Monthly fee", when=1_700_000_000_000_000)   # 2023-11-14
        acc.post(-2000, "charge", "t:c2", "Traffic", when=1_710_000_000_000_000)       # 2024-03-09
    site.change(post)
    client = site.login("accountant")
    all_rows = client.get(f"{C}/account/").html.find(id="ledger").find_all("tr")
    assert len(all_rows) == 4
    charges = client.get(f"{C}/account/", {"kind": "charge"}).html.find(id="ledger").text
    assert "Monthly fee" in charges and "Opening payment" not in charges
    period = client.get(f"{C}/account/", {"start": "2024-01-01", "end": "2024-12-31"})
    text = period.html.find(id="ledger").text
    assert "Traffic" in text and "Monthly fee" not in text
    bad = client.get(f"{C}/account/", {"start": "yesterday"})
    assert "Traffic" not in bad.html.find(id="ledger").text


def test_contract_credit_limit_edit(site):
    client = site.login("manager")
    form = client.get(f"{C}/@@edit").forms["form"]
    form["credit_limit"] = "-3"
    form.submit(status=400)
    form["credit_limit"] = "150.00"
    form.submit(status=302)
    assert site.read(lambda r: r["subscribers"]["1001"]["1001-1"].account.credit_limit) == 15000


def test_new_contract(site):
    client = site.login("dealer")
    form = client.get("/subscribers/1002/@@add-contract").forms["form"]
    form["number"] = "1001-1"                # taken by Ivanov
    assert form.submit(status=400)
    assert site.read(lambda r: len(r["subscribers"]["1002"].contracts())) == 1
    form = client.get("/subscribers/1002/@@add-contract").forms["form"]
    form["number"] = "D-77"
    form.submit(status=302)
    assert site.read(lambda r: r.catalog.contracts.get("D-77").__parent__.id) == 1002


def test_staff_admin(site):
    client = site.login("administrator")
    form = client.get("/staff/@@add").forms["form"]
    form["login"] = "new cashier"            # a space: not a login
    form["password"] = "12345678"
    assert form.submit(status=400)
    form = client.get("/staff/@@add").forms["form"]
    form["login"] = "kassa2"
    form["password"] = "long enough 1"
    form["roles"] = ["cashier", "dealer"]
    form.submit(status=302)
    assert site.read(lambda r: r["staff"]["kassa2"].roles) == ("cashier", "dealer")
    site.login("kassa2", "long enough 1")
    # An administrator cannot take the role from themself.
    form = client.get("/staff/administrator/").forms["form"]
    form["roles"] = ["auditor"]
    assert "yourself" in form.submit(status=400).text
    # Disabling a user ends their sessions.
    other = site.login("dealer")
    form = client.get("/staff/dealer/").forms["form"]
    form["active"] = False
    form.submit(status=302)
    assert other.get("/", expect_errors=True).status_int == 302


def test_dashboard_figures(site):
    page = site.login("auditor").get("/")
    assert "47" in page.text and "Subscribers" in page.text
    assert site.client().get("/health").json["subscribers"] == 47


def test_kick_session_and_change_tariff(site):
    from portmonet.model.simple import Tariff
    def tariffs(root):
        root["tariffs"].add("home-50", Tariff("home-50", "Home 50", monthly_fee=45000))
        root["tariffs"].add("home-100", Tariff("home-100", "Home 100", monthly_fee=60000))
        root["tariffs"].add("tv", Tariff("tv", "TV", kind="tv"))
    site.change(tariffs)
    client = site.login("manager")
    page = client.get(f"{C}/")
    kick = [f for f in page.forms.values() if f.action.endswith("@@kick")][0]
    kick.submit(status=302)
    due = site.read(lambda r: [m.payload for m in r.outbox.due("radius")])
    assert [(p["action"], p["login"], p["user"]) for p in due] == [("disconnect", "ivanov", "manager")]
    form = client.get(f"{C}/internet-1/@@tariff").forms["form"]
    assert [o[0] for o in form["tariff"].options] == ["home-100", "home-50"]   # no TV tariff
    form["tariff"] = "home-100"
    form.submit(status=302)
    assert site.read(lambda r: r.catalog.logins.get("ivanov").tariff.name) == "home-100"
    bad = client.post(f"{C}/internet-1/@@tariff", {"csrf_token": csrf_of(page), "tariff": "tv"},
                      expect_errors=True)
    assert bad.status_int == 400
    # From the next period: today's tariff stays, the change waits in the
    # service's tariff history (the billing run moves it on).
    form = client.get(f"{C}/internet-1/@@tariff").forms["form"]
    form["tariff"], form["when"] = "home-50", "next"
    form.submit(status=302)
    today = clock.today()
    first = datetime.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    def state(root):
        from portmonet.tariffs.assign import tariff_for
        service = root.catalog.logins.get("ivanov")
        return service.tariff.name, tariff_for(service, first).name
    assert site.read(state) == ("home-100", "home-50")
    page = client.get(f"{C}/internet-1/@@tariff")
    assert f"Home 50 from {first.isoformat()}" in page.text
    bad = client.post(f"{C}/internet-1/@@tariff", {"csrf_token": csrf_of(page), "tariff": "home-50",
                                                   "when": "yesterday"}, expect_errors=True)
    assert bad.status_int == 400


def test_identity_document_kept_encrypted(site):
    client = site.login("manager")
    form = client.get("/subscribers/1001/@@edit").forms["form"]
    form["identity_document"] = "passport 4510 123456"
    form.submit(status=302)
    def check(root):
        s = root["subscribers"]["1001"]
        return s.identity_document, b"4510" in s._identity
    assert site.read(check) == ("passport 4510 123456", False)
    assert "4510" not in client.get("/subscribers/1001/").text
    assert "4510" not in client.get("/subscribers/1001/@@edit").text


def test_short_words_match_whole(site):
    client = site.login("cashier")
    assert _ids(client.get("/search", {"q": "iv"})) == []
    def add(root):
        root["subscribers"].add_subscriber(Subscriber("Li Wei"), id=2000)
    site.change(add)
    assert _ids(client.get("/search", {"q": "li"})) == [2000]


def test_ledger_pages_back_in_time(site):
    from portmonet.web.views.contract import LEDGER_PAGE
    def post(root):
        acc = root["subscribers"]["1001"]["1001-1"].account
        for n in range(LEDGER_PAGE + 30):
            acc.post(-1, "charge", f"t:p{n}", f"fee {n}", when=1_700_000_000_000_000 + n * 1_000_000)
    site.change(post)
    client = site.login("accountant")
    first = client.get(f"{C}/account/", {"kind": "charge"})
    rows = first.html.find(id="ledger").find_all("tr")[1:]
    assert len(rows) == LEDGER_PAGE and "fee 129" in rows[0].text
    second = first.click(href="before=")
    rows2 = second.html.find(id="ledger").find_all("tr")[1:]
    assert len(rows2) == 30 and "fee 29" in rows2[0].text and "fee 0" in rows2[-1].text
    assert second.html.find(id="older") is None
    assert client.get(f"{C}/account/", {"before": "x" * 40}).status_int == 200


def test_dashboard_plots_cash_desk_payments(site):
    cashier = site.login("cashier")
    for amount in ("100", "50.50"):
        form = cashier.get(f"{C}/@@pay").forms["form"]
        form["amount"] = amount
        form.submit(status=302)
    page = site.login("accountant").get("/")
    plot = page.html.find(id="plot-cashdesk_payments")
    assert plot is not None and "150.50" in page.text
    heights = [int(r["height"]) for r in plot.find_all("rect")]
    assert len(heights) == 14 and heights[-1] > 0 and heights[:-1] == [0] * 13
    # A cashier has no view_reports: figures, no plot.
    assert 'id="plot-cashdesk_payments"' not in cashier.get("/").text
    # The other series appear once a feature records into them.
    assert page.html.find(id="plot-traffic") is None
    from portmonet.web import figures
    site.change(lambda root: figures.record(root, "traffic", 3_000_000_000))
    plot = site.login("auditor").get("/").html.find(id="plot-traffic")
    assert plot is not None and "3.0 GB" in plot.find_all("title")[-1].text


def test_day_figures_merge_concurrent_records(zeo_db):
    """Two clients of a real ZEO server recording on the same day at once
    both count (the Lengths resolve the conflict on the server)."""
    import transaction
    from portmonet.model.root import get_root, install
    db = zeo_db
    from portmonet.web.figures import record
    tm0 = transaction.TransactionManager()
    c0 = db.open(transaction_manager=tm0)
    install(c0.root())
    record(get_root(c0.root()), "cashdesk_payments", 1)       # the day's counters exist
    tm0.commit()
    tms = [transaction.TransactionManager() for _ in range(2)]
    conns = [db.open(transaction_manager=t) for t in tms]
    for conn, amount in zip(conns, (100, 250)):
        record(get_root(conn.root()), "cashdesk_payments", amount)
    for t in tms:
        t.commit()
    tm0.begin()
    series = get_root(c0.root()).day_figures.series("cashdesk_payments", days=1)
    assert series[0][1:] == (3, 351)


def test_search_reads_one_page_of_a_common_name(site):
    """1,030 Sidorovs: a page is read lazily, the count stops at the cap
    (200 beyond the page's start) and says so; a later page counts on."""
    from portmonet.model.subscriber import Subscriber
    from portmonet.web import search
    def many(root):
        subs = root["subscribers"]
        for n in range(985):
            subs.add_subscriber(Subscriber(f"Sidorov Extra{n}"), id=5000 + n)
    site.change(many)
    ids0, total, at_least, more = site.read(lambda r: search.search_page(r, "sidor", 0, 20))
    assert total is None and at_least == search.COUNT_CAP and more
    assert ids0 == list(range(1003, 1023))
    ids49, total, at_least, more = site.read(lambda r: search.search_page(r, "sidorov", 51, 20))
    assert total == 1030 and not more and len(ids49) == 10 and ids49[-1] == 5984
    both = site.read(lambda r: search.search_page(r, "sidorov extra98", 0, 20))
    assert both[0] == [5098] + list(range(5980, 5985)) and both[1] == 6
    client = site.login("cashier")
    page = client.get("/search", {"q": "sidorov"})
    assert page.html.find(id="total").text == "200+" and "1 / …" in page.text
    assert client.get("/search", {"q": "sidorov", "page": "51"}).html.find(id="total").text == "1030"

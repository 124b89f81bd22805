"""The version form's rows and lists -- one-time fees, content prices,
discounts and promotions, holidays, the fee's period, charge and suspended
amount, the tax name -- through the real application (WebTest): made in
the browser, shown again, corrected, refused with the loader's messages,
and then what the rater and the billing run price with."""
import datetime
from decimal import Decimal

import pytest

import portmonet.tariffs.views  # noqa: F401  (grants manage_tariffs, as config.scan() does)
from portmonet import clock
from portmonet.clock import day_start_us
from portmonet.billing.run import Options, run
from portmonet.rating.model import cause_of
from portmonet.rating.rater import rate_batch
from portmonet.tariffs import rules
from portmonet.tariffs.loader import install, load_text, parse_document
from portmonet.usage import UsageRecord

from conftest import today_pinned_to
from tariffs.world import call, load_plans, make_contract, us
from web.conftest import assert_refused, cheap_argon2, csrf_of, site  # noqa: F401  (fixtures)

D = datetime.date
TODAY = clock.today()
TOMORROW = TODAY + datetime.timedelta(days=1)
_today = today_pinned_to(TODAY)
# A version far ahead holding every part there is: the latest version, so
# the new-version form starts as a copy of it.
RICH = """
tariffs:
  - name: rich
    kind: internet
    timezone: Europe/Moscow
    versions:
      - effective: 2090-01-01
        fee: {amount: "31.00", period: day, charge: arrears, suspended: "3.10"}
        one_time:
          - {code: connection, title: Connection, amount: "1500.00"}
          - {code: router, title: "Router sale", amount: "3990.50"}
        content: [{code: match-1, title: "Final match", amount: "99.00"}]
        tax: {rate: "18.5", included: false, name: GST}
        discounts:
          - {name: students, percent: "12.5", applies: all, group: students, from: 2090-01-01, to: 2090-06-30}
          - {name: welcome, amount: "100.00", applies: fee, to: 2090-02-28}
          - {name: bundle, percent: 10, applies: fee, requires: [internet, tv]}
          - {name: usage-off, percent: 5, applies: usage, from: 2090-03-01}
        holidays: [2090-01-01, 2090-05-09, 2090-01-07]
        periods:
          - {name: night, from: "23:00", to: "07:00", days: [workdays]}
          - {name: weekend, from: "00:00", to: "00:00", days: [weekend, holiday]}
        rate_limit: 100M/50M
        traffic_classes: {local: [10.0.0.0/8]}
        volume:
          - {name: local-free, classes: [local], price: "0"}
          - {name: download, direction: in, price: "1.00", unit: GB, allowance: 10 GB, period: night}
        session: {price: "0.60", per: minute, increment: 60/60, prices: {night: "0.10"}}
"""


@pytest.fixture
def plans(site):  # noqa: F811
    site.change(load_plans)
    site.change(lambda root: install(root, parse_document(load_text(RICH, "yaml"))))
    return site


def _version(site, name, day):
    return site.read(lambda root: root["tariffs"][name].version_at(day))


def _versions(site, name):
    return site.read(lambda root: len(root["tariffs"][name].versions))


def _rows(form, name):
    """Indices of a row list's rows in a WebTest form."""
    return sorted({int(key.split("-")[1]) for key in form.fields if key and key.startswith(name + "-")})


def _check(form, name, row, kinds):
    boxes = form.fields[f"{name}-{row}-requires"]
    for box in boxes:
        box.checked = box._value in kinds


# -- round trips ----------------------------------------------------------------
@pytest.mark.parametrize("tariff", ["home", "phone", "hotspot", "tv", "rich"])
def test_a_copy_saved_unchanged_is_the_same_plan(plans, tariff):
    """Every part the loader accepts comes back in the form exactly."""
    client = plans.login("manager")
    latest = plans.read(lambda root: root["tariffs"][tariff].versions.maxKey())
    form = client.get(f"/tariffs/{tariff}/@@add-version").forms["form"]
    form.submit(status=302)
    same = plans.read(lambda root: root["tariffs"][tariff].version_at(TOMORROW).same_plan(
        root["tariffs"][tariff].versions[latest]))
    assert same


def test_the_rich_version_is_shown_in_its_rows(plans):
    client = plans.login("manager")
    form = client.get("/tariffs/rich/@@add-version").forms["form"]
    assert (form["fee_amount"].value, form["fee_period"].value, form["fee_charge"].value,
            form["fee_suspended"].value) == ("31.00", "day", "arrears", "3.10")
    assert (form["tax_rate"].value, form["tax_name"].value, form["tax_included"].checked) == \
        ("18.5", "GST", False)
    assert form["holidays"].value.split() == ["2090-01-01", "2090-01-07", "2090-05-09"]
    assert [form[f"one_time-{i}-code"].value for i in _rows(form, "one_time")] == \
        ["connection", "router", "", ""]                 # two empty rows to add more
    assert form["one_time-1-amount"].value == "3990.50"
    assert form["content-0-title"].value == "Final match"
    assert [form[f"discounts-{i}-name"].value for i in _rows(form, "discounts")] == \
        ["students", "welcome", "bundle", "usage-off", "", ""]
    assert (form["discounts-0-percent"].value, form["discounts-0-group"].value,
            form["discounts-0-start"].value, form["discounts-0-end"].value) == \
        ("12.5", "students", "2090-01-01", "2090-06-30")
    assert (form["discounts-1-amount"].value, form["discounts-1-applies"].value) == ("100.00", "fee")
    checked = [b._value for b in form.fields["discounts-2-requires"] if b.checked]
    assert checked == ["internet", "tv"]
    page = client.get("/tariffs/rich/")
    assert "12.5% off everything, from 2090-01-01 to 2090-06-30, for group students" in page.text
    assert "10% off fee, with internet + tv" in page.text
    assert "2090-01-01, 2090-01-07, 2090-05-09" in page.text
    assert "Content match-1" in page.text and "One-time router" in page.text


# -- made in the browser, re-opened, corrected ------------------------------------
def test_create_edit_and_reopen_a_tariff_with_every_part(plans):
    client = plans.login("administrator")
    form = client.get("/tariffs/@@add").forms["form"]
    form["name"], form["kind"], form["timezone"] = "tv-plus", "tv", "Europe/Moscow"
    res = form.submit(status=302).follow()
    form = res.forms["form"]
    assert _rows(form, "discounts") == [0, 1]            # nothing to copy: empty rows
    # ask for more rows: nothing is saved, the typed values stay
    form["fee_amount"] = "10.00"
    form["discounts-0-name"] = "spring"
    form = form.submit("more", status=200).forms["form"]
    assert _versions(plans, "tv-plus") == 0
    assert form["fee_amount"].value == "10.00" and form["discounts-0-name"].value == "spring"
    assert len(_rows(form, "discounts")) >= 3
    form["fee_period"], form["fee_charge"], form["fee_suspended"] = "day", "arrears", "1.00"
    form["one_time-0-code"], form["one_time-0-title"], form["one_time-0-amount"] = \
        "install", "Installation", "500"
    form["content-0-code"], form["content-0-amount"] = "film-9", "149.90"
    form["discounts-0-percent"], form["discounts-0-applies"] = "20", "fee"
    form["discounts-0-start"], form["discounts-0-end"] = "2090-03-01", "2090-03-31"
    form["discounts-0-group"] = "pensioners"
    form["discounts-1-name"], form["discounts-1-amount"] = "welcome", "50.00"
    form["discounts-1-applies"] = "fee"
    _check(form, "discounts", 1, {"internet", "tv"})
    form["holidays"] = "2090-01-01, 2090-01-07\n2090-05-09"
    form.submit(status=302)

    version = _version(plans, "tv-plus", TOMORROW)
    assert version.fee == rules.Fee(1000, "day", "arrears", 100)
    assert version.one_time == (rules.OneTime("install", "Installation", 50000),)
    assert version.content == (rules.OneTime("film-9", "film-9", 14990),)
    assert version.discounts == (
        rules.Discount("spring", Decimal(20), None, "fee", D(2090, 3, 1), D(2090, 3, 31),
                       "pensioners"),
        rules.Discount("welcome", None, 5000, "fee", requires=("internet", "tv")))
    assert version.holidays == {D(2090, 1, 1), D(2090, 1, 7), D(2090, 5, 9)}
    assert version.one_time_fee("film-9").amount == 14990

    # re-open: the new-version form shows all of it again
    form = client.get("/tariffs/tv-plus/@@add-version").forms["form"]
    assert form["discounts-0-group"].value == "pensioners"
    assert form["discounts-1-amount"].value == "50.00"
    assert form["content-0-amount"].value == "149.90"
    assert form["holidays"].value == "2090-01-01\n2090-01-07\n2090-05-09"

    # correct the version (not in force yet): a discount changed, a row removed
    page = client.get("/tariffs/tv-plus/")
    link = page.html.find("a", class_="edit-version")["href"]
    form = client.get(link).forms["form"]
    assert form["effective"].value == TOMORROW.isoformat()
    form["discounts-0-percent"] = "25"
    form["one_time-0-code"] = form["one_time-0-title"] = form["one_time-0-amount"] = ""
    res = form.submit(status=302).follow()
    assert "replaced" in res.text
    version = _version(plans, "tv-plus", TOMORROW)
    assert version.discounts[0].percent == 25 and version.one_time == ()
    assert _versions(plans, "tv-plus") == 1


def test_a_version_in_force_is_not_corrected(plans):
    client = plans.login("manager")
    res = client.get("/tariffs/home/@@edit-version?effective=2025-01-01", status=302)
    assert res.location.endswith("/tariffs/home/")
    assert "not edited" in res.follow().text
    client.get("/tariffs/home/@@edit-version?effective=2031-02-31", status=404)
    client.get("/tariffs/home/@@edit-version?effective=2031-01-01", status=404)
    # moving a future version's date is refused: it is a new version
    form = client.get("/tariffs/rich/@@edit-version?effective=2090-01-01").forms["form"]
    form["effective"] = "2090-01-02"
    res = form.submit(expect_errors=True)
    assert res.status_int == 400 and "to change the date, add a new version" in res.text
    assert _versions(plans, "rich") == 1


def test_manage_tariffs_is_needed_to_correct(plans):
    client = plans.login("auditor")
    client.get("/tariffs/rich/@@edit-version?effective=2090-01-01", status=403)
    assert "Correct this version" not in client.get("/tariffs/rich/").text
    client = plans.login("cashier")
    token = csrf_of(client.get("/tariffs/"))
    client.post("/tariffs/rich/@@edit-version?effective=2090-01-01",
                {"csrf_token": token, "effective": "2090-01-01"}, status=403)


# -- refused, with the loader's message on the row's field ----------------------
@pytest.mark.parametrize("fields, where, message", [
    ({"discounts-0-percent": "120"}, "discounts-0-percent", "percentage from 0 to 100"),
    ({"discounts-0-percent": "ten"}, "discounts-0-percent", "is not an amount"),
    ({"discounts-0-amount": "5.00"}, "discounts-0", "give exactly one of percent or amount"),
    ({"discounts-0-percent": "", "discounts-0-amount": "5.00", "discounts-0-applies": "usage"},
     "discounts-0", "a fixed-amount discount applies to fees only"),
    ({"discounts-0-end": "2089-12-31"}, "discounts-0-end", "ends (2089-12-31) before it starts"),
    ({"discounts-0-start": "2090-02-30"}, "discounts-0-start", "is not a date"),
    ({"discounts-0-name": "<script>alert(1)</script>"}, "discounts-0-name", "is not a valid name"),
    ({"discounts-4-name": "x"}, "discounts-4", "give exactly one of percent or amount"),
    ({"one_time-0-amount": "-5"}, "one_time-0-amount", "must not be negative"),
    ({"one_time-0-amount": ""}, "one_time-0-amount", "is required"),
    ({"one_time-2-code": "ab cd", "one_time-2-amount": "1"}, "one_time-2-code",
     "is not a valid name"),
    ({"one_time-2-code": "match-1", "one_time-2-amount": "1"}, "one_time",
     "one-time and content codes must be unique"),
    ({"content-0-amount": "1.001"}, "content-0-amount", "RUB"),
    ({"holidays": "2090-01-01\nnew year"}, "holidays", "'new' is not a date"),
    ({"tax_name": "x" * 41}, "tax_name", "longer than 40"),
])
def test_bad_rows_are_shown_again_with_the_message(plans, fields, where, message):
    client = plans.login("manager")
    form = client.get("/tariffs/rich/@@add-version").forms["form"]
    for name, value in fields.items():
        form[name] = value
    res = form.submit(expect_errors=True)
    assert_refused(res, where, message)
    assert "<script>alert" not in res.text              # what was typed is escaped
    for name, value in fields.items():                  # and shown again as typed
        if name != "holidays":
            assert res.forms["form"][name].value == value
    assert _versions(plans, "rich") == 1


def test_forged_rows(plans):
    client = plans.login("administrator")
    token = csrf_of(client.get("/tariffs/"))
    base = {"csrf_token": token, "effective": TOMORROW.isoformat(), "fee_period": "month",
            "fee_charge": "advance"}
    # a service kind that is not offered
    res = client.post("/tariffs/tv/@@add-version", dict(base, **{
        "discounts-0-name": "x", "discounts-0-percent": "5", "discounts-0-applies": "all",
        "discounts-0-requires": "nuclear"}), expect_errors=True)
    assert res.status_int == 400 and "not a valid choice" in res.text.lower()
    res = client.post("/tariffs/tv/@@add-version", dict(base, **{
        "discounts-0-name": "x", "discounts-0-percent": "5", "discounts-0-applies": "always"}),
        expect_errors=True)
    assert res.status_int == 400 and "not a valid choice" in res.text.lower()
    # rows far beyond the limit are not read
    posted = dict(base, **{f"content-{i}-code": f"c{i}" for i in range(0, 5000, 10)},
                  **{f"content-{i}-amount": "1" for i in range(0, 5000, 10)})
    client.post("/tariffs/tv/@@add-version", posted, status=302)
    content = _version(plans, "tv", TOMORROW).content
    assert len(content) == 100 and content[-1].code == "c990"
    # no CSRF token
    res = client.post("/tariffs/tv/@@add-version", {"effective": TOMORROW.isoformat()},
                      expect_errors=True)
    assert res.status_int == 400
    assert _versions(plans, "tv") == 2


# -- what the web-made rules price -------------------------------------------------
def _weekday_after(day, weekdays=(0, 1, 2)):
    while day.weekday() not in weekdays:
        day += datetime.timedelta(days=1)
    return day


def test_a_holiday_made_on_the_page_prices_a_call_at_the_holiday_rate(plans):
    """The phone plan's weekend period holds days 'weekend, holiday': a
    weekday the page makes a holiday is charged at the weekend price."""
    holiday = _weekday_after(TOMORROW + datetime.timedelta(days=1))
    workday = holiday + datetime.timedelta(days=1)
    number = plans.change(lambda root: make_contract(root, 1, balance=0).number)
    client = plans.login("manager")
    form = client.get("/tariffs/phone/@@add-version").forms["form"]
    assert "weekend 00:00-00:00 weekend,holiday" in form["periods"].value
    form["holidays"] = form["holidays"].value + "\n" + holiday.isoformat()
    form.submit(status=302)

    def calls(root):
        line = root.catalog.contracts.get(number).services("phone")[0].number
        for sid, day in (("cdr:holiday", holiday), ("cdr:workday", workday)):
            root.usage.enqueue(call(sid, line, "74992223344", 61,
                                    us(day.year, day.month, day.day, 12, 0)))
        return rate_batch(root, 10)
    assert plans.change(calls)["rated"] == 2

    def charges(root):
        account = root.catalog.contracts.get(number).account
        return {sid: -account.find_cause(cause_of(sid)).amount
                for sid in ("cdr:holiday", "cdr:workday")}
    # 61 s -> 2 minutes (60/60): weekend 0.20 a minute, else 1.00; VAT 20 % added
    prices = plans.read(charges)
    assert prices["cdr:holiday"] == 48 and prices["cdr:workday"] == 240
    balance = plans.read(lambda root: root.catalog.contracts.get(number).account.balance)
    assert balance == -(48 + 240)


def test_a_promotion_made_on_the_page_is_what_the_billing_run_charges(plans):
    """A 25 % promotion on the fee, for one month, for a group the
    contract page then offers: that contract pays 75 %, the other 100 %."""
    month = D(TOMORROW.year + (TOMORROW.month == 12), TOMORROW.month % 12 + 1, 1)
    last = D(month.year + (month.month == 12), month.month % 12 + 1, 1) - datetime.timedelta(days=1)
    numbers = plans.change(lambda root: [make_contract(root, n).number for n in (1, 2)])
    client = plans.login("manager")
    form = client.get("/tariffs/home/@@add-version").forms["form"]
    form["fee_amount"] = "1000.00"
    form["discounts-0-name"], form["discounts-0-percent"] = "students-promo", "25"
    form["discounts-0-applies"], form["discounts-0-group"] = "fee", "students"
    form["discounts-0-start"], form["discounts-0-end"] = month.isoformat(), last.isoformat()
    form.submit(status=302)
    # the group is now offered on the contract's page
    sub = plans.read(lambda root: root.catalog.contracts.get(numbers[0]).__parent__.__name__)
    form = client.get(f"/subscribers/{sub}/{numbers[0]}/@@edit").forms["form"]
    form["discount_group"] = "students"
    form.submit(status=302)

    run(plans.db, month.isoformat()[:7], now=day_start_us(month),
        options=Options(invoices=False, debt_control=False))

    def fees(root):
        out = []
        for number in numbers:
            posting = root.catalog.contracts.get(number).account.find_cause(
                f"fee:{number}:internet-1:{month.isoformat()[:7]}")
            out.append(posting.amount)
        return out
    assert plans.read(fees) == [-75000, -100000]
    # the next month the promotion is over
    after = last + datetime.timedelta(days=1)
    run(plans.db, after.isoformat()[:7], now=day_start_us(after),
        options=Options(invoices=False, debt_control=False))
    assert plans.read(lambda root: root.catalog.contracts.get(numbers[0]).account.find_cause(
        f"fee:{numbers[0]}:internet-1:{after.isoformat()[:7]}").amount) == -100000


def test_a_content_price_made_on_the_page_is_what_a_view_costs(plans):
    """Pay-per-view: a content price added on the page prices the event."""
    day = TOMORROW + datetime.timedelta(days=1)
    number = plans.change(lambda root: make_contract(root, 1, balance=0, tv=True).number)
    client = plans.login("manager")
    form = client.get("/tariffs/tv/@@add-version").forms["form"]
    assert form["content-0-code"].value == "film-1"
    form["content-1-code"], form["content-1-title"] = "match-7", "Cup final"
    form["content-1-amount"] = "299.00"
    form.submit(status=302)

    def view(root):
        root.usage.enqueue(UsageRecord("iptv:1", "content", number,
                                       us(day.year, day.month, day.day, 20, 0),
                                       us(day.year, day.month, day.day, 22, 0), {},
                                       {"content": "match-7"}))
        return rate_batch(root, 10)
    assert plans.change(view)["rated"] == 1
    posting = plans.read(lambda root: root.catalog.contracts.get(number).account.find_cause(
        cause_of("iptv:1")))
    assert posting.amount == -29900 and "match-7" in posting.text


# -- the tariff's own settings ---------------------------------------------------
def test_edit_a_tariffs_settings(plans):
    client = plans.login("manager")
    page = client.get("/tariffs/home/")
    form = client.get(page.html.find(id="edit-tariff")["href"]).forms["form"]
    assert (form["title"].value, form["timezone"].value, form["allowed_hours"].value) == \
        ("Home 100", "Europe/Moscow", "")
    form["title"], form["timezone"] = "Home 100 Plus", "Asia/Yekaterinburg"
    form["walled_garden"], form["allowed_hours"] = "debtors", "22-6"
    page = form.submit(status=302).follow()
    assert "walled garden debtors" in page.text and "from 22:00 to 6:59" in page.text
    assert plans.read(lambda root: (lambda t: (t.title, t.timezone, t.walled_garden,
                                               t.allowed_hours))(root["tariffs"]["home"])) == \
        ("Home 100 Plus", "Asia/Yekaterinburg", "debtors", (22, 6))
    form = client.get("/tariffs/home/@@edit").forms["form"]
    assert (form["walled_garden"].value, form["allowed_hours"].value) == ("debtors", "22-6")
    form["walled_garden"] = form["allowed_hours"] = ""
    form.submit(status=302)
    assert plans.read(lambda root: (root["tariffs"]["home"].walled_garden,
                                    root["tariffs"]["home"].allowed_hours)) == (None, None)


@pytest.mark.parametrize("field, value, message", [
    ("allowed_hours", "25-3", "hours are 0..23"),
    ("allowed_hours", "evening", "is not FIRST-LAST hours"),
    ("walled_garden", "bad name!", "is not a valid name"),
    ("timezone", "Mars/Olympus", "unknown time zone"),
    ("title", "", "This field is required"),
])
def test_bad_tariff_settings(plans, field, value, message):
    client = plans.login("administrator")
    form = client.get("/tariffs/home/@@edit").forms["form"]
    form[field] = value
    res = form.submit(expect_errors=True)
    assert_refused(res, field, message)
    assert plans.read(lambda root: (root["tariffs"]["home"].title,
                                    root["tariffs"]["home"].allowed_hours)) == ("Home 100", None)


def test_only_managers_edit_tariff_settings(plans):
    client = plans.login("engineer")
    client.get("/tariffs/home/@@edit", status=403)
    assert client.get("/tariffs/home/").html.find(id="edit-tariff") is None

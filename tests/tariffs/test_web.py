"""Tariffs in the web workplace (WebTest on the real application): the
list, a tariff's page, a new tariff, a new version; every role; bad input."""
import datetime
from decimal import Decimal

import pytest

from portmonet import clock
import portmonet.tariffs.views  # noqa: F401  (grants manage_tariffs, as config.scan() does)
from portmonet.model.staff import ROLES
from portmonet.web.acl import ROLE_PERMISSIONS

from conftest import today_pinned_to
from tariffs.world import load_plans
from web.conftest import assert_pages_for_role, assert_refused, cheap_argon2, csrf_of, site  # noqa: F401  (fixtures)

TOMORROW = clock.today() + datetime.timedelta(days=1)
_today = today_pinned_to(TOMORROW - datetime.timedelta(days=1))
VIEWS = [
    ("/tariffs/", "view"),
    ("/tariffs/phone/", "view"),
    ("/tariffs/@@add", "manage_tariffs"),
    ("/tariffs/phone/@@add-version", "manage_tariffs"),
]


@pytest.fixture
def plans(site):  # noqa: F811
    site.change(load_plans)
    return site


def test_manage_tariffs_is_granted_to_administrators_and_managers():
    holders = {role for role in ROLES if "manage_tariffs" in ROLE_PERMISSIONS[role]}
    assert holders == {"administrator", "manager"}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(plans, role):
    client = plans.login(role)
    allowed = set(ROLE_PERMISSIONS[role])
    assert_pages_for_role(client, role, VIEWS)
    token = csrf_of(client.get("/tariffs/"))
    # POSTs: refused before the form is read when the role may not manage.
    res = client.post("/tariffs/@@add", {"csrf_token": token, "name": "x", "kind": "internet",
                                         "currency": "RUB", "timezone": "UTC"}, expect_errors=True)
    assert res.status_int == (302 if "manage_tariffs" in allowed else 403), (role, res.status)
    res = client.post("/tariffs/phone/@@add-version",
                      {"csrf_token": token, "effective": TOMORROW.isoformat(),
                       "fee_period": "month", "fee_charge": "advance"}, expect_errors=True)
    assert res.status_int == (302 if "manage_tariffs" in allowed else 403), (role, res.status)
    created = plans.read(lambda root: "x" in root["tariffs"])
    assert created == ("manage_tariffs" in allowed)


def test_anonymous_is_sent_to_sign_in(plans):
    client = plans.client()
    for url, _ in VIEWS:
        res = client.get(url, expect_errors=True)
        assert res.status_int == 302 and "@@login" in res.location, url


def test_list_and_page_show_versions_and_rules(plans):
    client = plans.login("auditor")
    page = client.get("/tariffs/")
    assert "New tariff" not in page.text              # an auditor may not manage
    assert page.html.find("a", href="http://localhost/tariffs/home/").text == "home"
    page = client.get("/tariffs/home/")
    assert "v1 effective 2024-01-01" in page.text and "v2 effective 2025-01-01" in page.text
    assert "(in force)" in page.text
    assert "1GB included a month" in page.text and "download" in page.text
    page = client.get("/tariffs/phone/")
    zone = page.html.find(id="version-1").find("th", string="Zone local").find_next("td").text
    assert zone == ("1.00, 0.50 (night), 0.20 (weekend) per minute, increment 60/60; "
                    "prefixes 7495, 7499")


def _create(client, **fields):
    form = client.get("/tariffs/@@add").forms["form"]
    for name, value in dict({"name": "web-net", "title": "Web 200", "kind": "internet",
                             "timezone": "Europe/Moscow"}, **fields).items():
        form[name] = value
    return form.submit(expect_errors=True)


def test_create_a_tariff_and_its_first_version(plans):
    client = plans.login("manager")
    res = _create(client)
    assert res.status_int == 302 and res.location.endswith("/tariffs/web-net/@@add-version")
    form = res.follow().forms["form"]
    assert form["effective"].value == TOMORROW.isoformat()
    form["fee_amount"] = "750.00"
    form["tax_rate"] = "20"
    form["rate_limit"] = "200M/100M"
    form["periods"] = "night 01:00-07:00 all"
    form["traffic_classes"] = "local 10.0.0.0/8\npeering 192.0.2.0/24"
    form["volume"] = ("local-free 0 classes=local\n"
                      "download 1.25 unit=GB direction=in allowance=50GB\n"
                      "upload 0.5 unit=GB direction=out  # cheaper")
    res = form.submit()
    assert res.status_int == 302
    version = plans.read(lambda root: root["tariffs"]["web-net"].version_at(TOMORROW))
    assert version.number == 1 and version.effective == TOMORROW
    assert (version.fee.amount, version.fee.period, version.fee.charge) == (75000, "month", "advance")
    assert version.tax.rate == 20 and version.tax.included
    assert (version.rate_limit.down_kbps, version.rate_limit.up_kbps) == (200000, 100000)
    download = version.volume[1]
    assert (download.price, download.unit, download.direction, download.allowance) == \
        (Decimal(125), "GB", "in", 50 * 10**9)
    assert download.amount(2 * 10**9) == 250
    assert version.traffic_classes.classify("192.0.2.9") == "peering"
    page = res.follow()
    assert "Version effective" in page.text and "50GB included a month" in page.text
    assert plans.read(lambda root: root["tariffs"]["web-net"].kind) == "internet"


def test_a_new_version_of_phone_zones_starts_as_a_copy(plans):
    client = plans.login("administrator")
    form = client.get("/tariffs/phone/@@add-version").forms["form"]
    assert "local 1.00 7495,7499 night=0.50 weekend=0.20" in form["zones"].value
    assert "mobile 2.00 79 increment=1/1 free_seconds=3" in form["zones"].value
    # The copy saved unchanged is the same plan: only the date differs.
    res = form.submit()
    assert res.status_int == 302
    same = plans.read(lambda root: root["tariffs"]["phone"].version_at(TOMORROW)
                      .same_plan(root["tariffs"]["phone"].version_at(datetime.date(2024, 6, 1))))
    assert same
    # A price change and a new zone, one day later.
    form = client.get("/tariffs/phone/@@add-version").forms["form"]
    later = TOMORROW + datetime.timedelta(days=1)
    form["effective"] = later.isoformat()
    form["zones"] = form["zones"].value.replace("local 1.00", "local 1.20") + \
        "\nsatellite 9.99 8816,8817 per=second increment=1/1 connection_fee=1.00"
    form.submit(status=302)

    def check(root):
        version = root["tariffs"]["phone"].version_at(later)
        assert version.number == 3
        assert version.zone("local").rate.prices == {"default": Decimal(120), "night": Decimal(50),
                                                     "weekend": Decimal(20)}
        assert version.prefixes.match("88161234567") == ("satellite", "8816")
        assert version.zone("satellite").rate.charge(10, "default") == (9990 + 100, 10)  # 10 s x 9.99 + 1.00
        # carried over from the copied version: the staff discount, the holiday
        assert [d.name for d in version.discounts] == ["staff"]
        assert datetime.date(2024, 1, 1) in version.holidays
    plans.read(check)


@pytest.mark.parametrize("field, value, message", [
    ("effective", "2024-13-01", "a date YYYY-MM-DD"),
    ("effective", "2020-01-01", "from tomorrow or later"),
    ("fee_amount", "12,3,4", "is not an amount"),
    ("fee_amount", "-5", "must not be negative"),
    ("tax_rate", "120", "percentage from 0 to 100"),
    ("rate_limit", "fast", "is not a speed"),
    ("periods", "night 25:00-07:00", "is not a time of day"),
    ("periods", "night", "expected a name and HH:MM-HH:MM"),
    ("volume", "download 1.00 unit=TB", "is not one of"),
    ("volume", "download 1.00 allowance=lots", "is not a volume"),
    ("volume", "download 1.00 period=evening", "unknown period"),
    ("zones", "local 1.00 74a5", "line 1: prefixes: '74a5' is not a digit prefix"),
    ("zones", "a 1.00 7495\nb 2.00 7495", "prefix 7495 is in both a and b"),
    ("zones", "local 1.00 7495 evening=0.5", "unknown period 'evening'"),
    ("zones", "local 1.00 7495 increment=0/60", "is not an increment"),
    ("zones", "local one 7495", "is not an amount"),
    ("zones", "local 1.00", "expected at least 3 words"),
    ("zones", "<script>alert(1)</script> 1 7", "is not a valid name"),
    ("default_zone", "nowhere", "no zone named 'nowhere'"),
])
def test_bad_versions_are_shown_again_with_the_message(plans, field, value, message):
    client = plans.login("manager")
    form = client.get("/tariffs/phone/@@add-version").forms["form"]
    form[field] = value
    res = form.submit(expect_errors=True)
    assert_refused(res, field, message)
    assert "<script>alert" not in res.text             # what was typed is escaped
    assert res.html.find(id=field)                      # the form is there again
    versions = plans.read(lambda root: len(root["tariffs"]["phone"].versions))
    assert versions == 1


@pytest.mark.parametrize("fields, field, message", [
    ({"name": "../etc"}, "name", "letters, digits"),
    ({"name": "home"}, "name", "a tariff of this name exists"),
    ({"name": ""}, "name", "This field is required"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"name": "x" * 65}, "name", "longer than 64"),
])
def test_bad_new_tariffs(plans, fields, field, message):
    client = plans.login("administrator")
    res = _create(client, **fields)
    assert_refused(res, field, message)
    assert plans.read(lambda root: len(root["tariffs"])) == 4


def test_forged_requests_and_hostile_values(plans):
    client = plans.login("administrator")
    # no CSRF token: refused
    res = client.post("/tariffs/@@add", {"name": "csrf", "kind": "internet", "currency": "RUB",
                                         "timezone": "UTC"}, expect_errors=True)
    assert res.status_int == 400
    # a kind or currency not offered
    token = csrf_of(client.get("/tariffs/"))
    res = client.post("/tariffs/@@add", {"csrf_token": token, "name": "k", "kind": "nuclear",
                                         "currency": "RUB", "timezone": "UTC"}, expect_errors=True)
    assert res.status_int == 400 and "Not a valid choice" in res.text
    # markup in a title is shown as text
    _create(client, name="shiny", title="<b onmouseover=alert(1)>Shiny</b>")
    page = client.get("/tariffs/")
    assert "<b onmouseover" not in page.text and "&lt;b onmouseover=alert(1)&gt;Shiny" in page.text
    # absurd sizes are refused by the form, not stored
    res = client.post("/tariffs/phone/@@add-version",
                      {"csrf_token": token, "effective": TOMORROW.isoformat(),
                       "zones": "z 1 7\n" * 20000}, expect_errors=True)
    assert res.status_int == 400
    assert plans.read(lambda root: (sorted(root["tariffs"].keys()),
                                    len(root["tariffs"]["phone"].versions))) == \
        (["home", "hotspot", "phone", "shiny", "tv"], 1)


def test_a_session_price_with_a_night_price(plans):
    client = plans.login("manager")
    form = client.get("/tariffs/hotspot/@@add-version").forms["form"]
    assert form["session"].value == "0.60"
    form["periods"] = "night 00:00-06:00"
    form["session"] = "0.80 increment=30/6 night=0.20"
    form.submit(status=302)
    rate = plans.read(lambda root: root["tariffs"]["hotspot"].version_at(TOMORROW).session)
    assert (rate.prices, rate.first, rate.step) == ({"default": Decimal(80), "night": Decimal(20)},
                                                    30, 6)
    form = client.get("/tariffs/hotspot/@@add-version").forms["form"]
    assert form["session"].value == "0.80 increment=30/6 night=0.20"

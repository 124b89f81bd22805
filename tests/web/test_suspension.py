"""Suspending and resuming a service on its page (WebTest on the real
application): the role matrix, CSRF, dates from today or ahead, the
history with reasons, the RADIUS disconnect through the outbox, bad input;
and the billing run charging the suspension made on the page."""
import datetime

import pytest

from portmonet import clock
from portmonet.clock import day_start_us
from portmonet.billing.run import Options, run
from portmonet.model.staff import ROLES
from portmonet.tariffs.loader import install, load_text, parse_document
from portmonet.tariffs.rules import days_in_month, prorate
from portmonet.web.acl import ROLE_PERMISSIONS

from conftest import today_pinned_to
from .conftest import assert_pages_for_role, assert_refused, cheap_argon2, csrf_of, site  # noqa: F401

D = datetime.date
TODAY = clock.today()
_today = today_pinned_to(TODAY)
# Fees every month length divides (28..31 days), so a hand-computed
# proration is exact: 7551.60 a month, 3775.80 while suspended.
PLAN = """
tariffs:
  - name: even
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "7551.60", suspended: "3775.80"}
  - name: other
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "100.00"}
"""


def _paths(site):
    contract = f"/subscribers/{site.ids['ivanov']}/{site.ids['ivanov_contract']}/"
    return contract, contract + "internet-1/@@suspension"


def _service(root, site):
    return root.catalog.contracts.get(site.ids["ivanov_contract"])["internet-1"]


@pytest.fixture
def world(site):  # noqa: F811
    def build(root):
        install(root, parse_document(load_text(PLAN, "yaml")))
        service = _service(root, site)
        service.tariff = root["tariffs"]["even"]
        service.started = D(2020, 1, 1)
    site.change(build)
    return site


def _suspend(client, url, **fields):
    form = client.get(url).forms["form"]
    for name, value in dict({"action": "suspend", "reason": "holiday at the sea"},
                            **fields).items():
        form[name] = value
    return form.submit(expect_errors=True)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(world, role):
    contract, url = _paths(world)
    client = world.login(role)
    assert_pages_for_role(client, role, [(url, "edit"), (contract + "internet-1/@@tariff", "edit")])
    may = "edit" in ROLE_PERMISSIONS[role]
    page = client.get(contract)
    assert bool(page.html.find("a", class_="suspension")) == may
    token = csrf_of(page)
    res = client.post(url, {"csrf_token": token, "action": "suspend",
                            "start": TODAY.isoformat(), "reason": "r"}, expect_errors=True)
    assert res.status_int == (302 if may else 403), (role, res.status)
    assert world.read(lambda root: _service(root, world).suspended) == may


def test_csrf_is_required(world):
    _, url = _paths(world)
    client = world.login("manager")
    res = client.post(url, {"action": "suspend", "start": TODAY.isoformat(), "reason": "r"},
                      expect_errors=True)
    assert res.status_int == 400
    assert not world.read(lambda root: _service(root, world).suspended)


def test_suspend_now_and_resume_with_the_history(world):
    contract, url = _paths(world)
    client = world.login("manager")
    form = client.get(url).forms["form"]
    assert form["action"].value == "suspend" and form["start"].value == TODAY.isoformat()
    res = _suspend(client, url)
    assert res.status_int == 302
    page = res.follow()
    assert "Suspended now" in page.text
    row = page.html.find(id="suspension-history").find_all("tr")[1]
    cells = [td.text for td in row.find_all("td")]
    assert cells[1:] == [TODAY.isoformat(), "suspended", "holiday at the sea", "manager"]

    def state(root):
        service = _service(root, world)
        sent = [{k: m.payload[k] for k in ("action", "login")} for m in root.outbox.due("radius")]
        return service.suspended, service.active, service.suspended_on(TODAY), sent
    suspended, active, on_today, sent = world.read(state)
    assert suspended and not active and on_today
    assert {"action": "disconnect", "login": "ivanov"} in sent    # after the commit, by RADIUS
    # the contract page says so
    page = client.get(contract)
    assert page.html.find("td", class_="service-state").text == "suspended"
    # the form now offers to resume
    form = client.get(url).forms["form"]
    assert form["action"].value == "resume"
    form["reason"] = "back early"
    form.submit(status=302)
    assert world.read(lambda root: _service(root, world).suspended) is False
    # resumed today: told as unblocked, so RADIUS re-authorizes the login (CoA)
    assert {"action": "coa", "login": "ivanov"} in world.read(state)[3]
    rows = client.get(url).html.find(id="suspension-history").find_all("tr")[1:]
    assert [[td.text for td in r.find_all("td")][2:4] for r in rows] == \
        [["resumed", "back early"], ["suspended", "holiday at the sea"]]


def test_a_suspension_ahead_with_a_date_to_resume(world):
    _, url = _paths(world)
    start, until = TODAY + datetime.timedelta(days=10), TODAY + datetime.timedelta(days=20)
    client = world.login("administrator")
    res = _suspend(client, url, start=start.isoformat(), until=until.isoformat())
    assert res.status_int == 302
    page = res.follow()
    assert "Not suspended now" in page.text
    planned = [li.text for li in page.html.find(id="planned").find_all("li")]
    assert planned == [f"{start}: suspended", f"{until}: resumed"]

    def state(root):
        service = _service(root, world)
        return (service.suspended, service.suspended_on(start - datetime.timedelta(days=1)),
                service.suspended_on(start), service.suspended_on(until - datetime.timedelta(days=1)),
                service.suspended_on(until), len(list(root.outbox.due("radius"))))
    assert world.read(state) == (False, False, True, True, False, 0)   # nobody disconnected now
    # cancelling: resume from the day it was to start
    form = client.get(url).forms["form"]
    form["action"], form["start"], form["reason"] = "resume", start.isoformat(), "plans changed"
    form.submit(status=302)
    assert world.read(lambda root: _service(root, world).suspended_on(start)) is False


@pytest.mark.parametrize("fields, field, message", [
    ({"start": "yesterday"}, "start", "a date YYYY-MM-DD"),
    ({"start": (TODAY - datetime.timedelta(days=1)).isoformat()}, "start", "from today or a later"),
    ({"start": (TODAY + datetime.timedelta(days=400)).isoformat()}, "start", "at most a year"),
    ({"until": TODAY.isoformat()}, "until", "after the day the suspension starts"),
    ({"until": "2099-02-30"}, "until", "a date YYYY-MM-DD"),
    ({"action": "resume"}, "action", "not suspended on that day"),
    ({"action": "resume", "until": (TODAY + datetime.timedelta(days=3)).isoformat()}, "until",
     "only a suspension"),
    ({"reason": ""}, "reason", "This field is required"),
    ({"reason": "x" * 501}, "reason", "longer than 500"),
])
def test_bad_input_is_shown_again(world, fields, field, message):
    _, url = _paths(world)
    client = world.login("manager")
    res = _suspend(client, url, **fields)
    assert_refused(res, field, message)
    assert world.read(lambda root: _service(root, world).suspension_changes()) == []


def test_already_suspended_and_hostile_reason(world):
    _, url = _paths(world)
    client = world.login("manager")
    assert _suspend(client, url, reason="<script>alert(1)</script>").status_int == 302
    page = client.get(url)
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    res = _suspend(client, url)
    assert res.status_int == 400 and "already suspended on that day" in res.text
    # a forged action is not a choice
    res = client.post(url, {"csrf_token": csrf_of(page), "action": "delete",
                            "start": TODAY.isoformat(), "reason": "r"}, expect_errors=True)
    assert res.status_int == 400 and "Not a valid choice" in res.text


def test_an_ended_service_or_terminated_contract_is_not_suspended(world):
    _, url = _paths(world)
    ended = TODAY + datetime.timedelta(days=5)

    def end(root):
        _service(root, world).ended = ended
    world.change(end)
    client = world.login("manager")
    res = _suspend(client, url, start=(ended + datetime.timedelta(days=1)).isoformat())
    assert res.status_int == 400 and f"the service ended on {ended}" in res.text

    def terminate(root):
        root.catalog.contracts.get(world.ids["ivanov_contract"]).set_status("terminated", "t", "t")
    world.change(terminate)
    res = _suspend(client, url)
    assert res.status_int == 400 and "the contract is terminated" in res.text


def test_the_billing_run_prorates_the_suspension_made_on_the_page(world):
    """Suspended on the page from the 10th to the 20th of next month: the
    run charges 10 days at the suspended fee, the others at the full fee."""
    month = clock.next_month(TODAY)
    start, until = month + datetime.timedelta(days=9), month + datetime.timedelta(days=19)
    _, url = _paths(world)
    client = world.login("manager")
    assert _suspend(client, url, start=start.isoformat(), until=until.isoformat()).status_int == 302
    run(world.db, month.isoformat()[:7], now=day_start_us(month),
        options=Options(invoices=False, debt_control=False))
    number = world.ids["ivanov_contract"]
    fee = world.read(lambda root: root.catalog.contracts.get(number).account.find_cause(
        f"fee:{number}:internet-1:{month.isoformat()[:7]}").amount)
    days = days_in_month(month.year, month.month)
    expected = prorate(755160, days - 10, days) + prorate(377580, 10, days)
    assert expected == 755160 * (days - 10) // days + 377580 * 10 // days    # exact, by design
    assert fee == -expected


def test_tariff_change_from_the_service_page(world):
    """The service page's tariff change, now and from the next period."""
    contract, _ = _paths(world)
    client = world.login("manager")
    page = client.get(contract)
    form = client.get(page.html.find("a", class_="tariff")["href"]).forms["form"]
    assert form["tariff"].value == "even"
    form["tariff"], form["when"] = "other", "next"
    form.submit(status=302)
    month = clock.next_month(TODAY)

    def tariffs(root):
        from portmonet.tariffs.assign import tariff_for
        service = _service(root, world)
        return service.tariff.name, tariff_for(service, month).name
    assert world.read(tariffs) == ("even", "other")


def test_a_telephone_line_is_suspended_and_changes_tariff_too(world):
    """Every kind of service has the pages; a line has no session to end."""
    from portmonet.model.services import OneTimeService, TelephoneLine
    from tariffs.world import load_plans

    def add(root):
        load_plans(root)
        contract = root.catalog.contracts.get(world.ids["ivanov_contract"])
        contract.add_service(TelephoneLine("74951234567", tariff=root["tariffs"]["phone"]))
        contract.add_service(OneTimeService("Router", 399000))
    world.change(add)
    contract, _ = _paths(world)
    client = world.login("manager")
    page = client.get(contract)
    assert len(page.html.find_all("a", class_="suspension")) == 2      # not the one-time sale
    res = _suspend(client, contract + "phone-2/@@suspension")
    assert res.status_int == 302 and "Suspended now" in res.follow().text
    assert world.read(lambda root: (
        root.catalog.lines.get("74951234567").suspended,
        len(list(root.outbox.due("radius"))))) == (True, 0)
    form = client.get(contract + "phone-2/@@tariff").forms["form"]
    assert [o[0] for o in form["tariff"].options] == ["phone"]        # phone tariffs only

"""End to end: a manager suspends a service in headless Chromium, through
the real web process (pserve -> waitress) on a real ZEO server, and the
database says so: the service is suspended with the reason and the
manager's name, and the RADIUS disconnect waits in the outbox."""

import pytest

from portmonet import clock
from portmonet.model.root import get_root

from .conftest import PASSWORD
from .test_e2e_browser import browser, web_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


def _manager_page(browser, web_server):  # noqa: F811
    """A page of a manager logged in through the login form."""
    page = browser.new_context(locale="en-US").new_page()
    page.set_default_timeout(15_000)
    page.goto(web_server + "/@@login")
    page.fill("#login", "manager")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#who")
    return page


def test_manager_suspends_a_service_on_the_page(web_server, browser, zeo_server):  # noqa: F811
    page = _manager_page(browser, web_server)
    page.goto(web_server + "/subscribers/1001/1001-1/")
    assert page.inner_text("td.service-state") == "active"
    page.click("a.suspension")
    page.wait_for_selector("#suspension-history")
    assert page.input_value("#start") == clock.today().isoformat()
    assert page.input_value("#action") == "suspend"
    page.fill("#reason", "repair of the line")
    page.click("#submit")
    page.wait_for_selector("#state .status-suspended")
    row = page.locator("#suspension-history tr").nth(1).inner_text()
    assert "repair of the line" in row and "manager" in row
    assert "suspended" in page.inner_text(".flash")
    page.click("text=Contract 1001-1")
    assert page.inner_text("td.service-state") == "suspended"

    db = zeo_server.open_db()
    try:
        with db.transaction() as conn:
            service = get_root(conn.root())["subscribers"]["1001"]["1001-1"]["internet-1"]
            assert service.suspended and not service.active
            log = list(service.suspension_log.values())
            assert log == [(clock.today().toordinal(), True, "repair of the line",
                            "manager")]
            sent = [{k: m.payload[k] for k in ("action", "login")}
                    for m in get_root(conn.root()).outbox.due("radius")]
            assert {"action": "disconnect", "login": "ivanov"} in sent
    finally:
        db.close()


def test_manager_makes_a_tariff_with_rows_in_the_browser(web_server, browser, zeo_server):  # noqa: F811
    """The version form's rows in a real browser: more rows, a promotion
    with a bundle's checkboxes, a content price; the tariff page shows them."""
    page = _manager_page(browser, web_server)
    page.goto(web_server + "/tariffs/@@add")
    page.fill("#name", "tv-max")
    page.select_option("#kind", "tv")
    page.click("#submit")
    page.wait_for_selector("#discounts")
    assert page.locator("#discounts tr.row").count() == 2
    page.fill("#fee_amount", "450.00")
    page.click("#more")
    page.wait_for_selector("#discounts-2-name")
    assert page.input_value("#fee_amount") == "450.00"          # kept, nothing saved
    page.fill("#discounts-2-name", "bundle")
    page.fill("#discounts-2-percent", "15")
    page.select_option("#discounts-2-applies", "fee")
    page.check("#discounts-2-requires-0")                      # internet
    page.check("#discounts-2-requires-2")                      # tv
    page.fill("#content-0-code", "film-2")
    page.fill("#content-0-amount", "abc")
    page.click("#submit")
    # refused: the message is on the row's field, the rest is as typed
    assert "is not an amount" in page.inner_text("#content-0 .errors")
    assert page.is_checked("#discounts-2-requires-2")
    page.fill("#content-0-amount", "99.90")
    page.click("#submit")
    page.wait_for_selector("#summary")
    text = page.inner_text(".version")
    assert "15% off fee, with internet + tv" in text and "Content film-2" in text

    db = zeo_server.open_db()
    try:
        with db.transaction() as conn:
            tariff = get_root(conn.root())["tariffs"]["tv-max"]
            version = tariff.versions[tariff.versions.maxKey()]
            assert version.fee.amount == 45000
            assert version.discounts[0].requires == {"internet", "tv"}
            assert version.content[0].amount == 9990
    finally:
        db.close()

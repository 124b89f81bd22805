"""End to end: a real ZEO server, the real web process (``pserve`` ->
waitress on loopback) and headless Chromium driven by Playwright.

A cashier signs in, finds a subscriber, takes a payment and sees the
balance change; the subscriber signs in to the office and sees it too.
Needs Debian's ``chromium`` (apt-get install -y chromium) and the
``playwright`` Python package (its own browsers are not used).
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from portmonet.model.root import install

from .conftest import PASSWORD, populate

CHROMIUM = "/usr/bin/chromium"
BIN = os.path.dirname(sys.executable)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.integration


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_server(zeo_server, tmp_path):
    db = zeo_server.open_db()
    try:
        with db.transaction("e2e test data") as conn:
            populate(install(conn.root()))
    finally:
        db.close()
    port = _free_port()
    ini = zeo_server.ini(tmp_path / "web.ini", portmonet_cookie_secure="false")
    with open(ini, "a") as f:
        f.write(f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = 4\n")
    log = open(tmp_path / "web.log", "w")
    proc = subprocess.Popen([os.path.join(BIN, "pserve"), ini], stdout=log,
                            stderr=subprocess.STDOUT, cwd=str(tmp_path))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(open(tmp_path / "web.log").read())
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_parallel_cash_desks_all_land(web_server, zeo_server):
    """Two cash desks post to one account at once through waitress on ZEO:
    conflicts are resolved or retried, every payment lands once."""
    import http.client
    import re
    import threading
    from urllib.parse import urlencode, urlparse

    port = urlparse(web_server).port
    path = "/subscribers/1001/1001-1/@@pay"
    errors = []

    def desk(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookie = {}

        def call(method, url, body=None):
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookie.items())}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                body = urlencode(body)
            conn.request(method, url, body=body, headers=headers)
            res = conn.getresponse()
            text = res.read().decode()
            for h in res.headers.get_all("Set-Cookie") or []:
                name, _, rest = h.partition("=")
                cookie[name] = rest.split(";")[0]
            return res.status, text

        status, page = call("GET", "/@@login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = call("POST", "/@@login", {"csrf_token": token, "login": "cashier",
                                              "password": PASSWORD})
        for i in range(8):
            status, page = call("GET", path)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            form_token = re.search(r'<input[^>]*name="token"[^>]*>', page).group(0)
            form_token = re.search(r'value="([0-9a-f]{32})"', form_token).group(1)
            status, _ = call("POST", path, {"csrf_token": token, "token": form_token,
                                            "amount": f"{n + 1}.00"})
            if status != 302:
                errors.append(status)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db = zeo_server.open_db()
    try:
        with db.transaction() as conn:
            from portmonet.model.root import get_root
            acc = get_root(conn.root())["subscribers"]["1001"]["1001-1"].account
            desk_postings = [p for p in acc.ledger.values() if p.cause.startswith("cashdesk:")]
            assert len(desk_postings) == 24
            assert acc.balance == 50000 + 8 * (100 + 200 + 300) == acc.ledger_sum()
    finally:
        db.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is needed: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def test_cashier_takes_payment_and_subscriber_sees_it(web_server, browser):
    staff = browser.new_context(locale="en-US").new_page()
    staff.set_default_timeout(15_000)
    staff.goto(web_server + "/")
    assert "@@login" in staff.url
    staff.fill("#login", "cashier")
    staff.fill("#password", PASSWORD)
    staff.click("#submit")
    staff.wait_for_selector("#who")
    staff.fill("#q", "Ivanov")
    staff.click("#search-go")
    staff.click("a.result")
    assert staff.inner_text("#subscriber-name") == "Ivanov Ivan"
    assert staff.inner_text("#balance-1001-1") == "500.00"
    staff.click("a.pay")
    staff.fill("#amount", "250,50")
    staff.click("#submit")
    staff.wait_for_selector("#balance")
    assert staff.inner_text("#balance") == "750.50"
    assert "750.50" in staff.inner_text(".flash")
    # The page's CSP reached the browser: no inline script may run.
    assert staff.evaluate("() => document.querySelectorAll('script').length") == 0
    # Back on the card: the payment in its payments section, the traffic
    # plot drawn by the browser (inline SVG, 14 bars).
    staff.goto(web_server + "/subscribers/1001/")
    assert "250.50" in staff.inner_text("#payments-1001-1")
    assert staff.locator("#plot-traffic rect").count() == 14
    assert staff.locator("#plot-traffic").bounding_box()["width"] > 100

    office = browser.new_context(locale="ru-RU").new_page()
    office.set_default_timeout(15_000)
    office.goto(web_server + "/office")
    office.fill("#identifier", "ivanov")
    office.fill("#password", "inet-pass-1")
    office.click("#submit")
    office.wait_for_selector("#office-name")
    assert office.inner_text("#balance-1001-1") == "750.50"
    assert "Личный кабинет" in office.title()
    assert "250.50" in office.inner_text("#payments-1001-1")
    assert office.locator("#plot-traffic rect").count() == 14
    # Another subscriber's office is refused to this session.
    response = office.goto(web_server + "/subscribers/1002/@@office")
    assert response.status == 403

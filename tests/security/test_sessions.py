"""Sessions end on the server (issue 20): a copied session cookie stops
working after logout, a password change, an employee's disabling, and
idleness; sign-in guessing is slowed (per address and per account,
exponentially), never turned into a lock on someone else's account; the
owner is told.  Through the real WSGI application (WebTest)."""
import pytest

from portmonet.web import security
from portmonet.web.throttle import Backoff

from web.conftest import PASSWORD, Site, cheap_argon2, csrf_of, make_app, populate  # noqa: F401


@pytest.fixture
def site():
    s = Site(make_app("memory://"))
    s.ids = s.change(populate)
    yield s
    s.db.close()


def copy_of(site, client):
    """Another browser holding a copy of *client*'s session cookie."""
    thief = site.client()
    thief.extra_environ["REMOTE_ADDR"] = "203.0.113.66"
    thief.set_cookie("portmonet", client.cookies["portmonet"])
    return thief


def signed_in(client, url="/subscribers/1001/"):
    return client.get(url, expect_errors=True).status_int == 200


def test_logout_ends_every_copy_of_the_cookie(site):
    client = site.login("manager")
    thief = copy_of(site, client)
    assert signed_in(thief)
    client.post("/logout", {"csrf_token": csrf_of(client.get("/"))}, status=302)
    assert not signed_in(thief) and not signed_in(client)


def test_office_logout_ends_every_copy_too(site):
    client = site.office_login("ivanov", "inet-pass-1")
    thief = copy_of(site, client)
    office = "/subscribers/1001/@@office"
    assert signed_in(thief, office)
    client.post("/office-logout", {"csrf_token": csrf_of(client.get(office))}, status=302)
    assert not signed_in(thief, office)


def test_password_change_ends_the_other_copies_keeps_the_changer(site):
    client = site.login("engineer")
    thief = copy_of(site, client)
    form = client.get("/@@password").forms["form"]
    form["old"], form["new"], form["confirm"] = PASSWORD, "a new password 9", "a new password 9"
    form.submit(status=302)
    assert signed_in(client, "/") and not signed_in(thief, "/")


def test_disabled_employee_is_signed_out_and_stays_out_when_enabled_again(site):
    client = site.login("cashier")
    assert signed_in(client)
    admin = site.login("administrator")
    form = admin.get("/staff/cashier/").forms["form"]
    form["active"] = False
    form.submit(status=302)
    assert not signed_in(client)
    form = admin.get("/staff/cashier/").forms["form"]
    form["active"] = True
    form.submit(status=302)
    assert not signed_in(client)               # the old session was ended, not paused


def test_idle_session_expires_on_the_server(site, monkeypatch):
    client = site.login("manager")
    now = security._now_us()
    limits = site.app.registry.pm_session_limits
    monkeypatch.setattr(security, "_now_us", lambda: now + limits.idle_us - 5_000_000)
    assert signed_in(client)                   # within the idle time: seen again now
    seen = now + limits.idle_us - 5_000_000
    monkeypatch.setattr(security, "_now_us", lambda: seen + limits.idle_us + 1)
    assert not signed_in(client)
    # The absolute limit holds even for a session in use all the time.
    client = site.login("manager")
    start = security._now_us()
    step = limits.idle_us // 2
    t = start
    while t - start <= limits.max_age_us:
        monkeypatch.setattr(security, "_now_us", lambda t=t: t)
        if not signed_in(client):
            break
        t += step
    assert limits.max_age_us - step <= t - start <= limits.max_age_us + step


def test_the_database_keeps_only_a_digest_of_the_session_id(site):
    client = site.login("manager")
    from pyramid.session import SignedCookieSessionFactory  # noqa: F401
    keys = site.read(lambda r: list(r.web_sessions.live.keys()))
    sessions = site.read(lambda r: r.web_sessions.sessions_of("staff:manager"))
    assert len(sessions) == 1 and all(len(k) == 64 for k in keys)
    assert client.cookies["portmonet"] not in "".join(keys)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(site):
    clock = Clock()
    for backoff in (site.app.registry.pm_login_source, site.app.registry.pm_login_account):
        backoff.clock = clock
    return clock


def attempt(site, client, login, password):
    form = client.get("/@@login").forms["form"]
    form["login"], form["password"] = login, password
    return form.submit(expect_errors=True).status_int


def test_guessing_cannot_lock_the_owner_out(site, clock):
    """Forty wrong passwords from an attacker (waiting out every delay):
    the owner's browser signs in at once, a new browser waits at most the
    account's cap, and the owner learns how many were tried."""
    owner = site.login("accountant")
    owner.post("/logout", {"csrf_token": csrf_of(owner.get("/"))}, status=302)
    attacker = site.client()
    attacker.extra_environ["REMOTE_ADDR"] = "198.51.100.9"
    account = site.app.registry.pm_login_account
    tried = 0
    for _ in range(40):
        status = attempt(site, attacker, "accountant", f"guess{tried}")
        assert status == 403
        tried += 1
        clock.now += 10_000                    # the attacker waits out every delay
    assert site.read(lambda r: r["staff"]["accountant"].active)
    assert account.wait("staff:accountant") <= account.cap
    # The owner's browser: in at once, told.
    assert attempt(site, owner, "accountant", PASSWORD) == 302
    page = owner.get("/")
    assert f"{tried} failed sign-in attempt" in page.text and "198.51.100.9" in page.text


def test_guessing_is_slowed_exponentially_per_account_and_per_address(site, clock):
    source, account = site.app.registry.pm_login_source, site.app.registry.pm_login_account
    attacker = site.client()
    attacker.extra_environ["REMOTE_ADDR"] = "198.51.100.10"
    checks = 0
    for second in range(0, 300):                # five minutes of one attempt a second
        clock.now = 5000.0 + second
        before = site.read(lambda r: r["staff"]["auditor"].failed_logins)
        attempt(site, attacker, "auditor", "wrong")
        checks += site.read(lambda r: r["staff"]["auditor"].failed_logins) - before
    # 5 free, then waits of 1, 2, 4, ... s: about 5 + log2(300) checks, not 300.
    assert 5 < checks <= 5 + 10, checks
    # The right password from that address, at once: refused (slowed, not locked).
    assert attempt(site, attacker, "auditor", PASSWORD) == 403
    assert source.wait("ip:198.51.100.10") > 0
    # From another address and a new browser: that account still waits ...
    other = site.client()
    other.extra_environ["REMOTE_ADDR"] = "192.0.2.20"
    assert attempt(site, other, "auditor", PASSWORD) == 403
    # ... but never more than the account's cap.
    clock.now += account.cap + 1
    assert attempt(site, other, "auditor", PASSWORD) == 302
    assert account.wait("staff:auditor") == 0


def test_backoff_delays():
    clock = Clock()
    b = Backoff(free=2, base=1.0, cap=8.0, clock=clock)
    assert b.wait("k") == 0
    b.failed("k")
    b.failed("k")
    assert b.wait("k") == 1.0
    for _ in range(10):
        b.failed("k")
    assert b.wait("k") == 8.0                   # capped
    clock.now += 8.0
    assert b.wait("k") == 0                     # waited: a check is allowed, nothing locked
    b.succeeded("k")
    assert b.wait("k") == 0

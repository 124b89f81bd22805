"""Sign-in, throttling, enumeration, CSRF, cookies, headers, first administrator."""
from .conftest import PASSWORD, Site, csrf_of, make_app, populate

REFUSAL = "Wrong login or password, or too many attempts"


def _try(client, login, password):
    form = client.get("/@@login").forms["form"]
    form["login"] = login
    form["password"] = password
    return form.submit(expect_errors=True)


def test_first_administrator_setup_then_closed(empty_site):
    client = empty_site.client()
    res = client.get("/").follow()                  # -> login -> setup
    assert res.status_int == 302 and "@@setup" in res.location
    page = res.follow()
    form = page.forms["form"]
    form["login"] = "boss"
    form["password"] = "short"
    form["confirm"] = "short"
    bad = form.submit(status=400)                   # re-shown with a message
    assert "at least 8" in bad.text or "8" in bad.text
    form = bad.forms["form"]
    form["password"] = form["confirm"] = "a long enough secret"
    form.submit(status=302).follow(status=200)
    assert empty_site.read(lambda r: r["staff"]["boss"].roles) == ("administrator",)
    assert empty_site.client().get("/@@setup", status=404)
    note = empty_site.db.history(empty_site.read(lambda r: r["staff"]["boss"]._p_oid), 1)[0]
    assert note["user_name"] == "boss" and "first administrator" in note["description"]


def test_wrong_password_and_unknown_login_look_the_same(site):
    client = site.client()
    wrong = _try(client, "cashier", "not the password")
    unknown = _try(client, "nobody-here", "not the password")
    assert wrong.status_int == unknown.status_int == 403
    assert REFUSAL in wrong.text and REFUSAL in unknown.text


def test_no_lockout_guessing_is_slowed_and_the_owner_told(site):
    """Failing a staff login from elsewhere does not lock the account: the
    guesser is slowed, the owner's own browser signs in at once and hears
    about the attempts (the full tables: tests/security/test_sessions.py)."""
    owner = site.login("cashier")
    owner.post("/logout", {"csrf_token": csrf_of(owner.get("/"))}, status=302)
    guesser = site.client()
    guesser.extra_environ["REMOTE_ADDR"] = "198.51.100.7"
    for _ in range(8):
        assert _try(guesser, "cashier", "guess").status_int == 403
    assert _try(guesser, "cashier", PASSWORD).status_int == 403     # slowed, not let in
    page = site.login("cashier", client=owner).get("/")
    assert "failed sign-in attempt" in page.text and "198.51.100.7" in page.text
    assert site.read(lambda r: r["staff"]["cashier"].failed_logins) == 0


def test_throttle_per_address(site):
    client = site.client()
    for n in range(10):
        _try(client, f"user{n}", "x")
    # Past the limit even a correct password from that address is refused.
    res = _try(client, "manager", PASSWORD)
    assert res.status_int == 403
    other = site.client()
    other.extra_environ["REMOTE_ADDR"] = "127.0.0.2"
    site.login("manager", client=other)


def test_password_change_ends_other_sessions(site):
    old = site.login("manager")
    assert old.get("/subscribers/1001/").status_int == 200
    def change(root):
        root["staff"]["manager"].set_password("another password")
    site.change(change)
    assert old.get("/subscribers/1001/", expect_errors=True).status_int == 302


def test_csrf_required_on_every_post(site):
    client = site.login("administrator")
    for url, data in [("/subscribers/@@add", {"name": "X", "kind": "person"}),
                      ("/subscribers/1001/1001-1/@@pay", {"amount": "1", "token": "a" * 32}),
                      ("/staff/@@add", {"login": "x", "roles": "cashier", "password": "12345678"}),
                      ("/logout", {}), ("/@@undo", {"id": "x"})]:
        assert client.post(url, data, expect_errors=True).status_int == 400, url
        assert client.post(url, dict(data, csrf_token="forged"), expect_errors=True).status_int == 400
    anon = site.client()
    assert anon.post("/@@login", {"login": "cashier", "password": PASSWORD},
                     expect_errors=True).status_int == 400
    assert site.read(lambda r: len(r["subscribers"])) == 47


def test_cookie_flags_and_security_headers():
    app = make_app("memory://", **{"portmonet.cookie_secure": None})   # the default
    s = Site(app)
    s.change(populate)
    res = s.client().get("/@@login")
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "secure" in cookie.lower()
    csp = res.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'none'" in csp
    assert res.headers["X-Frame-Options"] == "DENY"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    s.db.close()


def test_sign_in_issues_a_new_session(site):
    client = site.client()
    before = client.get("/@@login")
    token_before = csrf_of(before)
    form = before.forms["form"]
    form["login"], form["password"] = "cashier", PASSWORD
    form.submit(status=302)
    after = client.get("/search?q=ivan")
    assert csrf_of(after) != token_before          # no session fixation


def test_open_redirect_refused(site):
    client = site.client()
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        client = site.client()
        form = client.get("/@@login", {"came_from": target}).forms["form"]
        form["login"], form["password"] = "cashier", PASSWORD
        res = form.submit(status=302)
        assert res.location.startswith("http://localhost/") and "evil" not in res.location


def test_logout(site):
    client = site.login("cashier")
    page = client.get("/")
    client.post("/logout", {"csrf_token": csrf_of(page)}, status=302)
    assert client.get("/", expect_errors=True).status_int == 302


def test_hostile_urls_are_not_found(site):
    client = site.login("administrator")
    for url in ("/subscribers/abc/", "/subscribers/99999999999999999999999/", "/subscribers/-1/",
                "/subscribers/1001/nope/", "/subscribers/1001/1001-1/account/x/",
                "/%00/"):
        assert client.get(url, expect_errors=True).status_int == 404, url


def test_static_assets_need_no_sign_in(site):
    res = site.client().get("/static/style.css")
    assert res.status_int == 200 and "max-age" in res.headers["Cache-Control"]


def test_staff_change_their_own_password(site):
    client = site.login("engineer")
    other = site.login("engineer")
    form = client.get("/@@password").forms["form"]
    form["old"], form["new"], form["confirm"] = "wrong", "a new password 9", "a new password 9"
    assert "wrong password" in form.submit(status=400).text
    form = client.get("/@@password").forms["form"]
    form["old"], form["new"], form["confirm"] = PASSWORD, "short", "short"
    form.submit(status=400)
    form = client.get("/@@password").forms["form"]
    form["old"], form["new"], form["confirm"] = PASSWORD, "a new password 9", "a new password 9"
    form.submit(status=302)
    assert client.get("/").status_int == 200                       # this session stays
    assert other.get("/", expect_errors=True).status_int == 302     # the other ended
    site.login("engineer", "a new password 9")

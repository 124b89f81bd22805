"""The RADIUS pages (WebTest on the real WSGI application): the NAS
registry, online sessions, a session with its traffic and the kick, the
CoA/Disconnect log with retry; and every role on every one of them."""
import pytest

from portmonet.ledger.account import now_us
from portmonet.model.staff import ROLES
from portmonet.radius import accounting
from portmonet.radius.nas import Nas, add_nas
from portmonet.web.acl import ROLE_PERMISSIONS

from web.conftest import (Site, assert_pages_for_role, cheap_argon2, csrf_of,  # noqa: F401 (fixture)
                          make_app, populate)

SECRET = "very-secret-nas-key"


def world(root):
    ids = populate(root)
    nas = add_nas(root, Nas("bras1", "192.0.2.1", SECRET, "mikrotik", access_point="POP-1"))
    add_nas(root, Nas("bras2", "192.0.2.2", "other-secret", "cisco"))
    now = now_us()
    for sid, login, octets in (("S1", "ivanov", 1000), ("S2", "petrov", 5000)):
        rec = {"status": accounting.START, "when_us": now - 60_000_000, "session_id": sid,
               "login": login, "octets_in": 0, "octets_out": 0, "seconds": 0,
               "framed_ip": "10.0.0.7", "mac": "00:11:22:33:44:55", "port_id": "", "cause": 0}
        accounting.apply(root, nas, rec)
        accounting.apply(root, nas, dict(rec, status=accounting.INTERIM, when_us=now,
                                         octets_in=octets, octets_out=2 * octets, seconds=60))
    failed = root.outbox.queue("radius", "radius:disconnect:petrov:old",
                               {"action": "disconnect", "login": "petrov", "reason": "debt",
                                "user": "billing"})
    failed.failed("bras1: no answer", max_attempts=1)       # given up
    return ids


@pytest.fixture
def site():
    s = Site(make_app("memory://"))
    s.ids = s.change(world)
    return s


def test_nas_registry_add_edit_remove_never_shows_the_secret(site):
    client = site.login("engineer")
    page = client.get("/equipment/@@nas")
    assert "bras1" in page.text and "192.0.2.1" in page.text and "POP-1" in page.text
    assert SECRET not in page.text
    form = client.get("/equipment/@@add-nas").forms["form"]
    form["name"], form["address"], form["vendor"] = "bras3", "192.0.2.3", "mikrotik"
    res = form.submit(status=400)                       # no secret
    assert "needs a shared secret" in res.text
    form = res.forms["form"]
    form["secret"], form["address"] = "s3-secret", "192.0.2.1"
    res = form.submit(status=400)                       # address taken
    assert "192.0.2.1 exists" in res.text and "s3-secret" not in res.text
    form = res.forms["form"]
    form["secret"], form["address"] = "s3-secret", "192.0.2.3"
    form.submit(status=302)
    assert site.read(lambda r: r["equipment"]["bras3"].secret()) == b"s3-secret"
    edit = client.get("/equipment/bras3/@@edit")
    assert "s3-secret" not in edit.text and edit.forms["form"]["secret"].value == ""
    form = edit.forms["form"]
    form["coa_port"], form["access_point"] = "1700", "POP-3"
    form.submit(status=302)
    nas = site.read(lambda r: (r["equipment"]["bras3"].coa_port,
                               r["equipment"]["bras3"].access_point,
                               r["equipment"]["bras3"].secret()))
    assert nas == (1700, "POP-3", b"s3-secret")          # empty secret: unchanged
    form = client.get("/equipment/bras3/@@edit").forms["form"]
    form["secret"] = "new-secret"
    form.submit(status=302)
    assert site.read(lambda r: r["equipment"]["bras3"].secret()) == b"new-secret"
    # Removing a NAS closes its sessions; they stay in the subscriber's history.
    client.get("/equipment/bras1/@@remove").forms["form"].submit(status=302)
    assert site.read(lambda r: "bras1" not in r["equipment"])
    assert site.read(lambda r: [(s.session_id, s.terminate_cause)
                                for s in r.radius.sessions_of("ivanov")]) == [("S1", "NAS-Removed")]


def test_online_sessions_all_and_per_nas_and_a_session_with_traffic(site):
    client = site.login("auditor")
    page = client.get("/@@sessions")
    assert "2 online" in page.text and "ivanov" in page.text and "petrov" in page.text
    assert "0 online on bras2" in client.get("/@@sessions?nas=bras2").text
    client.get("/@@sessions?nas=nope", status=404)
    nas = client.get("/equipment/bras1/")
    assert "S1" in nas.text and "S2" in nas.text and SECRET not in nas.text
    s = client.get("/equipment/bras1/@@session?id=S2")
    assert s.html.find(id="octets-in").text == "5000"
    assert s.html.find(id="octets-out").text == "10000"
    assert s.html.find(id="seconds").text == "60"
    assert "bras1: no answer" in s.text                 # the failed Disconnect for petrov
    assert s.html.find(id="kick") is None               # auditors may not kick
    client.get("/equipment/bras1/@@session?id=nope", status=404)


def test_kick_queues_a_disconnect_for_that_session(site):
    client = site.login("engineer")
    page = client.get("/equipment/bras1/@@session?id=S1")
    form = page.forms["kick"]
    form["reason"] = "line test"
    form.submit(status=302)
    msgs = site.read(lambda r: [m.payload for m in r.outbox.due("radius")])
    assert [(m["login"], m["session_id"], m["nas"], m["reason"]) for m in msgs] == \
        [("ivanov", "S1", "bras1", "line test")]


def test_coa_log_shows_failed_sends_and_retries_them(site):
    client = site.login("engineer")
    log = client.get("/@@coa-log")
    assert "given-up" in log.text and "bras1: no answer" in log.text
    assert "given-up" in client.get("/@@coa-log?state=given-up").text
    assert "petrov" not in client.get("/@@coa-log?state=sent").text
    client.get("/@@coa-log?state=bogus", status=400)
    assert site.read(lambda r: r.outbox.due("radius")) == []
    retry = [f for f in log.forms.values() if f.action.endswith("@@coa-retry")]
    assert len(retry) == 1
    retry[0].submit(status=302)
    due = site.read(lambda r: [(m.key, m.state) for m in r.outbox.due("radius")])
    assert due == [("radius:disconnect:petrov:old", "queued")]


VIEWS = [
    ("/equipment/@@nas", "manage_equipment"),
    ("/equipment/@@add-nas", "manage_equipment"),
    ("/equipment/bras1/@@edit", "manage_equipment"),
    ("/equipment/bras1/@@remove", "manage_equipment"),
    ("/equipment/bras1/", "view"),
    ("/@@sessions", "view"),
    ("/@@sessions?nas=bras1", "view"),
    ("/equipment/bras1/@@session?id=S1", "view"),
    ("/@@coa-log", "view"),
]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(site, role):
    client = site.login(role)
    assert_pages_for_role(client, role, VIEWS)
    token = csrf_of(client.get("/@@sessions", expect_errors=True))
    for url, data in (("/equipment/bras1/@@kick?id=S2", {}),
                      ("/@@coa-retry", {"key": "radius:disconnect:petrov:old"})):
        res = client.post(url, dict(data, csrf_token=token), expect_errors=True)
        assert res.status_int == (302 if "block" in ROLE_PERMISSIONS[role] else 403), \
            (role, url, res.status)


def test_anonymous_cannot_see_sessions(site):
    res = site.client().get("/@@sessions", expect_errors=True)
    assert res.status_int in (302, 403)


def test_coa_messages_newest_first_and_paged(site):
    from portmonet.radius.views import coa_messages

    for n in range(3):      # one transaction each: distinct times, so a known order
        site.change(lambda root, n=n: root.outbox.queue("radius", f"k{n}",
                                                        {"action": "coa", "login": f"l{n}"}))
    keys = site.read(lambda r: [m.key for m in coa_messages(r, 10)])
    assert keys == ["k2", "k1", "k0", "radius:disconnect:petrov:old"]
    assert site.read(lambda r: [m.key for m in coa_messages(r, 2, start=1)]) == ["k1", "k0"]
    assert site.read(lambda r: [m.key for m in coa_messages(r, 10, state="given-up")]) == \
        ["radius:disconnect:petrov:old"]

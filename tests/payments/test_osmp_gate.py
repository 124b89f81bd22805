"""The OSMP gate (a WSGI filter in front of Pyramid) through a real
waitress server on loopback, over a real ZEO server."""
import urllib.parse

import pytest
import ZEO

import portmonet
from portmonet import crypto
from portmonet.payments import gate
from portmonet.payments.agents import OsmpAgent

from .conftest import Web, add_subscriber, osmp_xml, serve

pytestmark = pytest.mark.integration
AUTH = ("term", "gate-password-1")


class Counting:
    """The Pyramid application behind the gate, counting what reaches it."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from conftest import ZeoServer     # the core fixtures (tests/conftest.py)
    zeo = ZeoServer(tmp_path_factory.mktemp("zeo"))
    app = portmonet.main({}, **{"zodbconn.uri": zeo.uri,
                                "portmonet.secret_keys": crypto.DEMO_KEY,
                                "portmonet.evolve_on_start": "true",
                                "portmonet.cookie_secure": "false"})
    assert isinstance(app, gate.Gate)
    app.app = pyramid = Counting(app.app)
    server, base = serve(app)
    client = Web(base, ZEO.DB(zeo.address, wait_timeout=30, server_sync=True), zeo)
    client.app_storage = app.db.storage
    client.pyramid = pyramid

    def setup(root):
        for name in ("kiosk", "gone"):
            root["payments"].add_agent(OsmpAgent(name, ["127.0.0.0/8"], *AUTH), root.catalog)
        return add_subscriber(root, "Sidorov Sidor", email="s@example.org").account.number
    client.account = client.transact(setup)
    yield client
    server.close()
    client.db.close()
    zeo.stop()


def pay(web, agent, txn, amount="1.00", auth=AUTH):
    status, body = web.request(f"/payments/{agent}/osmp", {
        "command": "pay", "txn_id": txn, "account": web.account, "sum": amount}, auth=auth)
    return status, osmp_xml(body) if status != 404 else body


def balance(web):
    return web.look(lambda root: root.catalog.accounts.get(web.account).balance)


def test_a_known_agent_is_served_without_pyramid(web):
    before = web.pyramid.calls
    answers = [pay(web, "kiosk", str(n)) for n in range(101, 105)]
    assert all(status == 200 and ans["result"] == "0" for status, ans in answers)
    # The first request found the agent through traversal; the rest did not.
    assert web.pyramid.calls == before + 1
    assert balance(web) == 400
    _, again = pay(web, "kiosk", "101")
    assert again == answers[0][1] and balance(web) == 400
    statuses = web.look(lambda root: [e.status for e in root["payments"].journal.search(
        channel="osmp", agent="kiosk")])
    assert statuses == ["done"] * 5


def test_a_form_post_with_credentials_as_parameters(web):
    pay(web, "kiosk", "200")                    # the agent is known to the gate
    calls = web.pyramid.calls
    body = urllib.parse.urlencode({"command": "pay", "txn_id": "201", "account": web.account,
                                   "sum": "2.50", "login": AUTH[0], "password": AUTH[1]})
    status, data = web.request("/payments/kiosk/osmp", data=body.encode(), method="POST",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and osmp_xml(data)["result"] == "0"
    assert web.pyramid.calls == calls
    entry = web.look(lambda root: root["payments"].journal.for_ext_id("kiosk", "201")[0])
    assert entry.method == "POST" and "password=***" in entry.text()
    assert AUTH[1] not in entry.text() and entry.status == "done"


def test_forged_credentials_through_the_gate_are_refused_and_journaled(web):
    pay(web, "kiosk", "300")
    calls = web.pyramid.calls
    status, ans = pay(web, "kiosk", "301", auth=("term", "guess"))
    assert status == 403 and ans["result"] == "8" and web.pyramid.calls == calls
    entry = web.look(lambda root: root["payments"].journal.for_ext_id("kiosk", "301")[0])
    assert (entry.status, entry.outcome) == ("rejected", "bad credentials")
    assert "301" not in web.look(lambda root: list(root["payments"]["kiosk"].txns.keys()))


def test_an_unknown_agent_is_not_found_and_not_journaled(web):
    status, _ = pay(web, "nobody", "400")
    assert status == 404
    assert web.look(lambda root: root["payments"].journal.for_ext_id("nobody", "400")) == []


def test_a_removed_agent_is_not_found_and_forgotten(web):
    before = balance(web)
    assert pay(web, "gone", "500")[1]["result"] == "0"
    assert pay(web, "gone", "501")[1]["result"] == "0"
    web.transact(lambda root: root["payments"].remove("gone"))
    calls = web.pyramid.calls
    status, _ = pay(web, "gone", "502")
    assert status == 404 and web.pyramid.calls == calls      # answered by the gate
    status, _ = pay(web, "gone", "503")
    assert status == 404 and web.pyramid.calls == calls + 1  # forgotten: traversal's 404
    assert balance(web) == before + 200


def test_argon2_runs_in_request_threads_not_in_the_committer(web, monkeypatch):
    """Checking a password the process has not verified yet (argon2, tens
    of milliseconds) happens in the request's own thread: forged passwords
    cannot stall the one thread that commits everyone's payments."""
    import threading

    from portmonet import crypto
    from portmonet.payments import agents
    pay(web, "kiosk", "600")                     # known, credentials seen by the committer
    threads = []
    real = crypto.verify_password

    def spy(hashed, password):
        threads.append(threading.current_thread().name)
        return real(hashed, password)
    monkeypatch.setattr(crypto, "verify_password", spy)
    monkeypatch.setattr(agents, "_verified", {})  # as after a restart
    status, ans = pay(web, "kiosk", "601", auth=("term", "forged-1"))
    assert status == 403 and ans["result"] == "8"
    status, ans = pay(web, "kiosk", "602")
    assert status == 200 and ans["result"] == "0"
    assert len(threads) == 2 and "payments-committer" not in threads
    entry = web.look(lambda root: root["payments"].journal.for_ext_id("kiosk", "601")[0])
    assert (entry.status, entry.outcome) == ("rejected", "bad credentials")

"""``portmonet.trusted_proxy`` (issue 20): behind a load balancer the
throttles, allow-lists and journals see the real client; a client that is
not the proxy cannot claim another address.  And the secure headers
(OWASP list, HSTS in production)."""
import configparser
import http.client
import os
import urllib.parse

import threading

import pytest
import waitress

import portmonet
from portmonet import crypto
from portmonet.payments.agents import OsmpAgent
from portmonet.web.headers import HEADERS
from portmonet.web.proxy import TrustedProxy, parse_networks

from payments.conftest import Web, add_subscriber, osmp_xml
from web.conftest import PASSWORD, Site, cheap_argon2, make_app, populate  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))


@pytest.mark.parametrize("peer,forwarded,count,client", [
    ("10.0.0.5", "203.0.113.7", 1, "203.0.113.7"),
    ("10.0.0.5", "1.2.3.4, 203.0.113.7", 1, "203.0.113.7"),     # a spoofed first entry
    ("10.0.0.5", "1.2.3.4, 203.0.113.7, 10.0.0.9", 2, "203.0.113.7"),
    ("10.0.0.5", "203.0.113.7", 2, None),                         # fewer hops than proxies
    ("192.0.2.1", "203.0.113.7", 1, None),                        # not from a trusted proxy
    ("10.0.0.5", "not-an-address", 1, None),
    ("10.0.0.5", "", 1, None),
    ("10.0.0.5", "2001:db8::1", 1, "2001:db8::1"),
])
def test_client_address_rules(peer, forwarded, count, client):
    proxy = TrustedProxy(None, parse_networks("10.0.0.0/8 127.0.0.1"), count)
    assert proxy.client(peer, forwarded) == client


def raw_get(base, path, source, headers):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers      # names compared case-insensitively
    finally:
        conn.close()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The application behind a trusted proxy at 127.0.0.1 (requests from
    127.0.0.2 come from "the internet"), over a real ZEO server."""
    import ZEO
    from conftest import ZeoServer
    zeo = ZeoServer(tmp_path_factory.mktemp("zeo"))
    app = portmonet.main({}, **{"zodbconn.uri": zeo.uri, "portmonet.secret_keys": crypto.DEMO_KEY,
                                "portmonet.evolve_on_start": "true",
                                "portmonet.cookie_secure": "false",
                                "portmonet.trusted_proxy": "127.0.0.1",
                                "portmonet.hsts_max_age": "31536000"})
    # waitress drops X-Forwarded-For unless told not to (production.ini says
    # so too): the application's own filter decides whom to believe.
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4,
                                    clear_untrusted_proxy_headers=False)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    web = Web(base, ZEO.DB(zeo.address, wait_timeout=30, server_sync=True), zeo)
    web.app_storage = app.registry._zodb_databases[""].storage

    def setup(root):
        root["payments"].add_agent(OsmpAgent("lb", ["203.0.113.0/24"], "lbterm", "lb-terminal-pw"),
                                   root.catalog)
        return add_subscriber(root, "Proxied Pavel").account.number
    web.account = web.transact(setup)
    yield web
    server.close()
    web.db.close()
    zeo.stop()


def osmp_query(account, txn_id):
    return "/payments/lb/osmp?" + urllib.parse.urlencode({
        "command": "pay", "txn_id": txn_id, "account": account, "sum": "1.00",
        "login": "lbterm", "password": "lb-terminal-pw"})


def test_allow_list_and_journal_see_the_client_behind_the_proxy(proxied):
    for n in range(2):          # the first request through Pyramid, the next through the gate
        status, body, _ = raw_get(proxied.base, osmp_query(proxied.account, str(100 + n)),
                                  "127.0.0.1", {"X-Forwarded-For": "203.0.113.50"})
        assert status == 200 and osmp_xml(body)["result"] == "0"
    entries = proxied.look(lambda root: root["payments"].journal.for_ext_id("lb", "101"))
    assert [e.remote for e in entries] == ["203.0.113.50"]


def test_a_client_that_is_not_the_proxy_cannot_claim_an_address(proxied):
    status, body, _ = raw_get(proxied.base, osmp_query(proxied.account, "200"), "127.0.0.2",
                              {"X-Forwarded-For": "203.0.113.50"})
    assert status == 403 and osmp_xml(body)["result"] == "8"
    entries = proxied.look(lambda root: root["payments"].journal.for_ext_id("lb", "200"))
    assert [e.remote for e in entries] == ["127.0.0.2"]


def test_sign_in_throttling_sees_each_client_behind_the_proxy():
    site = Site(make_app("memory://", **{"portmonet.trusted_proxy": "127.0.0.1"}))
    site.change(populate)

    def attempt(login, password, forwarded, peer="127.0.0.1"):
        client = site.client()
        client.extra_environ.update(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
        form = client.get("/@@login").forms["form"]
        form["login"], form["password"] = login, password
        return form.submit(expect_errors=True).status_int
    try:
        for n in range(8):
            assert attempt(f"nobody{n}", "x", "198.51.100.1") == 403
        assert attempt("manager", PASSWORD, "198.51.100.1") == 403    # that client is slowed
        assert attempt("manager", PASSWORD, "198.51.100.2") == 302    # its neighbour is not
        # Not the proxy: its X-Forwarded-For is ignored, its own address counts.
        for n in range(8):
            attempt(f"nobody{n}", "x", f"198.51.100.{100 + n}", peer="192.0.2.9")
        assert attempt("cashier", PASSWORD, "198.51.100.3", peer="192.0.2.9") == 403
    finally:
        site.db.close()


def test_secure_headers_on_pages_and_on_the_payment_gate(proxied):
    for path in ("/@@login", osmp_query(proxied.account, "300")):
        status, _, headers = raw_get(proxied.base, path, "127.0.0.1",
                                     {"X-Forwarded-For": "203.0.113.51"})
        for name, value in HEADERS.items():
            assert headers.get(name) == value, (path, name)
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_production_ini_sends_hsts_and_names_the_proxy():
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(os.path.join(PROJECT, "production.ini"))
    app = ini["app:main"]
    assert int(app["portmonet.hsts_max_age"]) >= 31536000
    assert parse_networks(app["portmonet.trusted_proxy"])
    dev = configparser.ConfigParser(interpolation=None)
    dev.read(os.path.join(PROJECT, "development.ini"))
    assert "portmonet.hsts_max_age" not in dev["app:main"]     # plain HTTP on a laptop

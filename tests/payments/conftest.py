"""Fixtures of the payments tests: the real WSGI application served by a
real waitress server on loopback, over a real ZEO server."""
import base64
import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import waitress
import ZEO

import portmonet
from portmonet import crypto
from portmonet.model.root import get_root
from portmonet.model.subscriber import Subscriber
from portmonet.model.services import InternetService


class Web:
    """The application on a loopback port, and a database client to look with."""

    def __init__(self, base, db, zeo):
        self.base = base
        self.db = db
        self.zeo = zeo
        # A browser's cookie jar, for the views behind a staff sign-in.
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def sign_in(self, login, password):
        """Sign in through the real form; later POSTs carry the CSRF token."""
        status, page = self.request("/@@login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _ = self.request("/@@login", data=urllib.parse.urlencode(
            {"login": login, "password": password, "csrf_token": token}).encode(), method="POST")
        assert status == 200, status
        status, page = self.request("/@@password")
        self.csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()

    def request(self, path, params=None, data=None, headers=None, auth=None, method=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        if self.csrf and method == "POST":
            req.add_header("X-CSRF-Token", self.csrf)
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def post_json(self, path, body, headers):
        return self.request(path, data=body, headers=dict(headers, **{
            "Content-Type": "application/json"}), method="POST")

    app_storage = None

    def transact(self, func):
        with self.db.transaction(note="test") as conn:
            result = func(get_root(conn.root()))
        # The tests write through their own client and then ask the server at
        # once: a round trip from the server's client makes sure it has the
        # invalidations of this commit before the next request.
        if self.app_storage is not None:
            self.app_storage.ping()
        return result

    def look(self, func):
        conn = self.db.open()
        try:
            conn.sync()
            return func(get_root(conn.root()))
        finally:
            conn.transaction_manager.abort()
            conn.close()


def serve(app, threads=4):
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def start_web(zeo_server):
    app = portmonet.main({}, **{"zodbconn.uri": zeo_server.uri,
                                "portmonet.secret_keys": crypto.DEMO_KEY,
                                "portmonet.evolve_on_start": "true",
                                "portmonet.cookie_secure": "false"})
    server, base = serve(app)
    db = ZEO.DB(zeo_server.address, wait_timeout=30, server_sync=True)
    client = Web(base, db, zeo_server)
    client.app_storage = app.registry._zodb_databases[""].storage
    return server, client


@pytest.fixture(scope="module")
def module_web(tmp_path_factory):
    """One server for a module's tests (each test makes its own subscribers)."""
    from conftest import ZeoServer     # the core fixtures (tests/conftest.py)
    zeo = ZeoServer(tmp_path_factory.mktemp("zeo"))
    server, client = start_web(zeo)
    yield client
    server.close()
    client.db.close()
    zeo.stop()


def add_subscriber(root, name, email=None, credit_limit=0, status="active", login=None,
                   tax_id=""):
    sub = root["subscribers"].add_subscriber(Subscriber(name, email=email, tax_id=tax_id))
    contract = sub.new_contract(credit_limit=credit_limit, status=status)
    if login:
        contract.add_service(InternetService(login, "secret"))
    return contract


def osmp_xml(body):
    """The fields of an OSMP XML answer as a dict."""
    from defusedxml import ElementTree
    try:
        doc = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise AssertionError(f"not an OSMP answer: {body[:500]!r}") from None
    assert doc.tag == "response"
    return {child.tag: (child.text or "") for child in doc}


def as_json(body):
    return json.loads(body.decode())

"""A real Portmonet WSGI application (the one ``pserve`` serves) on an
in-memory or FileStorage database, driven by WebTest."""
import os
import re
import tempfile

# Compiled templates on disk: every test makes a new app, which would
# otherwise compile every Chameleon template again.
os.environ.setdefault("CHAMELEON_CACHE", os.path.join(tempfile.gettempdir(),
                                                      f"portmonet-chameleon-{os.getuid()}"))
os.makedirs(os.environ["CHAMELEON_CACHE"], exist_ok=True)

import pytest
import transaction
import webtest

import portmonet
from portmonet import crypto
from portmonet.model.root import get_root
from portmonet.model.services import InternetService
from portmonet.model.staff import ROLES, StaffUser
from portmonet.model.subscriber import Subscriber

PASSWORD = "correct horse 1"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """The same argon2, with a small cost: tests hash dozens of passwords."""
    from argon2 import PasswordHasher
    monkeypatch.setattr(crypto, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    from portmonet.web import security
    monkeypatch.setattr(security, "_DUMMY_HASH", None)


def make_app(uri, **extra):
    settings = {"zodbconn.uri": uri, "portmonet.secret_keys": crypto.DEMO_KEY,
                "portmonet.evolve_on_start": "true", "portmonet.cookie_secure": "false"}
    settings.update(extra)
    settings = {k: v for k, v in settings.items() if v is not None}
    return portmonet.main({}, **settings)


class Site:
    """The app, its database, and ways to put data in and sign in."""

    def __init__(self, app):
        self.app = app
        self.db = app.registry._zodb_databases[""]

    def client(self):
        return webtest.TestApp(self.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})

    def change(self, func, note="test data"):
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        try:
            txn = tm.begin()
            txn.user = "test"
            txn.note(note)
            result = func(get_root(conn.root()))
            tm.commit()
            return result
        finally:
            tm.abort()
            conn.close()

    def read(self, func):
        conn = self.db.open(transaction_manager=transaction.TransactionManager())
        try:
            return func(get_root(conn.root()))
        finally:
            conn.close()

    def login(self, login, password=PASSWORD, client=None):
        client = client or self.client()
        page = client.get("/@@login")
        form = page.forms["form"]
        form["login"] = login
        form["password"] = password
        form.submit(status=302)
        return client

    def office_login(self, identifier, password, client=None):
        client = client or self.client()
        page = client.get("/@@office-login")
        form = page.forms["form"]
        form["identifier"] = identifier
        form["password"] = password
        form.submit(status=302)
        return client


def populate(root):
    for role in ROLES:
        root["staff"].add_user(StaffUser(role, (role,), PASSWORD, name=f"The {role}"))
    subs = root["subscribers"]
    ivanov = subs.add_subscriber(Subscriber("Ivanov Ivan", phone="+7 495 123-45-67",
                                            email="ivan@example.com", address="Tverskaya 1"), id=1001)
    contract = ivanov.new_contract()
    contract.add_service(InternetService("ivanov", "inet-pass-1", "10.0.0.7"))
    contract.account.post(50000, "payment", "seed:1001", "Opening payment")
    petrov = subs.add_subscriber(Subscriber("Petrov Petr", phone="84951112233",
                                            email="petr@example.com"), id=1002)
    pc = petrov.new_contract()
    pc.add_service(InternetService("petrov", "inet-pass-2"))
    for n in range(3, 48):
        s = subs.add_subscriber(Subscriber(f"Sidorov Number{n}"), id=1000 + n)
        s.new_contract()
    return {"ivanov": ivanov.id, "ivanov_contract": contract.number,
            "ivanov_account": contract.account.number, "petrov": petrov.id,
            "petrov_contract": pc.number}


@pytest.fixture
def site():
    app = make_app("memory://")
    s = Site(app)
    s.ids = s.change(populate)
    yield s
    s.db.close()


@pytest.fixture
def empty_site():
    app = make_app("memory://")
    s = Site(app)
    yield s
    s.db.close()


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def assert_refused(res, field, message):
    """*res* is the form shown again (400) with *message* by field *field*."""
    assert res.status_int == 400
    place = res.html.find(id=field)
    assert place is not None, field
    errors = place.find_next("span", class_="errors")
    assert errors is not None and message in errors.text, (field, errors)


def assert_pages_for_role(client, role, pages, allowed_status=200):
    """GET each (url, permission) of *pages* as *client* signed in with
    *role*: *allowed_status* when the role holds the permission, else 403."""
    from portmonet.web.acl import ROLE_PERMISSIONS
    allowed = set(ROLE_PERMISSIONS[role])
    for url, permission in pages:
        expected = allowed_status if permission in allowed else 403
        res = client.get(url, expect_errors=True)
        assert res.status_int == expected, (role, url, res.status)

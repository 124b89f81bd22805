"""Every role on every view: allowed exactly when the role's documented
permissions include the view's permission."""
import pytest

from portmonet.model.staff import ROLES
from portmonet.web.acl import ROLE_PERMISSIONS

from .conftest import assert_pages_for_role, csrf_of

C = "/subscribers/1001/1001-1"
VIEWS = [
    ("/", "view"),
    ("/search?q=ivan", "view"),
    ("/@@password", "view"),
    ("/subscribers/", "view"),
    ("/subscribers/@@add", "create"),
    ("/subscribers/1001/", "view"),
    ("/subscribers/1001/@@edit", "edit"),
    ("/subscribers/1001/@@history", "view_history"),
    ("/subscribers/1001/@@add-contract", "create"),
    (f"{C}/", "view"),
    (f"{C}/@@edit", "edit"),
    (f"{C}/@@status", "block"),
    (f"{C}/@@pay", "take_payment"),
    (f"{C}/@@add-internet", "create"),
    (f"{C}/account/", "view"),
    (f"{C}/internet-1/", "edit"),
    (f"{C}/internet-1/@@tariff", "edit"),
    ("/applications/", "create"),
    ("/staff/", "manage_staff"),
    ("/staff/@@add", "manage_staff"),
    ("/staff/cashier/", "manage_staff"),
    ("/@@inspect", "admin_db"),
    ("/subscribers/1001/@@inspect", "admin_db"),
    ("/subscribers/1001/@@office", "office"),
    ("/subscribers/1001/@@office-ledger?contract=1001-1", "office"),
    ("/subscribers/1001/@@office-password", "office"),
    ("/subscribers/1001/@@office-notifications", "office"),
    ("/subscribers/1001/@@office-tariff", "office"),
    ("/subscribers/1001/@@office-promise", "office"),
    ("/subscribers/1001/@@office-topup", "office"),
    ("/subscribers/1001/@@office-card", "office"),
    ("/subscribers/1001/@@office-sessions", "office"),
    ("/subscribers/1001/@@office-calls?contract=1001-1", "office"),
    ("/subscribers/1001/@@office-invoices?contract=1001-1", "office"),
    ("/subscribers/1001/@@sessions", "view"),
    ("/subscribers/1001/@@calls?contract=1001-1", "view"),
    ("/subscribers/1001/@@invoices?contract=1001-1", "view"),
    ("/equipment/", "view"),
    ("/equipment/@@add", "manage_equipment"),
    ("/equipment/sw-1/", "manage_equipment"),
    ("/equipment/sw-1/@@edit", "manage_equipment"),
    ("/operators/", "view"),
    ("/operators/@@add", "manage_operators"),
    ("/operators/mts/", "manage_operators"),
    ("/operators/mts/@@edit", "manage_operators"),
]


@pytest.fixture
def site(site):
    """The shared site plus a switch and a partner operator to reach."""
    from portmonet.model.simple import Device, Operator
    def add(root):
        root["equipment"].add("sw-1", Device("sw-1", address="10.1.1.1"))
        root["operators"].add("mts", Operator("mts", "MTS"))
        # A card provider, so that the office's "Top up" page exists.
        from portmonet.payments.agents import Provider
        root["payments"].add_agent(Provider("cardgw", "role-matrix-secret-0123456789abcdef",
                                             pay_url="http://127.0.0.1:9/pay"), root.catalog)
    site.change(add)
    return site


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(site, role):
    client = site.login(role)
    allowed = set(ROLE_PERMISSIONS[role])
    assert_pages_for_role(client, role, VIEWS)
    # A POST-only view: undo (administrators only); a bad id is refused after
    # the permission check, so 302 means "allowed", 403 "forbidden".
    token = csrf_of(client.get("/search?q=x", expect_errors=True))
    res = client.post("/@@undo", {"csrf_token": token, "id": "AAAAAAAAAAA="}, expect_errors=True)
    assert res.status_int == (302 if "admin_db" in allowed else 403), (role, res.status)
    res = client.post(f"{C}/internet-1/@@kick", {"csrf_token": token}, expect_errors=True)
    assert res.status_int == (302 if "block" in allowed else 403), (role, res.status)


def test_anonymous_is_sent_to_sign_in(site):
    client = site.client()
    for url, permission in VIEWS:
        res = client.get(url, expect_errors=True)
        assert res.status_int == 302, url
        target = "@@office-login" if "office" in url else "@@login"
        assert target in res.location, url


def test_office_subscriber_reaches_only_own_objects(site):
    client = site.office_login("ivanov", "inet-pass-1")
    for url, permission in VIEWS:
        res = client.get(url, expect_errors=True)
        if url == "/":              # the front page sends a subscriber to the office
            assert res.status_int == 302 and res.location.endswith("/subscribers/1001/@@office")
            continue
        assert res.status_int == (200 if permission == "office" else 403), url
    # Another subscriber's office, contract and ledger are refused.
    for url in ("/subscribers/1002/@@office", "/subscribers/1002/@@office-ledger?contract=1002-1",
                "/subscribers/1002/1002-1/account/", "/subscribers/1002/@@office-password"):
        assert client.get(url, expect_errors=True).status_int == 403, url


def test_every_documented_role_has_known_permissions():
    from portmonet.web.acl import PERMISSIONS
    assert set(ROLE_PERMISSIONS) == set(ROLES)
    for perms in ROLE_PERMISSIONS.values():
        assert set(perms) <= set(PERMISSIONS)
    assert set(ROLE_PERMISSIONS["auditor"]) & {"edit", "create", "take_payment", "block",
                                                "refund", "manage_staff", "admin_db"} == set()


def test_features_grant_their_permissions(site):
    """A feature's permission reaches the roles it is granted to, nobody else."""
    from portmonet.web import acl
    saved = (dict(acl.ROLE_PERMISSIONS), acl.OFFICE_ROOT_PERMISSIONS, dict(acl.PERMISSIONS))
    try:
        acl.grant("engineer", "poll_now", doc="poll a device now")
        root_acl = site.read(lambda r: r.__acl__)
        assert ("Allow", "role:engineer", "poll_now") in [tuple(map(str, a)) for a in root_acl]
        assert not any(a[2] == "poll_now" and a[1] != "role:engineer" for a in root_acl[:-1])
        with pytest.raises(ValueError):
            acl.grant("janitor", "mop")
    finally:
        acl.ROLE_PERMISSIONS.clear()
        acl.ROLE_PERMISSIONS.update(saved[0])
        acl.OFFICE_ROOT_PERMISSIONS = saved[1]
        acl.PERMISSIONS.clear()
        acl.PERMISSIONS.update(saved[2])
        acl._root_acl = None


def test_office_session_gets_only_office_root_permissions(site):
    from pyramid.authorization import ACLHelper
    helper = ACLHelper()
    principals = ["system.Everyone", "system.Authenticated", "subscriber:1001", "role:subscriber"]
    def check(root):
        return {perm: bool(helper.permits(root, principals, perm))
                for perm in ("pay_online", "activate_card", "view", "take_payment", "office")}
    assert site.read(check) == {"pay_online": True, "activate_card": True, "view": False,
                                "take_payment": False, "office": False}


# Views anyone may reach (sign-in pages, the machine protocols that
# authenticate each request themselves, health): (context, name).
PUBLIC = {
    ("IRoot", "login"), ("IRoot", "logout"), ("IRoot", "setup"), ("IRoot", "lang"),
    ("IRoot", "office-login"), ("IRoot", "office"), ("IRoot", "office-logout"),
    ("IRoot", "office-register"), ("IRoot", "health"),
    # Machine protocols of the payments feature: each request authenticates
    # itself (agent signature, allow list); the provider's return page.
    ("IProvider", "callback"), ("IProvider", "return"), ("IOsmpAgent", "osmp"),
    # The HTTP SMS gateway's delivery reports (a shared token per request).
    ("INotify", "sms-report"),
}


def _views(app):
    """(context name, view name, permission or None, intr) of every view."""
    introspector = app.registry.introspector
    for intr in introspector.get_category("views"):
        view = intr["introspectable"]
        perms = [r for r in intr["related"] if r.category_name == "permissions"]
        context = view["context"]
        yield (getattr(context, "__name__", str(context)), view["name"],
               perms[0]["value"] if perms else None, view)


def test_every_view_has_an_explicit_permission(site):
    """A view registered without ``permission=`` falls back to the default
    ("view"), which would open it to every employee; a public one must be
    listed above.  Exception views (forbidden, not found) and the static
    assets are the framework's."""
    from pyramid.security import NO_PERMISSION_REQUIRED
    missing, public, seen = [], set(), 0
    for context, name, permission, view in _views(site.app):
        raw = view["context"]
        if view["exception_only"] or (isinstance(raw, type) and issubclass(raw, BaseException)) \
                or context == "IExceptionResponse":
            continue
        if view["route_name"] == "__static/":
            continue
        seen += 1
        if permission is None:
            missing.append((context, name, view["callable"]))
        elif permission == NO_PERMISSION_REQUIRED:
            public.add((context, name))
    assert seen > 60
    assert missing == []
    assert public - PUBLIC == set()


def test_permission_check_catches_an_unguarded_view(site):
    """The check above does fail on a view without a permission."""
    from pyramid.config import Configurator
    from portmonet.interfaces import ISubscriber
    config = Configurator(registry=site.app.registry)
    config.add_view(lambda context, request: {}, context=ISubscriber, name="sneaky",
                    renderer="json")
    config.commit()
    found = [(c, n) for c, n, p, v in _views(site.app) if n == "sneaky"]
    assert found == [("ISubscriber", "sneaky")]
    assert [p for c, n, p, v in _views(site.app) if n == "sneaky"] == [None]

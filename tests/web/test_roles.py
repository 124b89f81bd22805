"""Every role on every view: allowed exactly when the role's documented
permissions include the view's permission."""
import pytest

from portmonet.model.staff import ROLES
from portmonet.web.acl import ROLE_PERMISSIONS

from .conftest import csrf_of

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
]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(site, role):
    client = site.login(role)
    allowed = set(ROLE_PERMISSIONS[role])
    for url, permission in VIEWS:
        expected = 200 if permission in allowed else 403
        res = client.get(url, expect_errors=True)
        assert res.status_int == expected, (role, url, res.status)
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

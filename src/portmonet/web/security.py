"""The security policy: staff sessions and subscribers' office sessions.

One signed session cookie carries who is signed in (``staff:<login>`` or
``subscriber:<id>``) and a fingerprint of their password hash, so changing a
password ends the other sessions.  Principals are roles (``role:cashier``)
for staff and ``subscriber:<id>`` for the office; the ACLs of
:mod:`portmonet.web.acl` decide.
"""
import hashlib

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from zope.interface import implementer

from .. import crypto
from . import acl

SESSION_KEY = "auth.uid"
FINGERPRINT_KEY = "auth.fp"


def fingerprint(password_hash):
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


class Identity:
    """Who made the request: a staff user or an office subscriber."""

    def __init__(self, userid, kind, obj, principals):
        self.userid = userid
        self.kind = kind
        self.obj = obj
        self.principals = principals

    @property
    def is_staff(self):
        return self.kind == "staff"

    @property
    def name(self):
        return self.obj.login if self.is_staff else self.obj.name


def office_password_hash(subscriber):
    return getattr(subscriber, "office_password_hash", None)


def _load(request, userid, fp):
    kind, _, key = userid.partition(":")
    # pyramid_tm asks for the user before traversal has set request.root.
    root = getattr(request, "root", None)
    if root is None:
        from .. import root_factory
        root = root_factory(request)
    if root is None:
        return None
    if kind == "staff":
        user = root["staff"].get(key)
        if user is None or not user.active or fingerprint(user.password_hash) != fp:
            return None
        principals = [acl.role_principal(r) for r in user.roles]
        # The staff login itself is the user id (the transaction user of every
        # change, what other features' views read); logins never hold ':',
        # so it cannot be taken for 'subscriber:<id>' or 'role:<r>'.
        return Identity(user.login, "staff", user, principals)
    if kind == "subscriber":
        subscriber = root["subscribers"].get(key)
        if subscriber is None or fingerprint(office_password_hash(subscriber)) != fp:
            return None
        return Identity(userid, "subscriber", subscriber,
                        [acl.subscriber_principal(subscriber.id),
                         acl.role_principal(acl.SUBSCRIBER_ROLE)])
    return None


@implementer(ISecurityPolicy)
class SecurityPolicy:

    def __init__(self):
        self.helper = ACLHelper()

    def identity(self, request):
        cached = request.__dict__.get("_pm_identity", False)
        if cached is not False:
            return cached
        userid = request.session.get(SESSION_KEY)
        ident = _load(request, userid, request.session.get(FINGERPRINT_KEY)) if userid else None
        if userid and ident is None:
            request.session.invalidate()      # user gone, disabled or password changed
        request.__dict__["_pm_identity"] = ident
        return ident

    def authenticated_userid(self, request):
        ident = self.identity(request)
        return ident.userid if ident is not None else None

    def permits(self, request, context, permission):
        principals = [Everyone]
        ident = self.identity(request)
        if ident is not None:
            principals += [Authenticated, ident.userid] + ident.principals
        return self.helper.permits(context, principals, permission)

    def remember(self, request, userid, password_hash=None, **kw):
        # A fresh session on sign-in: no fixation of a session id set before.
        request.session.invalidate()
        request.session[SESSION_KEY] = userid
        request.session[FINGERPRINT_KEY] = fingerprint(password_hash)
        request.__dict__.pop("_pm_identity", None)
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        request.__dict__.pop("_pm_identity", None)
        return []


_DUMMY_HASH = None


def spend_password_time(password):
    """Check against a throw-away hash so an unknown login takes as long as a
    known one (no user enumeration by timing)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = crypto.hash_password("not-a-real-password")
    crypto.verify_password(_DUMMY_HASH, password)
    return False

"""The security policy: staff sessions and subscribers' office sessions.

One signed session cookie carries who is signed in (``staff:<login>`` or
``subscriber:<id>``), a fingerprint of their password hash (changing a
password ends the other sessions) and the id of a server-side session
(:mod:`portmonet.web.sessions`: logging out, disabling an employee or
staying idle ends it for every copy of the cookie).  Principals are roles
(``role:cashier``) for staff and ``subscriber:<id>`` for the office; the
ACLs of :mod:`portmonet.web.acl` decide.
"""
import hashlib
import hmac
import time

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from zope.interface import implementer

from .. import crypto
from . import acl

SESSION_KEY = "auth.uid"
FINGERPRINT_KEY = "auth.fp"
SID_KEY = "auth.sid"


def _now_us():
    return int(time.time() * 1_000_000)


class SessionLimits:
    """How long a sign-in lasts: idle and in all (seconds, from the ini)."""

    def __init__(self, idle=1800, max_age=12 * 3600):
        self.idle_us, self.max_age_us = int(idle * 1e6), int(max_age * 1e6)


def _limits(request):
    return getattr(request.registry, "pm_session_limits", None) or SessionLimits()


def _root(request):
    # pyramid_tm asks for the user before traversal has set request.root.
    root = getattr(request, "root", None)
    if root is None:
        from .. import root_factory
        root = root_factory(request)
    return root


def _book(request):
    root = _root(request)
    return getattr(root, "web_sessions", None) if root is not None else None


def end_sessions(request, userid, keep_current=False):
    """End every server-side session of *userid* (``staff:<login>`` or
    ``subscriber:<id>``), but this request's own with *keep_current*."""
    book = _book(request)
    if book is not None:
        book.close_all(userid, keep=request.session.get(SID_KEY) if keep_current else None)


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


def _same(a, b):
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


def _load(request, userid, fp, sid):
    kind, _, key = userid.partition(":")
    root = _root(request)
    if root is None:
        return None
    book = getattr(root, "web_sessions", None)
    limits = _limits(request)
    if book is None or not book.check(sid, userid, _now_us(), limits.idle_us, limits.max_age_us):
        return None                   # signed out, ended, idle too long, or never opened
    if kind == "staff":
        user = root["staff"].get(key)
        if user is None or not user.active or not _same(fingerprint(user.password_hash), fp):
            return None
        principals = [acl.role_principal(r) for r in user.roles]
        # The staff login itself is the user id (the transaction user of every
        # change, what other features' views read); logins never hold ':',
        # so it cannot be taken for 'subscriber:<id>' or 'role:<r>'.
        return Identity(user.login, "staff", user, principals)
    if kind == "subscriber":
        subscriber = root["subscribers"].get(key)
        if subscriber is None or not _same(fingerprint(office_password_hash(subscriber)), fp):
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
        ident = _load(request, userid, request.session.get(FINGERPRINT_KEY),
                      request.session.get(SID_KEY)) if userid else None
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
        # A fresh session on sign-in: no fixation of a session id set
        # before; the browser's previous sign-in ends on the server too.
        book = _book(request)
        if book is not None:
            book.close(request.session.get(SID_KEY))
        request.session.invalidate()
        request.session[SESSION_KEY] = userid
        request.session[FINGERPRINT_KEY] = fingerprint(password_hash)
        if book is not None:
            request.session[SID_KEY] = book.open(userid, _now_us(), _limits(request).max_age_us)
        request.__dict__.pop("_pm_identity", None)
        return []

    def forget(self, request, **kw):
        book = _book(request)
        if book is not None:
            book.close(request.session.get(SID_KEY))
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

"""The web process: employees' workplace and subscribers' office.

``includeme`` sets up what every view relies on: the signed session cookie
(Secure, HttpOnly, SameSite), the security policy and ACLs, CSRF checks on
every unsafe request, security headers, and the message catalogs chosen by
the browser's Accept-Language.  Features keep their own views in their
packages, found by ``config.scan()``.
"""
import hashlib
import random
import time

from pyramid.settings import asbool

from .. import db as dbmod


def wsgi_app(config):
    """The Pyramid application with the features' WSGI filters in front,
    and before everything the trusted-proxy filter (so every filter and
    view sees the real client address)."""
    from . import proxy
    app = config.make_wsgi_app()
    for wrap in getattr(config.registry, "pm_wsgi_filters", ()):     # (web.directives)
        app = wrap(app, config.registry)
    return proxy.wrap(app, config.registry.settings)


def session_secret(settings):
    secret = settings.get("portmonet.session_secret")
    if secret:
        return secret
    # Derived from the encryption keys so a deployment has one secret to keep.
    keys = dbmod.secret_keys(settings)
    return hashlib.sha256(b"portmonet-session\0" + keys.encode()).hexdigest()


def _back_off(event):
    """Before retrying after a ConflictError: wait a random, growing moment
    so that the requests that collided do not collide again at once, then
    make one ZEO round trip so the invalidations of the transaction we lost
    to have arrived (else the retry may start from the same stale state)."""
    attempt = event.environ.get("retry.attempt", 0)
    time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
    for db in getattr(event.request.registry, "_zodb_databases", {}).values():
        ping = getattr(db.storage, "ping", None)     # ZEO ClientStorage
        if ping is not None:
            ping()


def includeme(config):
    from pyramid.session import SignedCookieSessionFactory
    from . import acl, headers, i18n
    from .security import SecurityPolicy

    settings = config.get_settings()
    # A ConflictError retries the whole request (pyramid_tm 2 needs
    # pyramid_retry).  Postings to one account conflict whenever two land at
    # once (time-ordered ledger keys: BTrees will not merge two inserts past
    # a bucket's last key), so allow a few attempts.
    settings.setdefault("retry.attempts", max(5, int(settings.get("tm.attempts", 5))))
    config.include("pyramid_retry")
    from pyramid_retry import IBeforeRetry
    config.add_subscriber(_back_off, IBeforeRetry)
    secure = asbool(settings.get("portmonet.cookie_secure", True))
    config.set_session_factory(SignedCookieSessionFactory(
        session_secret(settings), cookie_name="portmonet", secure=secure,
        httponly=True, samesite="Strict",
        timeout=int(settings.get("portmonet.session_timeout", 3600)),
        reissue_time=60))
    config.set_security_policy(SecurityPolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.set_default_permission("view")
    acl.install()
    from .security import SessionLimits
    config.registry.pm_session_limits = SessionLimits(
        idle=int(settings.get("portmonet.session_idle", 1800)),
        max_age=int(settings.get("portmonet.session_max_age", 12 * 3600)))
    from .throttle import Backoff, Throttle
    # Sign-in guessing: per client address and per account, an exponential
    # delay after a few failures (no lock an attacker could set).
    free = int(settings.get("portmonet.login_free_attempts", 5))
    base = float(settings.get("portmonet.login_delay_base", 5))
    config.registry.pm_login_source = Backoff(
        free=free, base=base, cap=float(settings.get("portmonet.login_source_cap", 900)))
    config.registry.pm_login_account = Backoff(
        free=free, base=base, cap=float(settings.get("portmonet.login_account_cap", 300)))
    config.registry.pm_register_throttle = Throttle(limit=5, window=3600)
    config.registry.pm_cookie_secure = secure
    config.registry.pm_device_secret = hashlib.sha256(
        b"portmonet-device\0" + session_secret(settings).encode()).digest()
    from .figures import Memo
    config.registry.pm_dashboard_memo = Memo(
        ttl=float(settings.get("portmonet.dashboard_ttl", 30)))
    headers.includeme(config)
    i18n.includeme(config)
    config.add_static_view("static", "portmonet:web/static", cache_max_age=3600)
    config.include(".directives")
    config.include(".navigation")
    config.include(".views.dashboard")
    config.scan(ignore=[".tests"])

"""Signing in and out (staff and office), the first administrator, the
language switch, and what a refused request sees."""
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import forbidden_view_config, view_config

from ... import crypto
from ...catalog import normalize
from ...interfaces import IRoot
from ...ledger.account import now_us
from ...model.staff import StaffUser
from ..forms import LoginForm, OfficeLoginForm, SetupForm
from ..helpers import audit
from ..i18n import COOKIE, LANGUAGES, _
from .forms import form_page
from ..security import office_password_hash, spend_password_time

LOCK_AFTER = 5                    # consecutive failures of one staff account
LOCK_FOR_US = 15 * 60 * 1_000_000
# One message for every refusal: unknown login, wrong password, locked,
# disabled, throttled; nobody learns which logins exist.
REFUSED = _("Wrong login or password, or too many attempts: try again later.")


def throttle(request):
    return request.registry.pm_throttle


def _next_url(request, default):
    came = request.POST.get("came_from") or request.GET.get("came_from") or ""
    # Only a path on this site: no open redirect.
    if came.startswith("/") and not came.startswith("//") and "\\" not in came \
            and len(came) < 500:
        return request.application_url + came
    return default


def check_staff_login(request, login, password):
    """The StaffUser if *login*/*password* may sign in, else None."""
    keys = (f"ip:{request.client_addr}", f"staff:{login}")
    limiter = throttle(request)
    if limiter.blocked(*keys):
        return spend_password_time(password) or None
    try:
        user = request.root["staff"].get(normalize.login(login))
    except ValueError:
        user = None
    now = now_us()
    if user is None or not user.active or user.locked_until_us > now:
        spend_password_time(password)
        limiter.failed(*keys)
        return None
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER:
            user.locked_until_us = now + LOCK_FOR_US
            user.failed_logins = 0
        request.tm.get().user = user.login
        audit(request, "failed staff login")
        limiter.failed(*keys)
        return None
    if user.failed_logins:
        user.failed_logins = 0
    limiter.succeeded(keys[1])
    return user


@view_config(context=IRoot, name="login", renderer="portmonet:web/templates/login.pt",
             permission=NO_PERMISSION_REQUIRED)
def login(context, request):
    if len(context["staff"]) == 0:
        return HTTPFound(request.resource_url(context, "@@setup"))
    form = LoginForm.from_request(request)
    error = None
    if request.method == "POST" and form.validate():
        user = check_staff_login(request, form.login.data.strip(), form.password.data)
        if user is not None:
            request.tm.get().user = user.login
            audit(request, "staff login")
            remember(request, f"staff:{user.login}", password_hash=user.password_hash)
            return HTTPFound(_next_url(request, request.resource_url(context)))
        error = REFUSED
    request.response.status_int = 200 if error is None else 403
    return {"form": form, "error": error, "page_title": _("Sign in"),
            "came_from": request.params.get("came_from", "")}


@view_config(context=IRoot, name="logout", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def logout(context, request):
    forget(request)
    return HTTPFound(request.resource_url(context, "@@login"))


@view_config(context=IRoot, name="setup", renderer="portmonet:web/templates/form.pt",
             permission=NO_PERMISSION_REQUIRED)
def setup(context, request):
    """A new database has no staff: the first visitor names its administrator
    (instead of a default password shipped with the software)."""
    if len(context["staff"]) != 0:
        raise HTTPNotFound()
    form = SetupForm.from_request(request)
    if request.method == "POST" and form.validate():
        user = StaffUser(form.login.data, ("administrator",), form.password.data,
                         form.name.data or "")
        context["staff"].add_user(user)
        request.tm.get().user = user.login
        audit(request, f"first administrator {user.login} created")
        remember(request, f"staff:{user.login}", password_hash=user.password_hash)
        return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("Create the first administrator"),
                     request.resource_url(context, "@@setup"), submit=_("Create"))


@view_config(context=IRoot, name="lang", permission=NO_PERMISSION_REQUIRED)
def set_language(context, request):
    lang = request.GET.get("l")
    response = HTTPFound(request.resource_url(context))
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="Strict",
                            secure=request.registry.pm_cookie_secure)
    return response


@forbidden_view_config(renderer="portmonet:web/templates/forbidden.pt")
def forbidden(exc, request):
    if request.identity is None:
        office = request.view_name.startswith("office")
        target = "@@office-login" if office else "@@login"
        return HTTPFound(request.resource_url(request.root, target,
                                              query={"came_from": request.path_qs[:400]}))
    if not request.identity.is_staff and request.context is request.root \
            and request.view_name == "":
        # A subscriber who opens the site's front page belongs in the office.
        return HTTPFound(request.resource_url(request.identity.obj, "@@office"))
    request.response.status_int = 403
    return {"page_title": _("Forbidden")}


# -- the subscribers' office ---------------------------------------------------

def find_office_subscriber(root, identifier, password):
    """The Subscriber whose Internet login or contract number and office
    password match, else None (same time spent either way)."""
    identifier = identifier.strip()
    service = root.catalog.logins.get(identifier)
    contract = service.__parent__ if service is not None else root.catalog.contracts.get(identifier)
    if contract is None:
        return spend_password_time(password) or None
    subscriber = contract.__parent__
    stored = office_password_hash(subscriber)
    if stored:
        return subscriber if crypto.verify_password(stored, password) else None
    # No office password yet: the Internet password opens the office.
    spend_password_time(password)
    if service is not None and service.check_password(password):
        return subscriber
    return None


@view_config(context=IRoot, name="office-login", renderer="portmonet:web/templates/login.pt",
             permission=NO_PERMISSION_REQUIRED)
def office_login(context, request):
    form = OfficeLoginForm.from_request(request)
    error = None
    if request.method == "POST" and form.validate():
        identifier = form.identifier.data.strip()
        keys = (f"ip:{request.client_addr}", f"office:{identifier}")
        limiter = throttle(request)
        subscriber = None
        if limiter.blocked(*keys):
            spend_password_time(form.password.data)
        else:
            subscriber = find_office_subscriber(context, identifier, form.password.data)
        if subscriber is not None:
            limiter.succeeded(keys[1])
            remember(request, f"subscriber:{subscriber.id}",
                             password_hash=office_password_hash(subscriber))
            return HTTPFound(request.resource_url(subscriber, "@@office"))
        limiter.failed(*keys)
        error = REFUSED
    request.response.status_int = 200 if error is None else 403
    return {"form": form, "error": error, "page_title": _("Subscriber's office"), "came_from": ""}


@view_config(context=IRoot, name="office", permission=NO_PERMISSION_REQUIRED)
def office_entry(context, request):
    ident = request.identity
    if ident is not None and not ident.is_staff:
        return HTTPFound(request.resource_url(ident.obj, "@@office"))
    return HTTPFound(request.resource_url(context, "@@office-login"))


@view_config(context=IRoot, name="office-logout", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def office_logout(context, request):
    forget(request)
    return HTTPFound(request.resource_url(context, "@@office-login"))

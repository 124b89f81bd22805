"""Signing in and out (staff and office), the first administrator, the
language switch, and what a refused request sees."""
import hashlib
import hmac

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import forbidden_view_config, view_config

from ... import clock, crypto
from ...catalog import normalize
from ...interfaces import IRoot
from ...ledger.account import now_us
from ...model.staff import StaffUser
from ..forms import LoginForm, OfficeLoginForm, SetupForm
from ..helpers import audit, flash
from ..i18n import COOKIE, LANGUAGES, _
from .forms import form_page
from ..security import office_password_hash, spend_password_time

# One message for every refusal: unknown login, wrong password, disabled,
# throttled; nobody learns which logins exist.
REFUSED = _("Wrong login or password, or too many attempts: try again later.")
# A browser that signed in to an account before carries this signed cookie
# and is spared that account's delay (OWASP "device cookies"): someone
# guessing elsewhere slows only browsers that never signed in to it.
DEVICE_COOKIE = "portmonet_device"


def _device_token(request, account):
    return hmac.new(request.registry.pm_device_secret, f"device\0{account}".encode(),
                    hashlib.sha256).hexdigest()


def known_device(request, account):
    given = request.cookies.get(DEVICE_COOKIE, "")
    return given.isascii() and hmac.compare_digest(given.encode(),
                                                   _device_token(request, account).encode())


def remember_device(request, response, account):
    response.set_cookie(DEVICE_COOKIE, _device_token(request, account), max_age=365 * 86400,
                        httponly=True, samesite="Strict", secure=request.registry.pm_cookie_secure)


class Attempt:
    """One sign-in attempt's throttling: per client address (as the
    trusted proxy setting gives it) and per account, exponential delay
    (:class:`portmonet.web.throttle.Backoff`)."""

    def __init__(self, request, account):
        self.source, self.account = f"ip:{request.remote_addr}", account
        self.by_source = request.registry.pm_login_source
        self.by_account = request.registry.pm_login_account
        self.spared = known_device(request, account)

    def allowed(self):
        return (self.by_source.wait(self.source) <= 0
                and (self.spared or self.by_account.wait(self.account) <= 0))

    def failed(self):
        self.by_source.failed(self.source)
        self.by_account.failed(self.account)

    def succeeded(self):
        self.by_source.succeeded(self.source)
        self.by_account.succeeded(self.account)


def throttled_check(request, account, password, check):
    """``check()`` (the password check) if the attempt is not throttled,
    its result counted; a throttled attempt spends the same time and is
    refused (None)."""
    attempt = Attempt(request, account)
    if not attempt.allowed():
        return spend_password_time(password) or None
    found = check()
    if found is None:
        attempt.failed()
    else:
        attempt.succeeded()
    return found


def _next_url(request, default):
    came = request.POST.get("came_from") or request.GET.get("came_from") or ""
    # Only a path on this site: no open redirect.
    if came.startswith("/") and not came.startswith("//") and "\\" not in came \
            and len(came) < 500:
        return request.application_url + came
    return default


def check_staff_login(request, login, password):
    """The StaffUser if *login*/*password* may sign in, else None.  A
    wrong password is counted on the account, and the employee is told at
    their next sign-in (:func:`tell_failed_attempts`)."""
    def check():
        try:
            user = request.root["staff"].get(normalize.login(login))
        except ValueError:
            user = None
        if user is None or not user.active:
            return spend_password_time(password) or None
        if not user.check_password(password):
            user.failed_logins += 1
            user.last_failed_us = now_us()
            user.last_failed_from = request.remote_addr or ""
            request.tm.get().user = user.login
            audit(request, "failed staff login")
            return None
        return user
    return throttled_check(request, f"staff:{login}", password, check)


def tell_failed_attempts(request, user):
    """After a sign-in: say how many wrong passwords were tried on this
    account since its last sign-in, when and from where the last one."""
    if not user.failed_logins:
        return
    flash(request, _("${n} failed sign-in attempt(s) since your last sign-in, the last "
                     "at ${when} from ${source}."),
          n=user.failed_logins, when=clock.stamp(user.last_failed_us)[:16],
          source=user.last_failed_from)
    user.failed_logins = 0


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
            tell_failed_attempts(request, user)
            response = HTTPFound(_next_url(request, request.resource_url(context)))
            remember_device(request, response, f"staff:{user.login}")
            return response
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
        subscriber = throttled_check(
            request, f"office:{identifier}", form.password.data,
            lambda: find_office_subscriber(context, identifier, form.password.data))
        if subscriber is not None:
            remember(request, f"subscriber:{subscriber.id}",
                     password_hash=office_password_hash(subscriber))
            response = HTTPFound(request.resource_url(subscriber, "@@office"))
            remember_device(request, response, f"office:{identifier}")
            return response
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

"""Registration in the office and its approval by staff."""
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import crypto
from ...interfaces import IRoot, ISubscriber
from ..applications import Application, IApplication, IApplications, TariffRequest
from ..forms import DecisionForm, RegistrationForm, TariffRequestForm, choices
from ..helpers import audit, flash
from ..i18n import _
from .forms import form_page

REGISTRATIONS_PER_ADDRESS = 5     # in the throttle's window


@view_config(context=IRoot, name="office-register", renderer="portmonet:web/templates/form.pt",
             permission=NO_PERMISSION_REQUIRED)
def register(context, request):
    folder = context.get("applications")
    if folder is None:
        raise HTTPNotFound()
    form = RegistrationForm.from_request(request)
    if request.method == "POST" and form.validate():
        limiter = request.registry.pm_register_throttle
        key = f"register:{request.remote_addr}"
        if limiter.blocked(key):
            form.add_error("name", _("Too many applications from your address: try again later."))
        else:
            limiter.failed(key)           # every application counts against the address
            app = Application(form.name.data, form.phone.data or "", form.email.data or "",
                              form.address.data or "", crypto.hash_password(form.password.data),
                              request.remote_addr or "")
            folder.add(folder.new_key(), app)
            request.tm.get().user = f"office:{request.remote_addr}"
            audit(request, "office application received")
            flash(request, _("Your application is received; we will call you."))
            return HTTPFound(request.resource_url(context, "@@office-login"))
    return form_page(request, form, _("Apply for service"),
                     request.resource_url(context, "@@office-register"), submit=_("Send"))


@view_config(context=IApplications, renderer="portmonet:web/templates/applications.pt",
             permission="create")
def applications(context, request):
    return {"page_title": _("Applications"), "rows": context.pending()}


@view_config(context=IApplication, renderer="portmonet:web/templates/form.pt",
             permission="create")
def decide(context, request):
    form = DecisionForm.from_request(request)
    if request.method == "POST" and form.validate():
        try:
            context.decide(form.decision.data, request.identity.userid, form.note.data or "")
            if context.state == "approved":
                context.carry_out(request.root, request.identity.userid)
        except ValueError as exc:
            request.tm.doom()
            form.add_error("decision", exc)
        else:
            audit(request, f"{context.kind} application {context.__name__} {context.state}: "
                           f"{context.summary}")
            if context.state == "approved" and context.subscriber_id:
                return HTTPFound(request.resource_url(request.root["subscribers"][str(context.subscriber_id)]))
            return HTTPFound(request.resource_url(context.__parent__))
    return form_page(request, form, _("Application"), request.resource_url(context),
                     context_title=f"{h_kind(request, context)}: {context.summary} — "
                                   f"{request.localizer.translate(_(context.state))}")


def h_kind(request, application):
    return request.localizer.translate(_(application.kind))


@view_config(context=ISubscriber, name="office-tariff", renderer="portmonet:web/templates/form.pt",
             permission="office")
def office_tariff(context, request):
    """Ask for another tariff; staff approve it under Applications."""
    folder = request.root.get("applications")
    services = [s for c in context.contracts() for s in c.services("internet")]
    if folder is None or not services:
        raise HTTPNotFound()
    tariffs = [t for t in request.root["tariffs"].values() if t.kind == "internet"]
    form = TariffRequestForm.from_request(request)
    form.login.choices = choices((s.login, s.login) for s in services)
    form.tariff.choices = choices((t.__name__, t.title) for t in tariffs)
    if request.method == "POST" and form.validate():
        service = next(s for s in services if s.login == form.login.data)
        folder.add(folder.new_key(), TariffRequest(context, service, form.tariff.data))
        audit(request, f"subscriber {context.id} asks for tariff {form.tariff.data} on {service.login}")
        flash(request, _("Your request is sent; we will let you know."))
        return HTTPFound(request.resource_url(context, "@@office"))
    return form_page(request, form, _("Change tariff"),
                     request.resource_url(context, "@@office-tariff"), submit=_("Send"))

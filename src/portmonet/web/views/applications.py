"""Registration in the office and its approval by staff."""
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import crypto
from ...interfaces import IRoot
from ...model.subscriber import Subscriber
from ..applications import Application, IApplication, IApplications
from ..forms import DecisionForm, RegistrationForm
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
        key = f"register:{request.client_addr}"
        if limiter.blocked(key):
            form.add_error("name", _("Too many applications from your address: try again later."))
        else:
            limiter.failed(key)           # every application counts against the address
            app = Application(form.name.data, form.phone.data or "", form.email.data or "",
                              form.address.data or "", crypto.hash_password(form.password.data),
                              request.client_addr or "")
            folder.add(folder.new_key(), app)
            request.tm.get().user = f"office:{request.client_addr}"
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
                sub = Subscriber(context.name, phone=context.phone or None,
                                 email=context.email or None, address=context.address)
                request.root["subscribers"].add_subscriber(sub)
                sub.new_contract(status="draft", user=request.identity.userid)
                sub.office_password_hash = context.password_hash
                context.subscriber_id = sub.id
        except ValueError as exc:
            request.tm.doom()
            form.add_error("decision", exc)
        else:
            audit(request, f"application {context.__name__} {context.state}"
                  + (f": subscriber {context.subscriber_id}" if context.subscriber_id else ""))
            if context.subscriber_id:
                return HTTPFound(request.resource_url(request.root["subscribers"][str(context.subscriber_id)]))
            return HTTPFound(request.resource_url(context.__parent__))
    return form_page(request, form, _("Application"), request.resource_url(context),
                     context_title=f"{context.name}, {context.phone}, {context.email}, "
                                   f"{context.address} — {context.state}")

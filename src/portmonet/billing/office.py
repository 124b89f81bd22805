"""The billing feature in the subscriber's office: an invoice's PDF (only
one of the subscriber's own) and the promised payment (billing's rules,
``take_promise``), with the office's link to it."""

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from .. import clock
from ..interfaces import ISubscriber
from ..money import format_amount, to_minor
from ..web.forms import PromiseForm, choices
from ..web.helpers import audit, flash
from ..web.i18n import _
from ..web.panels import OFFICE
from ..web.views.forms import form_page
from . import render
from .debt import PromiseRefused, take_promise


def _number(request):
    text = request.GET.get("number", "")
    return int(text) if text.isdigit() and len(text) < 19 else None


@view_config(context=ISubscriber, name="office-invoice", permission="office")
def office_invoice(context, request):
    """An invoice PDF, only if it is of one of this subscriber's accounts."""
    billing = request.root.get("billing")
    number = _number(request)
    inv = billing.invoice(number) if billing is not None and number is not None else None
    mine = {c.account.number for c in context.contracts() if c.account is not None}
    if inv is None or inv.account not in mine:
        raise HTTPNotFound()
    return Response(render.pdf(inv), content_type="application/pdf",
                    content_disposition=f'inline; filename="{inv.label}.pdf"')


def promise_limits(settings):
    """The promised-payment rules, from the same settings ``portmonet
    promise`` reads."""
    return {"max_amount": to_minor(settings.get("portmonet.promise_max", "500.00")),
            "max_days": int(settings.get("portmonet.promise_days", 5)),
            "interval_days": int(settings.get("portmonet.promise_interval_days", 30))}


@view_config(context=ISubscriber, name="office-promise",
             renderer="portmonet:web/templates/form.pt", permission="office")
def office_promise(context, request):
    """Take a promised payment: billing's own rules (``take_promise``)."""
    contracts = [c for c in context.contracts() if c.account is not None]
    limits = promise_limits(request.registry.settings)
    form = PromiseForm.from_request(request, data={"days": str(limits["max_days"])})
    form.contract.choices = choices((c.number, c.number) for c in contracts)
    billing = request.root.get("billing")
    if billing is None:
        raise HTTPNotFound()
    if request.method == "POST" and form.validate():
        contract = context[form.contract.data]
        contract.account.decide_on_balance()
        try:
            promise = take_promise(request.root, billing, contract, form.amount.minor,
                                   int(form.days.data), clock.today(), **limits)
        except PromiseRefused as exc:
            request.tm.doom()
            form.add_error("amount", exc)
        else:
            audit(request, f"promised payment {promise.amount} on contract {contract.number} "
                           f"until {promise.until}")
            flash(request, _("Promised payment ${amount} until ${until}"),
                  amount=format_amount(promise.amount, contract.account.currency),
                  until=promise.until.isoformat())
            return HTTPFound(request.resource_url(context, "@@office"))
    return form_page(request, form, _("Promised payment"),
                     request.resource_url(context, "@@office-promise"), submit=_("Take"),
                     context_title=request.localizer.translate(_(
                         "Up to ${amount} for up to ${days} days",
                         mapping={"amount": format_amount(limits["max_amount"]),
                                  "days": limits["max_days"]})))


def promise_link(request, subscriber):
    return request.resource_url(subscriber, "@@office-promise")


def promises_panel(subscriber, request, slot):
    """The promised payments running on the subscriber's contracts."""
    billing = request.root.get("billing")
    if billing is None:
        return None
    running = [(c, billing.promises.get(c.number)) for c in subscriber.contracts()
               if c.account is not None]
    running = [(c, p) for c, p in running if p is not None and p.active]
    return {"promises": running} if running else None


def includeme(config):
    config.add_link("office", "promise", _("Promised payment"), promise_link, order=40)
    config.add_panel("promises", promises_panel, context=ISubscriber, where=(OFFICE,), order=5,
                     title=_("Promised payment"), page=False,
                     renderer="portmonet:billing/templates/promises_panel.pt")

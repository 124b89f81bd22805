"""The subscriber's card, and creating and editing subscribers."""
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ... import crypto
from ...catalog import DuplicateKeyError
from ...interfaces import ISubscriber, ISubscribers
from ...model.subscriber import Subscriber
from ..forms import ContractForm, SubscriberForm
from ..helpers import audit, flash, prefetch
from ..i18n import _
from ..history import merged_history
from .forms import form_page

FIELDS = ("kind", "name", "phone", "email", "address", "notes")


@view_config(context=ISubscribers, renderer="portmonet:web/templates/subscribers.pt",
             permission="view")
def subscribers(context, request):
    try:
        after = int(request.GET.get("after", 0))
    except ValueError:
        after = 0
    rows = []
    for sid, sub in context.data.items(min=after, excludemin=True):
        rows.append(sub)
        if len(rows) >= 50:
            break
    return {"page_title": _("Subscribers"), "rows": rows, "total": len(context)}


def _apply_secrets(subscriber, form):
    """The fields kept secret: never shown back, changed only when given."""
    if form.identity_document.data:
        subscriber.identity_document = form.identity_document.data
    if form.office_password.data:
        subscriber.office_password_hash = crypto.hash_password(form.office_password.data)


@view_config(context=ISubscribers, name="add", renderer="portmonet:web/templates/form.pt",
             permission="create")
def add_subscriber(context, request):
    form = SubscriberForm.from_request(request)
    if request.method == "POST" and form.validate():
        try:
            sub = Subscriber(form.name.data, kind=form.kind.data, phone=form.phone.data or None,
                             email=form.email.data or None, address=form.address.data or "",
                             notes=form.notes.data or "")
        except ValueError as exc:
            form.add_error("name", exc)
        else:
            context.add_subscriber(sub)
            sub.new_contract(user=request.identity.userid)
            _apply_secrets(sub, form)
            audit(request, f"subscriber {sub.id} created")
            flash(request, f"Subscriber {sub.id} created")
            return HTTPFound(request.resource_url(sub))
    return form_page(request, form, _("New subscriber"), request.resource_url(context, "@@add"))


@view_config(context=ISubscriber, name="edit", renderer="portmonet:web/templates/form.pt",
             permission="edit")
def edit_subscriber(context, request):
    form = SubscriberForm.from_request(request, obj=context)
    form.identity_document.data = "" if request.method != "POST" else form.identity_document.data
    if request.method == "POST" and form.validate():
        changes = {f: (getattr(form, f).data or ("" if f in ("address", "notes") else None))
                   for f in FIELDS}
        changes["kind"] = form.kind.data
        changes["name"] = form.name.data
        try:
            context.update(**changes)
        except (ValueError, DuplicateKeyError) as exc:
            request.tm.doom()
            form.add_error("name", exc)
        else:
            _apply_secrets(context, form)
            audit(request, f"subscriber {context.id} edited")
            flash(request, _("Saved"))
            return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("Edit subscriber"), request.resource_url(context, "@@edit"),
                     context_title=context.name)


@view_config(context=ISubscriber, name="add-contract", renderer="portmonet:web/templates/form.pt",
             permission="create")
def add_contract(context, request):
    form = ContractForm.from_request(request)
    if request.method == "POST" and form.validate():
        try:
            contract = context.new_contract(form.number.data or None,
                                            credit_limit=form.credit_limit.minor,
                                            user=request.identity.userid)
        except (ValueError, KeyError, DuplicateKeyError) as exc:
            request.tm.doom()          # nothing half-saved
            form.add_error("number", exc if not isinstance(exc, KeyError) else "this number exists")
        else:
            audit(request, f"contract {contract.number} added to subscriber {context.id}")
            return HTTPFound(request.resource_url(contract))
    return form_page(request, form, _("New contract"), request.resource_url(context, "@@add-contract"),
                     context_title=context.name)


def prefetch_contracts(subscriber):
    """The subscriber's contracts, with their accounts, services and ledger
    trees fetched in a few ZEO round trips (the card's and office's panels
    read them next)."""
    contracts = subscriber.contracts()
    prefetch(contracts)
    prefetch([c.account for c in contracts] + [sv for c in contracts for sv in c.values()])
    prefetch([c.account.ledger_tree for c in contracts if c.account is not None])
    return contracts


@view_config(context=ISubscriber, renderer="portmonet:web/templates/subscriber.pt",
             permission="view")
def card(context, request):
    """The subscriber and the contracts; the features' panels (``card``) follow."""
    return {"page_title": context.name, "s": context, "contracts": prefetch_contracts(context)}


@view_config(context=ISubscriber, name="history", renderer="portmonet:web/templates/history.pt",
             permission="view_history")
def history(context, request):
    """Who changed what and when: the subscriber, contracts and services,
    from the ZODB transaction history (its own page: it costs a storage
    round trip per object and revision)."""
    contracts = context.contracts()
    objects = [context] + contracts + [s for c in contracts for s in c.values()]
    return {"page_title": _("Change history"), "s": context,
            "history": merged_history(objects, size=30)}

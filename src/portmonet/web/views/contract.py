"""A contract: services, account, status; the cash desk; the ledger."""
import datetime
import uuid
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ... import clock
from ...catalog import DuplicateKeyError
from ...money import format_amount
from ... import events
from ...interfaces import IAccount, IContract, IDiscountGroups, IInternetService
from ...model.contract import StatusError
from ...model.services import InternetService
from ..forms import (ContractEditForm, InternetServiceForm, LedgerFilterForm, PaymentForm,
                     StatusForm, choices)
from ..figures import record
from ..helpers import audit, flash
from ..i18n import _
from .forms import form_page

LEDGER_PAGE = 100


@view_config(context=IContract, renderer="portmonet:web/templates/contract.pt", permission="view")
def contract_view(context, request):
    return {"page_title": f"Contract {context.number}", "c": context,
            "s": context.__parent__, "status_form": StatusForm(data={"status": context.status})}


@view_config(context=IContract, name="edit", renderer="portmonet:web/templates/form.pt",
             permission="edit")
def edit_contract(context, request):
    form = ContractEditForm.from_request(request, data={
        "number": context.number,
        "credit_limit": format_amount(context.account.credit_limit)
        if context.account else "0",
        "grace_days": context.grace_days or 0,
        "discount_group": context.discount_group or ""})
    del form.number          # the number is the contract's name in the tree
    # The groups some feature (billing, from the tariffs' discounts) knows of.
    known = request.registry.queryUtility(IDiscountGroups)
    groups = known(request.root) if known is not None else []
    if context.discount_group and context.discount_group not in groups:
        groups.append(context.discount_group)     # a tariff dropped it: keep it choosable
    form.discount_group.choices = choices([("", _("none"))] + [(g, g) for g in groups])
    if request.method == "POST" and form.validate():
        account = context.account
        account.credit_limit = account._normalize_credit_limit(form.credit_limit.minor)
        context.grace_days = form.grace_days.data
        context.discount_group = form.discount_group.data or None
        audit(request, f"contract {context.number}: credit limit {form.credit_limit.minor}, "
                       f"grace days {context.grace_days}, discount group {context.discount_group}")
        return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("Edit contract"), request.resource_url(context, "@@edit"),
                     context_title=context.number)


@view_config(context=IContract, name="status", renderer="portmonet:web/templates/form.pt",
             permission="block")
def change_status(context, request):
    form = StatusForm.from_request(request, data={"status": context.status})
    if request.method == "POST" and form.validate():
        old = context.status
        try:
            context.set_status(form.status.data, form.reason.data, request.identity.userid)
        except StatusError as exc:
            form.add_error("status", exc)
        else:
            if form.status.data in ("blocked", "suspended", "terminated"):
                _tell_access(request, context, events.ServiceBlocked, "access withdrawn")
            elif form.status.data == "active" and old in ("blocked", "suspended"):
                _tell_access(request, context, events.ServiceUnblocked, "access restored")
            audit(request, f"contract {context.number}: {old} -> {context.status}")
            flash(request, _("Contract ${number}: ${status}"), number=context.number,
                  status=request.localizer.translate(_(context.status)))
            return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("Change status"), request.resource_url(context, "@@status"),
                     context_title=f"{context.number}: {context.status}")


def _tell_access(request, contract, event, note):
    """Tell every service of a contract that lost (or got back) its access
    by an employee's decision: the RADIUS feature ends its sessions (or
    re-authorizes them) after this transaction commits."""
    key = f"status:{contract.number}:{uuid.uuid4().hex}"
    for service in contract.services():
        events.notify(event(request.root, service, events.SUSPENSION, key,
                            request.authenticated_userid or "", note=note))


@view_config(context=IContract, name="pay", renderer="portmonet:web/templates/form.pt",
             permission="take_payment")
def take_payment(context, request):
    """The cash desk: the form's one-time token is the posting's cause, so
    pressing the button twice or a retried request posts once."""
    form = PaymentForm.from_request(request)
    if request.method != "POST":
        form.token.data = uuid.uuid4().hex
    elif form.validate():
        account = context.account
        posting, created = account.post(
            form.amount.minor, "payment", cause=f"cashdesk:{form.token.data}",
            text=form.text.data or "Cash desk", user=request.identity.userid)
        if created:
            events.notify(events.PaymentPosted(request.root, account, posting,
                                               request.identity.userid))
            record(request.root, "cashdesk_payments", posting.amount)
            audit(request, f"cash desk payment {posting.amount} to account {account.number}")
            flash(request, _("Payment ${amount} taken; balance ${balance}"),
                  amount=format_amount(posting.amount, account.currency),
                  balance=format_amount(account.balance, account.currency))
        else:
            flash(request, _("This payment was already taken"))
        return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("Take a payment"), request.resource_url(context, "@@pay"),
                     submit=_("Take payment"),
                     context_title=f"{context.__parent__.name}, {context.number}")


@view_config(context=IContract, name="add-internet", renderer="portmonet:web/templates/form.pt",
             permission="create")
def add_internet(context, request):
    form = InternetServiceForm.from_request(request)
    if request.method == "POST" and form.validate():
        if not form.password.data:
            form.add_error("password", "a new service needs a password")
        else:
            try:
                service = InternetService(form.login.data, form.password.data, form.ip.data or None)
                context.add_service(service)
            except (ValueError, DuplicateKeyError) as exc:
                request.tm.doom()
                form.add_error("login", exc)
            else:
                audit(request, f"internet service {service.login} on contract {context.number}")
                return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("New Internet service"),
                     request.resource_url(context, "@@add-internet"), context_title=context.number)


@view_config(context=IInternetService, renderer="portmonet:web/templates/form.pt",
             permission="edit")
@view_config(context=IInternetService, name="edit", renderer="portmonet:web/templates/form.pt",
             permission="edit")
def edit_internet(context, request):
    form = InternetServiceForm.from_request(request, data={"login": context.login,
                                                           "ip": context.ip_text})
    if request.method == "POST" and form.validate():
        try:
            context.update(login=form.login.data, ip=form.ip.data or None)
            if form.password.data:
                context.set_password(form.password.data)
        except (ValueError, DuplicateKeyError) as exc:
            request.tm.doom()
            form.add_error("login", exc)
        else:
            audit(request, f"internet service {context.login} edited")
            return HTTPFound(request.resource_url(context.__parent__))
    return form_page(request, form, _("Internet service"), request.resource_url(context, "@@edit"),
                     context_title=context.login)


def _day_us(text, end=False):
    """The start (or, with *end*, the end) of the operator's day 'YYYY-MM-DD'."""
    return clock.day_bounds_us(datetime.date.fromisoformat(text))[bool(end)]


def newest(tree, limit, start_us=None, end_us=None, kind=None, max_scan=20_000, before_key=None):
    """Postings newest first without reading the whole ledger: walk the
    keys (time << 8 | random) downward, from below *before_key* if given
    (the next page).  Returns (postings, more?)."""
    lo = None if start_us is None else start_us << 8
    hi = None if end_us is None else (end_us << 8) - 1
    if before_key is not None:
        hi = before_key - 1 if hi is None else min(hi, before_key - 1)
    rows = []
    try:
        key = tree.maxKey(hi) if hi is not None else tree.maxKey()
    except ValueError:
        return rows, False
    for _step in range(max_scan):
        if key is None or (lo is not None and key < lo):
            break
        posting = tree[key]
        if kind is None or posting.kind == kind:
            if len(rows) >= limit:
                return rows, True
            rows.append(posting)
        try:
            key = tree.maxKey(key - 1)
        except ValueError:
            key = None
    return rows, False


def filtered_postings(request, account):
    """(form, postings newest first, URL of the next page or None) for the
    ledger filter in GET."""
    form = LedgerFilterForm.from_request(request, get=True)
    rows, more = [], False
    before = request.GET.get("before", "")
    before = int(before) if before.isdigit() and len(before) < 19 else None
    if not request.GET or form.validate():
        try:
            start = _day_us(form.start.data) if form.start.data else None
            end = _day_us(form.end.data, end=True) if form.end.data else None
        except ValueError:
            form.start.errors = ["not a date"]
            return form, rows, more
        rows, more = newest(account.ledger, LEDGER_PAGE, start, end, form.kind.data or None,
                            before_key=before)
    if not more:
        return form, rows, None
    query = [(k, v) for k, v in request.GET.items() if k != "before"]
    return form, rows, request.path + "?" + urlencode(query + [("before", rows[-1].key)])


@view_config(context=IAccount, renderer="portmonet:web/templates/ledger.pt", permission="view")
def ledger(context, request):
    form, rows, more = filtered_postings(request, context)
    return {"page_title": f"Account {context.number}", "a": context, "form": form,
            "rows": rows, "more": more, "contract": context.__parent__}

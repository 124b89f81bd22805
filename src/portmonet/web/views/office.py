"""The subscribers' office: only one's own objects (the subscriber's ACL
grants ``office`` to that subscriber's session and nobody else)."""
import datetime

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import remember
from pyramid.view import view_config

from ... import clock
from ... import crypto
from ...interfaces import ISubscriber
from ...ledger.account import now_us
from ...money import format_amount, to_minor
from ..forms import (NotificationsForm, PasswordForm, PromiseForm, ScratchCardForm, TopUpForm,
                     choices)
from ..helpers import audit, flash
from ..i18n import _
from ..security import office_password_hash
from .contract import filtered_postings, newest
from .forms import form_page

DAY_US = 86_400 * 1_000_000


def daily_spend(contract, now=None):
    """Minor units a day at the current rate: the last 30 days' charges, or,
    for a new contract, its tariffs' monthly fees."""
    now = now_us() if now is None else now
    account = contract.account
    spent = -sum(p.amount for p in account.postings(now - 30 * DAY_US, now) if p.kind == "charge")
    if spent > 0:
        return spent // 30 or 1
    fees = sum(getattr(s.tariff, "monthly_fee", 0) or 0 for s in contract.values()
               if s.active and s.tariff is not None)
    return fees // 30 if fees else 0


def runs_out(contract, today=None):
    """The date the money runs out at the current rate (None: it does not)."""
    today = today or clock.today()
    daily = daily_spend(contract)
    if daily <= 0:
        return None
    available = contract.account.available
    if available <= 0:
        return today
    return today + datetime.timedelta(days=available // daily)


def card_providers(root):
    """Payment providers that take card payments from the office (the
    payments feature's ``/payments/<provider>/@@start``)."""
    payments = root.get("payments")
    if payments is None:
        return []
    return [a for a in payments.values() if getattr(a, "pay_url", "")]


def payable_contracts(subscriber):
    """The subscriber's own contracts that take payments (the office's
    choices: another subscriber's account cannot even be named)."""
    return [c for c in subscriber.contracts()
            if c.account is not None and c.status != "terminated"]


@view_config(context=ISubscriber, name="office-topup",
             renderer="portmonet:web/templates/form.pt", permission="office")
def office_topup(context, request):
    """"Top up": pick a card / e-money provider, a contract and an amount;
    the payments feature's signed start/return flow does the rest."""
    from ...payments.views.callback import card_payment_redirect
    providers = card_providers(request.root)
    if not providers:
        raise HTTPNotFound()
    contracts = payable_contracts(context)
    form = TopUpForm.from_request(request)
    form.provider.choices = choices((p.__name__, p.title or p.__name__) for p in providers)
    form.contract.choices = choices((c.number, f"{c.number} ({c.account.number})")
                                    for c in contracts)
    if request.method == "POST" and form.validate():
        provider = request.root["payments"][form.provider.data]
        account = context[form.contract.data].account
        audit(request, f"subscriber {context.id} tops up {form.amount.minor} onto "
                       f"{account.number} with {provider.__name__}")
        return card_payment_redirect(request, provider, account.number, form.amount.minor)
    return form_page(request, form, _("Top up"), request.resource_url(context, "@@office-topup"),
                     submit=_("Pay"))


@view_config(context=ISubscriber, name="office-card",
             renderer="portmonet:web/templates/form.pt", permission="office")
def office_card(context, request):
    """Scratch-card activation: payments' own activation (journal, lockout
    after repeated wrong PINs) onto one of the subscriber's contracts."""
    from ...payments.views.cards import activate_card
    payments = request.root.get("payments")
    if payments is None or getattr(payments, "cards", None) is None:
        raise HTTPNotFound()
    contracts = payable_contracts(context)
    form = ScratchCardForm.from_request(request)
    form.contract.choices = choices((c.number, f"{c.number} ({c.account.number})")
                                    for c in contracts)
    status = 200
    if request.method == "POST" and form.validate():
        account = context[form.contract.data].account
        status, body, balance = activate_card(request, account.number, form.serial.data.strip(),
                                              form.pin.data.strip())
        if status == 200:
            flash(request, _("Card activated: ${amount} credited, the balance is ${balance}"),
                  amount=format_amount(body["amount"], account.currency),
                  balance=format_amount(balance, account.currency))
            return HTTPFound(request.resource_url(context, "@@office-card"))
        form.add_error("pin", body["message"])
    page = form_page(request, form, _("Scratch card"),
                     request.resource_url(context, "@@office-card"), submit=_("Activate"))
    if status != 200:
        request.response.status_int = status
    return page


@view_config(context=ISubscriber, name="office", renderer="portmonet:web/templates/office.pt",
             permission="office")
def office_home(context, request):
    from .subscriber import subscriber_sections
    contracts = context.contracts()
    billing = request.root.get("billing")
    rows = []
    for contract in contracts:
        if contract.account is None:
            continue
        recent, _more = newest(contract.account.ledger, 10)
        promise = billing.promises.get(contract.number) if billing is not None else None
        rows.append({"c": contract, "a": contract.account, "runs_out": runs_out(contract),
                     "recent": recent, "promise": promise if promise and promise.active else None})
    return dict(subscriber_sections(request, context, contracts, office=True),
                page_title=_("Subscriber's office"), s=context, rows=rows, pre="office-",
                providers=card_providers(request.root),
                payments="payments" in request.root)


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
    from ...billing.debt import PromiseRefused, take_promise
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


@view_config(context=ISubscriber, name="office-ledger",
             renderer="portmonet:web/templates/ledger.pt", permission="office")
def office_ledger(context, request):
    contract = context.get(request.GET.get("contract", ""))
    if contract is None or contract.account is None:
        raise HTTPNotFound()
    form, rows, more = filtered_postings(request, contract.account)
    return {"page_title": _("Ledger"), "a": contract.account, "form": form, "rows": rows,
            "more": more, "contract": None}


@view_config(context=ISubscriber, name="office-password",
             renderer="portmonet:web/templates/form.pt", permission="office")
def office_password(context, request):
    form = PasswordForm.from_request(request)
    if request.method == "POST" and form.validate():
        from .auth import find_office_subscriber
        stored = office_password_hash(context)
        ok = crypto.verify_password(stored, form.old.data) if stored else any(
            find_office_subscriber(request.root, s.login, form.old.data) is context
            for c in context.contracts() for s in c.services("internet"))
        if not ok:
            form.add_error("old", _("wrong password"))
        else:
            context.office_password_hash = crypto.hash_password(form.new.data)
            audit(request, f"subscriber {context.id} changed the office password")
            # Stay signed in here; other sessions end (the fingerprint changed).
            remember(request, f"subscriber:{context.id}", password_hash=context.office_password_hash)
            flash(request, _("Password changed"))
            return HTTPFound(request.resource_url(context, "@@office"))
    return form_page(request, form, _("Change password"),
                     request.resource_url(context, "@@office-password"))


# Read by the notifier (getattr with these defaults: the Subscriber class
# does not declare them, so old objects need no migration).
NOTIFY_DEFAULTS = {"notify_email": True, "notify_sms": True, "notify_marketing": True,
                   "notify_language": "", "quiet_hours": ""}


@view_config(context=ISubscriber, name="office-notifications",
             renderer="portmonet:web/templates/form.pt", permission="office")
def office_notifications(context, request):
    form = NotificationsForm.from_request(request, data={
        name: getattr(context, name, default) for name, default in NOTIFY_DEFAULTS.items()})
    if request.method == "POST" and form.validate():
        for name, default in NOTIFY_DEFAULTS.items():
            value = getattr(form, name).data
            setattr(context, name, bool(value) if isinstance(default, bool)
                    else (value or "").strip())
        audit(request, f"subscriber {context.id} notification settings: "
                       f"e-mail {context.notify_email}, sms {context.notify_sms}, "
                       f"marketing {context.notify_marketing}, "
                       f"language {context.notify_language or '-'}, "
                       f"quiet hours {context.quiet_hours or '-'}")
        flash(request, _("Saved"))
        return HTTPFound(request.resource_url(context, "@@office"))
    return form_page(request, form, _("Notifications"),
                     request.resource_url(context, "@@office-notifications"))

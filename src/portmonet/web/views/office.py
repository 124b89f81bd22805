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
from ..forms import NotificationsForm, PasswordForm
from ..helpers import audit, flash
from ..i18n import _
from ..security import end_sessions, office_password_hash
from .contract import filtered_postings, newest
from .subscriber import prefetch_contracts
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


@view_config(context=ISubscriber, name="office", renderer="portmonet:web/templates/office.pt",
             permission="office")
def office_home(context, request):
    """The contracts with their balances and newest postings; the features'
    panels and links (``office``) follow."""
    contracts = prefetch_contracts(context)
    rows = []
    for contract in contracts:
        if contract.account is None:
            continue
        recent, _more = newest(contract.account.ledger, 10)
        rows.append({"c": contract, "a": contract.account, "runs_out": runs_out(contract),
                     "recent": recent})
    return {"page_title": _("Subscriber's office"), "s": context, "rows": rows}


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
            # Stay signed in here (a new session); every other one ends.
            end_sessions(request, f"subscriber:{context.id}", keep_current=True)
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

"""The payments feature in the subscriber's office: "Top up" (a card /
e-money provider's signed start/return flow) and scratch-card activation
onto one of the subscriber's own contracts, and the office's links to them
and to the e-wallet."""
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ...interfaces import ISubscriber
from ...money import format_amount
from ...web.forms import ScratchCardForm, TopUpForm, choices
from ...web.helpers import audit, flash
from ...web.i18n import _
from ...web.navigation import subscriber_view
from ...web.views.forms import form_page
from .callback import card_payment_redirect
from .cards import activate_card


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


def includeme(config):
    has_payments = lambda root: "payments" in root              # noqa: E731
    config.add_link("office", "topup", _("Top up"),
                    subscriber_view("@@office-topup", lambda root: bool(card_providers(root))),
                    order=50)
    config.add_link("office", "scratch-card", _("Scratch card"),
                    subscriber_view("@@office-card", has_payments), order=51)
    config.add_link("office", "wallet", _("E-wallet"),
                    subscriber_view("@@wallet", has_payments), order=52)

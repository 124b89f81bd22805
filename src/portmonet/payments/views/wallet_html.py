"""E-wallet pages.

* Staff (``view_payments``): ``/subscribers/<id>/@@wallet-ledger``, the
  wallet's balance and ledger.
* Office (``office``, the subscriber's own session):
  ``/subscribers/<id>/@@wallet`` shows the wallet's balance and takes
  transfers: to one's own account at once; to another subscriber's account
  after the payer types the code sent to them (``@@wallet-confirm``).
"""
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound
from pyramid.view import view_config

from ...interfaces import ISubscriber
from ...web.helpers import audit, flash
from ...web.views.forms import form_page
from ..forms import ConfirmForm, TransferForm
from ..lookup import payable_account
from ..wallet import WalletError, confirm_transfer, owner, request_transfer, transfer_own

TEMPLATE = "portmonet:payments/templates/wallet.pt"


def _wallets(request):
    return request.root["payments"].wallets


def _own_accounts(subscriber):
    return [c.account for c in subscriber.contracts()
            if c.account is not None and c.status != "terminated"]


@view_config(context=ISubscriber, name="wallet-ledger", permission="view_payments",
             renderer=TEMPLATE)
def wallet_ledger(context, request):
    wallet = _wallets(request).wallet_of(request.root, context)
    postings = []
    if wallet is not None:
        tree = wallet.ledger
        postings = list(reversed(list(tree.values())[-100:]))
    return {"page_title": "E-wallet", "subscriber": context, "wallet": wallet,
            "postings": postings, "office": False, "form": None, "accounts": []}


def _transfer_form(request, subscriber):
    form = TransferForm.from_request(request)
    accounts = _own_accounts(subscriber)
    form.source.choices = [(a.number, f"{a.number} ({a.__parent__.number})") for a in accounts]
    return form, accounts


@view_config(context=ISubscriber, name="wallet", permission="office", renderer=TEMPLATE)
def office_wallet(context, request):
    wallets = _wallets(request)
    wallet = wallets.wallet_of(request.root, context)
    form, accounts = _transfer_form(request, context)
    if request.method == "POST" and request.POST.get("action") == "open":
        wallet = wallets.open(request.root, context, user=request.authenticated_userid)
        audit(request, f"subscriber {context.id} opened an e-wallet")
        flash(request, "Wallet opened")
        return HTTPFound(request.resource_url(context, "@@wallet"))
    if request.method == "POST" and form.validate():
        source = next((a for a in accounts if a.number == form.source.data), None)
        target = payable_account(request.root, form.target.data.strip()) \
            if form.target.data.strip().isdigit() else None
        user = request.authenticated_userid
        try:
            if source is None:
                raise WalletError("not one of your accounts")
            if target is None:
                raise WalletError("no such account")
            if owner(target) is context:
                transfer_own(source, target, form.amount.minor, user)
                audit(request, f"wallet transfer {form.amount.data} {source.number} -> {target.number}")
                flash(request, "Transferred")
                return HTTPFound(request.resource_url(context, "@@wallet"))
            ref, _ = request_transfer(request.root, source, target, form.amount.minor, user)
            audit(request, f"wallet transfer {ref} to {target.number} waits for confirmation")
            return HTTPFound(request.resource_url(context, "@@wallet-confirm", query={"ref": ref}))
        except WalletError as exc:
            form.add_error("amount", str(exc))
    if request.method == "POST":
        request.response.status_int = 400
    return {"page_title": "E-wallet", "subscriber": context, "wallet": wallet,
            "postings": [], "office": True, "form": form, "accounts": accounts}


@view_config(context=ISubscriber, name="wallet-confirm", permission="office",
             renderer="portmonet:web/templates/form.pt")
def office_confirm(context, request):
    ref = request.params.get("ref", "")
    pending = _wallets(request).pending.get(ref)
    mine = {a.number for a in _own_accounts(context)}
    if pending is None or pending.source not in mine:
        raise HTTPBadRequest("no such transfer of yours")
    form = ConfirmForm.from_request(request)
    if request.method == "POST" and form.validate():
        try:
            confirm_transfer(request.root, ref, form.code.data, request.authenticated_userid)
        except WalletError as exc:
            form.add_error("code", str(exc))
        else:
            audit(request, f"wallet transfer {ref} confirmed by the payer")
            flash(request, "Transferred")
            return HTTPFound(request.resource_url(context, "@@wallet"))
    return form_page(request, form, "Confirm the transfer",
                     request.resource_url(context, "@@wallet-confirm", query={"ref": ref}),
                     submit="Confirm",
                     context_title=f"{pending.amount / 100:.2f} to account {pending.target}")

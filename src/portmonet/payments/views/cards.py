"""``/payments/cards/activate``: a subscriber (office) or a partner (API)
activates a prepaid card onto an account; wrong tries lock out both the
account and the client address (see :mod:`portmonet.payments.cards`)."""
import logging

from pyramid.view import view_config

from ..canonical import NotCanonical, single_values
from ..cards import CardError, Locked
from ..interfaces import ICards
from ..lookup import payable_account
from .unit import database, finish_alone, journal_request, process, transact

log = logging.getLogger("portmonet.payments.cards")


@view_config(context=ICards, name="activate", permission="activate_card",
             request_method="POST", renderer="json")
def activate(context, request):
    try:
        form = single_values(request.POST, ("account", "serial", "pin"))
    except NotCanonical as exc:        # refused, and journaled like any refusal
        key = journal_request(request, "card", "activate")
        finish_alone(request, key, "rejected", str(exc))
        request.response.status_int = 400
        return {"status": "rejected", "message": str(exc)}
    status, body, _balance = activate_card(request, form.get("account", ""),
                                           form.get("serial", ""), form.get("pin", ""))
    request.response.status_int = status
    return body


def activate_card(request, account_text, serial, pin):
    """Journal the request, activate the card in a transaction of its own
    (committed, so wrong tries count even when refused) and answer
    ``(HTTP status, JSON body, new balance or None)``.  Used by the JSON
    endpoint above and by the office's scratch-card page; the balance is
    for the office only (a partner is not told an account's balance)."""
    serial = serial or ""
    key = journal_request(request, "card", "activate", ext_id=serial[:40])
    user = request.authenticated_userid or f"card:{request.remote_addr}"

    def work(root):
        account = payable_account(root, account_text)
        if account is None:
            return "rejected", "no such account", (400, {"status": "rejected",
                                                         "message": "no such account"}, None)
        cards = root["payments"].cards
        try:
            posting = cards.activate(root, serial, pin, account,
                                     # Wrong tries lock out the address, and the account
                                     # only from that address: a stranger guessing PINs
                                     # cannot stop the owner from activating a card.
                                     (f"ip:{request.remote_addr}",
                                      f"account:{account.number}@{request.remote_addr}"),
                                     user)
        except Locked as exc:
            return "rejected", "locked out", (429, {"status": "locked", "message": str(exc)}, None)
        except CardError as exc:
            return "rejected", str(exc), (400, {"status": "rejected", "message": str(exc)}, None)
        return "done", f"activated onto {account.number}", (200, {
            "status": "ok", "amount": posting.amount, "account": account.number},
            account.balance)
    try:
        status, body, balance = process(request, key, work, user,
                                        f"card activation {serial[:40]}")
    except ValueError as exc:
        finish_alone(request, key, "rejected", str(exc))
        status, body, balance = 400, {"status": "rejected", "message": str(exc)}, None
    if status != 200:
        log.warning("card activation from %s refused: %s", request.remote_addr, body["message"])
    return status, body, balance


@view_config(context=ICards, name="mine", permission="sell_cards", renderer="json")
def dealer_batches(context, request):
    """A dealer sees only the batches issued to them (and their cards' statuses)."""
    dealer = request.authenticated_userid
    return [{"series": b.series, "nominal": b.nominal, "currency": b.currency, "count": b.count,
             "expires": b.expires.isoformat() if b.expires else None,
             "cards": {s: c.status for s, c in b.cards.items()}}
            for b in context.batches_of(dealer)]


@view_config(context=ICards, name="sell", permission="sell_cards", request_method="POST",
             renderer="json")
def dealer_sell(context, request):
    """A dealer marks one of their cards sold; another dealer's card is refused."""
    dealer = request.authenticated_userid
    serial = request.POST.get("serial", "")

    def sell(root):
        return root["payments"].cards.sell(serial, dealer).status
    try:
        status = transact(database(request), sell, dealer or "", f"sell card {serial[:40]}")
    except CardError as exc:
        request.response.status_int = 400
        return {"status": "rejected", "message": str(exc)}
    return {"status": status, "serial": serial}

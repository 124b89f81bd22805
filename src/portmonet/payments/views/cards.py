"""``/payments/cards/activate``: a subscriber (office) or a partner (API)
activates a prepaid card onto an account; wrong tries lock out both the
account and the client address (see :mod:`portmonet.payments.cards`)."""
import logging

from pyramid.view import view_config

from ..cards import CardError, Locked
from ..interfaces import ICards
from ..lookup import payable_account
from .unit import finish_alone, journal_request, process

log = logging.getLogger("portmonet.payments.cards")


@view_config(context=ICards, name="activate", permission="activate_card",
             request_method="POST", renderer="json")
def activate(context, request):
    serial = request.POST.get("serial", "")
    key = journal_request(request, "card", "activate", ext_id=serial[:40])
    account_text = request.POST.get("account", "")
    pin = request.POST.get("pin", "")
    user = request.authenticated_userid or f"card:{request.remote_addr}"

    def work(root):
        account = payable_account(root, account_text)
        if account is None:
            return "rejected", "no such account", (400, {"status": "rejected",
                                                         "message": "no such account"})
        cards = root["payments"].cards
        try:
            posting = cards.activate(root, serial, pin, account,
                                     (f"account:{account.number}", f"ip:{request.remote_addr}"),
                                     user)
        except Locked as exc:
            return "rejected", "locked out", (429, {"status": "locked", "message": str(exc)})
        except CardError as exc:
            return "rejected", str(exc), (400, {"status": "rejected", "message": str(exc)})
        return "done", f"activated onto {account.number}", (200, {
            "status": "ok", "amount": posting.amount, "account": account.number})
    try:
        status, body = process(request, key, work, user, f"card activation {serial[:40]}")
    except ValueError as exc:
        finish_alone(request, key, "rejected", str(exc))
        status, body = 400, {"status": "rejected", "message": str(exc)}
    if status != 200:
        log.warning("card activation from %s refused: %s", request.remote_addr, body["message"])
    request.response.status_int = status
    return body



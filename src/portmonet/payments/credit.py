"""Crediting an account from any channel: the one way a payment is booked.

The posting's cause is ``<channel>:<agent>:<external id>``, so one external
transaction posts once however often it is retried.  In the same
transaction the channel's register row is written, a blocked contract that
the payment brings back within its limit is set active, and a "payment
received" message is queued in the outbox (sent after commit by the
notifier).
"""
import logging

from .. import events
from ..interfaces import IContract
from ..ledger.posting import PostingError
from ..money import format_amount
from ..web.figures import record

log = logging.getLogger(__name__)


class DuplicateMismatch(ValueError):
    """An external id already posted with another account or amount."""


def payments_of(root):
    return root["payments"]


def credit(root, account, amount, channel, agent, ext_id, text="", user="",
           kind="payment"):
    """Post *amount* (minor units) once for ``channel:agent:ext_id``.

    Returns ``(posting, created)``; a repeat with another account or amount
    raises :class:`DuplicateMismatch` instead of hiding the difference.
    """
    cause = f"{channel}:{agent}:{ext_id}"
    where = root.catalog.causes.get(cause)
    if where is not None:
        posting = root.catalog.accounts.get(where[0]).ledger[where[1]]
        if where[0] != account.number or posting.amount != amount:
            raise DuplicateMismatch(
                f"{cause} was posted as {posting.amount} on account {where[0]}")
        return posting, False
    if kind == "payment" and amount <= 0:
        raise PostingError("a payment is a positive amount")
    posting, created = account.post(amount, kind, cause, text=text, user=user)
    payments_of(root).register.add(channel, cause, account.number, amount, agent,
                                   ext_id, posting.time)
    if kind == "payment":
        # The dashboard's "payments per day" and "payments today": every
        # channel books here, so this one call counts them all, O(1) to read.
        record(root, "payments", amount)
        # told first: billing unblocks what its debt control blocked (with
        # the CoA and notice); a contract blocked by hand is set active below
        events.notify(events.PaymentPosted(root, account, posting, user))
        after_payment(root, account, posting, user)
    return posting, created


def after_payment(root, account, posting, user=""):
    """Unblock a debtor back within the limit; queue "payment received"."""
    contract = account.__parent__
    if not IContract.providedBy(contract):
        return
    if contract.status == "blocked" and account.available >= 0:
        contract.set_status("active", f"payment {posting.cause}", user or "payments")
        log.info("contract %s unblocked by payment %s", contract.number, posting.cause)
    subscriber = contract.__parent__
    root.outbox.queue("mail", f"payment-received:{posting.cause}", {
        "template": "payment received",
        "subscriber": getattr(subscriber, "id", None),
        "to": getattr(subscriber, "email", None),
        "account": account.number,
        "amount": format_amount(posting.amount, account.currency),
        "currency": account.currency,
        "balance": format_amount(account.balance, account.currency),
    })

"""Notices the notifier makes itself from what other features committed:
"invoice issued" for each newly numbered invoice, "promised payment
ending" the day before a promise ends.  Each is queued once (its key),
in the notifier's own transaction, after the invoice or promise was
committed by billing."""
import datetime

from .. import clock
from ..outbox import queue_notice


def invoices(root, notify, limit=500):
    """Queue the notices of invoices numbered since the last pass."""
    billing = root.get("billing")
    if billing is None:
        return 0
    numbers = billing.invoice_numbers
    done = 0
    last = notify.invoices_through
    for number in numbers.keys(min=last, excludemin=True):
        inv = billing.invoice(number)
        contract = root.catalog.contracts.get(inv.contract)
        if contract is not None:
            queue_notice(root.outbox, f"invoice-issued:{number}", contract.__parent__,
                         {"event": "invoice-issued", "invoice": number,
                          "contract": inv.contract})
        last = number
        done += 1
        if done >= limit:
            break
    if last != notify.invoices_through:
        notify.invoices_through = last
    return done


def promises_ending(root, days_before=1, today=None):
    """Queue "promised payment ending" for promises that end in *days_before* days."""
    billing = root.get("billing")
    if billing is None:
        return 0
    today = today or clock.today()
    ends = today + datetime.timedelta(days=days_before)
    done = 0
    for number, promise in billing.promises.items():
        if not promise.active or promise.until != ends:
            continue
        contract = root.catalog.contracts.get(number)
        if contract is None:
            continue
        queue_notice(root.outbox, f"promise-ending:{number}:{promise.until}",
                     contract.__parent__,
                     {"event": "promise-ending", "contract": number,
                      "amount": promise.amount, "until": promise.until.isoformat()})
        done += 1
    return done

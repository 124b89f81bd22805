"""Drawing an invoice: the account's period from its ledger.

Opening balance (postings before the period), charges by service (fee
records and rated usage explain each posting), usage summary, payments,
other movements, taxes and the closing balance.  Postings are placed by
their time: usage and payments by when they were booked, fees at the start
(in advance) or the end (in arrears) of the period they pay for.
"""
from ..ledger.account import now_us


def _usage_line(rating, cause):
    if rating is None:
        return None
    source_id = cause[len("usage:"):].split("#", 1)[0]
    return rating.find(source_id)


def summarize(root, billing, account, start_us, end_us):
    rating = root.get("rating")
    opening = sum(p.amount for p in account.postings(None, start_us))
    lines, usage = {}, {}
    charges = payments = other = tax = 0
    for p in account.postings(start_us, end_us):
        label = None
        if p.cause.startswith("fee:"):
            record = billing.find_fee(p.cause, account.__parent__)
            if record is not None:
                label = f"{record.service} ({record.service_kind}): {record.tariff} fee"
                tax += record.tax
        elif p.cause.startswith("usage:"):
            rated = _usage_line(rating, p.cause)
            if rated is not None:
                label = f"{rated.service} ({rated.kind}): usage"
                if p.cause == rated.cause:
                    tax += rated.tax
                    n, quantity = usage.get(rated.kind, (0, 0))
                    usage[rated.kind] = (n + 1, quantity + (rated.billed or 0))
                if p.amount > 0:
                    label = f"{rated.service} ({rated.kind}): re-rating reversal"
        elif p.cause.startswith("once:"):
            label = f"one-time: {p.text or p.cause}"
        if p.kind == "payment":
            payments += p.amount
            continue
        if p.kind == "charge" or label is not None:
            label = label or p.text or p.kind
            lines[label] = lines.get(label, 0) - p.amount
            charges -= p.amount
        else:
            other += p.amount
    closing = opening - charges + payments + other
    return {"opening": opening, "closing": closing, "charges": charges, "payments": payments,
            "other": other, "tax": tax, "lines": tuple(sorted(lines.items())),
            "usage": tuple(sorted(usage.items()))}


def draw(root, billing, contract, period, start_us, end_us):
    """The invoice of *contract*'s account for *period* (drawn once)."""
    account = contract.account
    subscriber = contract.__parent__
    held = billing.find_invoice(period, account.number, subscriber.id)
    if held is not None:
        return held, False
    values = summarize(root, billing, account, start_us, end_us)
    if not values["lines"] and not values["payments"] and not values["other"] \
            and not values["opening"]:
        return None, False        # nothing happened and nothing is owed
    return billing.draw_invoice(
        period=period, account=account.number, contract=contract.number,
        subscriber=subscriber.id, name=subscriber.name,
        address=subscriber.postal_address or subscriber.address, currency=account.currency,
        issued_us=now_us(), **values)

"""What an event adds from other features: an invoice's figures for its
template and its PDF for the letter (billing's own renderer)."""
from .. import clock
from ..money import format_amount


def _invoice(root, payload):
    number = payload.get("invoice")
    billing = root.get("billing")
    if number is None or billing is None:
        return None
    return billing.invoice(number)


def event_variables(root, payload):
    inv = _invoice(root, payload)
    if inv is None:
        return {}
    return {"number": inv.number, "period": inv.period, "account": inv.account,
            "contract": inv.contract, "currency": inv.currency,
            "closing": format_amount(inv.closing, inv.currency),
            "amount": format_amount(max(-inv.closing, 0), inv.currency),
            "issued": clock.day_of(inv.issued_us).isoformat()}


def attachments_for(root, payload):
    inv = _invoice(root, payload)
    if inv is None:
        return []
    from ..billing import render
    return [(f"{inv.label}.pdf", "application/pdf", render.pdf(inv))]

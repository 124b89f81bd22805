"""Debt control: block below the credit limit (after the contract's grace
days), unblock when the money is back, promised payments, low-balance
warnings.  Each service of a blocked or unblocked contract is told as an
event (``ServiceBlocked`` / ``ServiceUnblocked``, reason ``debt``): the
features that control access (RADIUS, ...) subscribe and queue their
messages in the outbox in the deciding transaction, and carry them out
after it commits.  Debt control itself knows none of them.
"""
import datetime
from decimal import Decimal

from .. import clock, events
from ..ledger.account import now_us
from ..money import format_amount
from ..outbox import queue_notice
from ..tariffs.assign import tariff_for
from ..tariffs.model import NoTariff, version_at
from ..tariffs.rules import days_in_month
from .model import Promise

USER = "portmonet bill"


class PromiseRefused(ValueError):
    pass


def _notify(root, contract, key, template, **values):
    """The notice by letter, text and office inbox (the notifier applies
    the subscriber's choices when it sends)."""
    queue_notice(root.outbox, key, contract.__parent__,
                 {"template": template, "contract": contract.number, **values})


def block(root, billing, contract, reason, when_us):
    contract.set_status("blocked", reason, USER)
    billing.blocked[contract.number] = when_us
    for service in contract.services():
        events.notify(events.ServiceBlocked(root, service, events.DEBT,
                                            f"debt-block:{contract.number}:{when_us}", USER))
    _notify(root, contract, f"debt-block:{contract.number}:{when_us}", "blocked",
            balance=contract.account.balance, credit_limit=contract.account.credit_limit)


def unblock(root, billing, contract, when_us):
    contract.set_status("active", "debt paid", USER)
    del billing.blocked[contract.number]
    billing.debt.pop(contract.number, None)
    for service in contract.services():
        events.notify(events.ServiceUnblocked(root, service, events.DEBT,
                                              f"debt-unblock:{contract.number}:{when_us}", USER,
                                              note="unblocked"))
    _notify(root, contract, f"debt-unblock:{contract.number}:{when_us}", "unblocked",
            balance=contract.account.balance)


def control(root, billing, contract, today, when_us=None):
    """Decide one contract's access by its balance; returns 'blocked',
    'unblocked' or None."""
    account = contract.account
    if account is None:
        return None
    when_us = now_us() if when_us is None else when_us
    number = contract.number
    if account.available >= 0:
        if number in billing.debt:
            del billing.debt[number]
        if contract.status == "blocked" and number in billing.blocked:
            unblock(root, billing, contract, when_us)
            return "unblocked"
        return None
    if contract.status != "active":
        return None
    since = billing.debt.get(number)
    if since is None:
        since = billing.debt[number] = today.toordinal()
    grace = contract.grace_days or 0
    if today.toordinal() - since >= grace:
        block(root, billing, contract,
              f"debt: balance {account.balance} below credit limit {account.credit_limit}",
              when_us)
        return "blocked"
    return None


def expire_promises(root, billing, today):
    """End promised credit that is due; returns the contract numbers."""
    ended = []
    for number, promise in list(billing.promises.items()):
        if promise.active and today >= promise.until:
            contract = root.catalog.contracts.get(number)
            if contract is not None and contract.account is not None:
                account = contract.account
                account.credit_limit = max(0, account.credit_limit - promise.amount)
            billing.promises[number] = promise.replace(active=False)
            ended.append(number)
            if contract is not None:
                events.notify(events.PromiseExpired(root, contract, billing.promises[number], USER))
    return ended


def debt_pass(root, billing, today, when_us=None):
    """The frequent, small pass: promises that end, contracts whose grace
    ran out, blocked contracts whose money came back."""
    ended = expire_promises(root, billing, today)
    out = {"promises_ended": len(ended), "blocked": 0, "unblocked": 0}
    numbers = set(billing.blocked.keys()) | set(billing.debt.keys()) | set(ended)
    for number in sorted(numbers):
        contract = root.catalog.contracts.get(number)
        if contract is None:
            billing.debt.pop(number, None)
            continue
        result = control(root, billing, contract, today, when_us)
        if result:
            out[result] += 1
    return out


def take_promise(root, billing, contract, amount, days, today, max_amount, max_days,
                 interval_days):
    """Give a promised payment: temporary credit, limited in amount, length
    and frequency.  Unblocks at once if that brings the money back."""
    if not 0 < amount <= max_amount:
        raise PromiseRefused(f"a promised payment is more than 0 and up to "
                             f"{format_amount(max_amount, contract.account.currency)}")
    if not 0 < days <= max_days:
        raise PromiseRefused(f"a promised payment lasts 1 to {max_days} days")
    last = billing.promises.get(contract.number)
    if last is not None:
        if last.active:
            raise PromiseRefused("a promised payment is already running")
        if (today - last.taken).days < interval_days:
            raise PromiseRefused(f"one promised payment per {interval_days} days "
                                 f"(the last was taken {last.taken})")
    contract.account.credit_limit += amount
    promise = Promise(contract=contract.number, amount=amount, taken=today,
                      until=today + datetime.timedelta(days=days), active=True)
    billing.promises[contract.number] = promise
    events.notify(events.PromiseTaken(root, contract, promise))
    control(root, billing, contract, today)
    return promise


def _month_fee(tariff, today, month_days):
    """What *tariff* costs for the month of *today* (a day fee times the days)."""
    try:
        fee = version_at(tariff, today).fee
    except NoTariff:
        return 0
    if fee is None:
        return 0
    return fee.amount * (month_days if fee.period == "day" else 1)


def daily_spend(contract, today, memo=None):
    """Forecast: the month fees in force today spread per day, plus the
    average daily usage charges of the last 30 days (minor units a day).
    *memo*: a dict kept across contracts so each tariff is priced once."""
    month_days = days_in_month(today.year, today.month)
    fees = 0
    for service in contract.values():
        if not service.active:
            continue
        tariff = tariff_for(service, today)
        if tariff is None:
            continue
        if memo is None:
            fees += _month_fee(tariff, today, month_days)
            continue
        key = (getattr(tariff, "_p_oid", None) or id(tariff), today)
        held = memo.get(key)
        if held is None:
            held = memo[key] = (_month_fee(tariff, today, month_days), tariff)
        fees += held[0]
    since = clock.day_start_us(today - datetime.timedelta(days=30))
    usage = -sum(p.amount for p in contract.account.postings(since)
                 if p.kind == "charge" and p.cause.startswith("usage:"))
    return Decimal(fees) / month_days + Decimal(usage) / 30


def warn_low_balance(root, contract, today, days, memo=None):
    """Queue one warning a day when the money runs out within *days*."""
    account = contract.account
    if account is None or contract.status != "active" or account.available < 0:
        return False
    spend = daily_spend(contract, today, memo)
    if spend <= 0 or account.available >= spend * days:
        return False
    days_left = int(account.available // spend)
    _notify(root, contract, f"low-balance:{contract.number}:{today}", "low-balance",
            balance=account.balance, days_left=days_left)
    return True


def after_payment(root, account, today=None):
    """For the code that books a payment, in its transaction: unblock the
    contract at once if this payment brings its money back (the
    ``debt-control`` pass does the same for payments booked elsewhere)."""
    billing = root.get("billing")
    contract = getattr(account, "__parent__", None)
    if billing is None or contract is None or getattr(contract, "number", None) is None:
        return None
    if contract.number not in billing.blocked and contract.number not in billing.debt:
        return None
    return control(root, billing, contract, today or clock.today())

"""The billing run of a period: for every contract, its periodic fees,
one-time services, auto-payment, invoice and debt control.

Idempotent and resumable: every fee is a posting with the cause
``fee:<contract>:<service>:<period>``, the auto-payment
``autopay:<contract>:<month>``, an invoice is stored once per period and
account; so a run killed at any moment and started again charges nothing
twice.  Progress (the last subscriber finished) is committed with each batch
so a restart skips what is done.
"""
import datetime
import logging
import time

from ZODB.POSException import ConflictError

from .. import db as dbmod
from ..ledger.account import InsufficientFunds, now_us
from ..model.root import get_root
from ..ops.bulk import prefetch
from . import debt, invoices
from ..rating.pricing import active_kinds
from .fees import price_fee, service_fee
from .model import FeeRecord, day_us, parse_period

log = logging.getLogger(__name__)
USER = "portmonet bill"


class Options:
    """What a run does besides fees (from the command line and the ini)."""

    def __init__(self, invoices=None, debt_control=True, warn_days=3, autopay=True):
        self.invoices = invoices          # None: when the period is over
        self.debt_control = debt_control
        self.warn_days = warn_days
        self.autopay = autopay


def fee_cause(contract, service, period):
    return f"fee:{contract.number}:{service.__name__}:{period}"


def charge_fees(billing, contract, kind, period, start, end, now):
    """Post each service's fee of the period once; returns the number posted."""
    posted = 0
    group = getattr(contract, "discount_group", None)
    kinds = active_kinds(contract)
    account = contract.account
    for service in contract.values():
        if getattr(service, "kind", None) == "once":
            posted += _one_time_service(contract, service, end, now)
            continue
        cause = fee_cause(contract, service, period)
        if cause in billing.fees:
            continue
        lines, period_days = service_fee(service, contract, kind, start, end)
        if not lines:
            continue
        base, discount, tax, total = price_fee(lines, group, kinds)
        if not total:
            continue
        advance = all(line[1].fee.charge == "advance" for line in lines)
        if not advance and now < day_us(end):
            continue                  # charged in arrears, not due yet
        when = day_us(start) if advance else day_us(end) - 1
        tariff = lines[0][0]
        account.post(-total, "charge", cause, text=f"{tariff.title or tariff.name} fee {period}",
                     user=USER, when=when)
        billing.fees[cause] = FeeRecord(
            cause=cause, contract=contract.number, account=account.number,
            service=service.__name__, service_kind=service.kind, period=period,
            tariff=tariff.name, version=lines[0][1].number, days=sum(l[3] for l in lines),
            period_days=period_days,
            lines=tuple((l[0].name, l[1].number, l[2], l[3], l[4]) for l in lines),
            base=base, discount=discount, tax=tax, amount=total)
        posted += 1
    return posted


def _one_time_service(contract, service, end, now):
    """A OneTimeService (installation, equipment) is charged once when it starts."""
    if not service.price or service.started is None or service.started >= end:
        return 0
    cause = f"once:{contract.number}:{service.__name__}"
    _, created = contract.account.post(-service.price, "charge", cause,
                                       text=service.description[:120], user=USER,
                                       when=max(day_us(service.started), 0))
    return int(created)


def autopay(root, contract, month, start, end, now):
    """Pay the contract's debt from the account it names, up to its limit,
    once per month; returns the amount moved."""
    if not contract.autopay_enabled or not contract.autopay_source:
        return 0
    account = contract.account
    source = root.catalog.accounts.get(contract.autopay_source)
    if account.balance >= 0 or source is None or source is account:
        return 0
    cause = f"autopay:{contract.number}:{month}"
    if root.catalog.causes.get(cause) is not None:
        return 0
    amount = -account.balance
    if contract.autopay_limit:
        amount = min(amount, contract.autopay_limit)
    amount = min(amount, source.available)
    if amount <= 0:
        return 0
    when = min(max(now, day_us(start)), day_us(end) - 1)
    try:
        source.post(-amount, "transfer", cause + ":from", text=f"auto-payment of {contract.number}",
                    user=USER, when=when, must_not_overdraw=True)
    except InsufficientFunds:
        return 0
    account.post(amount, "transfer", cause, text=f"auto-payment from {source.number}",
                 user=USER, when=when)
    return amount


def bill_contract(root, billing, contract, period, kind, start, end, now, options, stats):
    if contract.account is None or contract.status == "draft":
        return
    stats["fees"] += charge_fees(billing, contract, kind, period, start, end, now)
    today = min(datetime.datetime.fromtimestamp(now / 1e6, datetime.timezone.utc).date(),
                end - datetime.timedelta(days=1))
    if options.autopay and (kind == "month" or start.day == contract.autopay_day):
        stats["autopaid"] += autopay(root, contract, start.strftime("%Y-%m"), start, end, now)
    if kind == "month" and (options.invoices or (options.invoices is None and now >= day_us(end))):
        _, created = invoices.draw(root, billing, contract, period, day_us(start), day_us(end))
        stats["invoices"] += int(created)
    if options.debt_control:
        result = debt.control(root, billing, contract, today, now)
        if result == "blocked":
            stats["blocked"] += 1
        if options.warn_days and debt.warn_low_balance(root, contract, today, options.warn_days):
            stats["warned"] += 1
    stats["contracts"] += 1


def _warm(conn, subscribers):
    prefetch(conn, subscribers)
    contracts = [c for s in subscribers for c in s.data.values()]
    prefetch(conn, contracts)
    prefetch(conn, [c.account for c in contracts if c.account is not None])
    prefetch(conn, [c.account.ledger for c in contracts if c.account is not None]
                   + [s for c in contracts for s in c.data.values()])


def run(db, period, now=None, batch=500, options=None, progress=None, restart=False,
        stop_after_batches=None, attempts=10):
    """Bill *period* ('YYYY-MM' or 'YYYY-MM-DD'); returns the totals."""
    kind, start, end = parse_period(period)
    options = options or Options()
    stats = {"contracts": 0, "fees": 0, "invoices": 0, "blocked": 0, "warned": 0,
             "autopaid": 0, "batches": 0}
    with dbmod.connection(db) as (conn, tm):
        root = get_root(conn.root())
        run_now = now if now is not None else now_us()
        billing = root["billing"]
        state = billing.run_state(period, run_now)
        if restart or state.finished_us:
            # resume an interrupted run; a finished one is gone over again
            # (fees in arrears come due, new contracts appear)
            state.done_through = None
        state.finished_us = 0
        dbmod.commit(tm, USER, f"bill {period}: start")
        subscribers = root["subscribers"].data
        after = state.done_through
        ids = list(subscribers.keys(after, None, excludemin=after is not None)
                   if after is not None else subscribers.keys())
        for first in range(0, len(ids), batch):
            chunk = ids[first:first + batch]
            for attempt in range(attempts):
                tm.begin()
                batch_stats = dict.fromkeys(stats, 0)
                try:
                    run_now = now if now is not None else now_us()
                    subs = [subscribers[i] for i in chunk]
                    _warm(conn, subs)
                    for subscriber in subs:
                        for contract in subscriber.data.values():
                            bill_contract(root, billing, contract, period, kind, start, end,
                                          run_now, options, batch_stats)
                    state.done_through = chunk[-1]
                    for name in ("contracts", "fees", "invoices", "blocked"):
                        setattr(state, name, getattr(state, name) + batch_stats[name])
                    dbmod.commit(tm, USER, f"bill {period}: subscribers {chunk[0]}..{chunk[-1]}")
                    break
                except ConflictError:
                    tm.abort()
                    log.info("bill %s: conflict, batch retried", period)
                    time.sleep(0.05 * (attempt + 1))
            else:
                raise ConflictError(f"bill {period}: batch at {chunk[0]} kept conflicting")
            for name, value in batch_stats.items():
                stats[name] += value
            stats["batches"] += 1
            if progress is not None:
                progress(len(chunk))
            conn.cacheGC()
            if stop_after_batches and stats["batches"] >= stop_after_batches:
                return stats
        tm.begin()
        if options.debt_control:
            today = datetime.datetime.fromtimestamp(
                (now if now is not None else now_us()) / 1e6, datetime.timezone.utc).date()
            debt.expire_promises(root, billing, today)
        state.finished_us = now_us()
        dbmod.commit(tm, USER, f"bill {period}: finished")
    return stats

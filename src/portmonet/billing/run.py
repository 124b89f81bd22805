"""The billing run of a period: for every contract, its periodic fees,
one-time services, auto-payment, invoice and debt control.

Idempotent and resumable: every fee is a posting with the cause
``fee:<contract>:<service>:<period>``, the auto-payment
``autopay:<contract>:<month>``, an invoice is stored once per period and
account; so a run killed at any moment and started again charges nothing
twice.

A run is planned as shards (disjoint ranges of subscriber ids), billed by
one process each at the same time or one after the other in one process
(:func:`bill_shard`); each shard commits its own progress (the last
subscriber finished) with each batch, so a restart skips what is done.
When every shard is done, :func:`number` gives the drawn invoices their
gap-free numbers and :func:`finish` ends the run.
"""
import collections
import datetime
import itertools
import logging
import sys
import time

from ZODB.POSException import ConflictError

from .. import clock, db as dbmod, events
from ..clock import day_start_us
from ..ledger.account import InsufficientFunds, now_us
from ..model.root import get_root
from ..ops.bulk import prefetch
from . import debt, invoices
from ..rating.pricing import active_kinds
from ..tariffs.assign import apply_due
from .fees import FeeMemo
from .model import FeeRecord, leaf_buckets, parse_period
from ..workerstorage import tune_worker_storage

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


def charge_fees(billing, contract, kind, period, start, end, now, memo=None):
    """Post each service's fee of the period once; returns the number posted.

    Billing owns fee causes (``FeeCauses``): the fee record, kept in the
    same transaction as the charge and naming its posting, is what makes a
    fee once; the charge is not entered in the cause index."""
    memo = memo or FeeMemo(kind, start, end)
    posted = 0
    group = contract.discount_group
    kinds = active_kinds(contract)
    account = contract.account
    end_us = day_start_us(end)
    for service in contract.values():
        if service.kind == "once":
            posted += _one_time_service(contract, service, end, now)
            continue
        name = service.__name__
        if billing.fee(contract, name, period) is not None:
            continue                  # (an old run's record, in ``fees``, counts too)
        cause = fee_cause(contract, service, period)
        lines, period_days, (base, discount, tax, total), kept = memo.fee(
            service, contract, group, kinds)
        if not total:
            continue
        advance = all(line[1].fee.charge == "advance" for line in lines)
        if not advance and now < end_us:
            continue                  # charged in arrears, not due yet
        when = day_start_us(start) if advance else end_us - 1
        tariff, version = lines[0][0], lines[0][1]
        posting = account.post_owned(-total, "charge", cause,
                                     text=f"{tariff.title or tariff.name} fee {period}",
                                     user=USER, when=when)
        billing.add_fee(contract, FeeRecord(
            cause=cause, contract=contract.number, account=account.number,
            service=sys.intern(name), service_kind=service.kind, period=period,
            tariff=tariff.name, version=version.number, days=sum(l[3] for l in lines),
            period_days=period_days,
            lines=kept,
            base=base, discount=discount, tax=tax, amount=total, posting=posting.key))
        posted += 1
    return posted


def _one_time_service(contract, service, end, now):
    """A OneTimeService (installation, equipment) is charged once when it starts."""
    if not service.price or service.started is None or service.started >= end:
        return 0
    cause = f"once:{contract.number}:{service.__name__}"
    _, created = contract.account.post(-service.price, "charge", cause,
                                       text=service.description[:120], user=USER,
                                       when=max(day_start_us(service.started), 0))
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
    when = min(max(now, day_start_us(start)), day_start_us(end) - 1)
    try:
        source.post(-amount, "transfer", cause + ":from", text=f"auto-payment of {contract.number}",
                    user=USER, when=when, must_not_overdraw=True)
    except InsufficientFunds:
        return 0
    account.post(amount, "transfer", cause, text=f"auto-payment from {source.number}",
                 user=USER, when=when)
    return amount


class Batch:
    """What one batch shares: the run's memo of fees, today, the time."""

    def __init__(self, root, billing, period, kind, start, end, options, memo, spend):
        self.root, self.billing, self.period = root, billing, period
        self.kind, self.start, self.end = kind, start, end
        self.options, self.memo, self.spend = options, memo, spend
        self.start_us, self.end_us = day_start_us(start), day_start_us(end)
        self.now = None
        self.today = None      # the day debt control decides on (within the period)
        self.run_day = None    # the day the run pretends it is (tariff changes come due)

    def at(self, now):
        self.now = now
        day = clock.day_of(now)
        self.today = min(day, self.end - datetime.timedelta(days=1))
        # never earlier than today: re-running a past period must not move
        # a service back to a tariff it has left
        self.run_day = max(day, clock.today())
        return self


def new_stats():
    return {"contracts": 0, "fees": 0, "invoices": 0, "blocked": 0, "warned": 0,
            "autopaid": 0, "batches": 0}


def bill_contract(root, billing, contract, period, kind, start, end, now, options, stats,
                  batch=None):
    """Everything the run does for one contract (in one transaction)."""
    if batch is None:
        batch = Batch(root, billing, period, kind, start, end, options,
                      FeeMemo(kind, start, end), {}).at(now)
    if bill_charges(contract, batch, stats):
        control_debt(contract, batch, stats)


def billable(contract):
    return contract.account is not None and contract.status != "draft"


def bill_charges(contract, batch, stats):
    """Fees, auto-payment and the invoice; False for a contract not billed."""
    if not billable(contract):
        return False
    root, billing, options, now = batch.root, batch.billing, batch.options, batch.now
    kind, start, end, period = batch.kind, batch.start, batch.end, batch.period
    apply_due_changes(contract, batch.run_day, root)
    stats["fees"] += charge_fees(billing, contract, kind, period, start, end, now, batch.memo)
    if options.autopay and contract.autopay_enabled and (
            kind == "month" or start.day == contract.autopay_day):
        stats["autopaid"] += autopay(root, contract, start.strftime("%Y-%m"), start, end, now)
    if kind == "month" and (options.invoices or (options.invoices is None and now >= batch.end_us)):
        _, created = invoices.draw(root, billing, contract, period, batch.start_us, batch.end_us)
        stats["invoices"] += int(created)
    stats["contracts"] += 1
    return True


def control_debt(contract, batch, stats):
    """Debt control and the low-balance warning of a billed contract."""
    options = batch.options
    if not options.debt_control or not billable(contract):
        return
    result = debt.control(batch.root, batch.billing, contract, batch.today, batch.now)
    if result == "blocked":
        stats["blocked"] += 1
    if options.warn_days and debt.warn_low_balance(batch.root, contract, batch.today,
                                                   options.warn_days, batch.spend):
        stats["warned"] += 1


def apply_due_changes(contract, day, root=None):
    """Changes dated ahead come due: a tariff change (``change_tariff`` with
    ``next_period``) becomes the service's current tariff, a suspension or
    resumption its current state.  (Fees read the histories themselves;
    this keeps ``service.tariff`` and ``service.suspended`` right for RADIUS
    and the screens.)  A suspension that comes due ends the service's
    sessions, as one made for today does on the page."""
    for service in contract.values():
        if getattr(service, "tariff_history", None):
            apply_due(service, day)
        if getattr(service, "_suspensions", None):
            suspended = service.suspended_on(day)
            if suspended != service.suspended:
                service.suspended = suspended
                if root is not None:
                    # keyed by the day: a batch gone over again queues it once
                    event, what = ((events.ServiceBlocked, "suspend") if suspended
                                   else (events.ServiceUnblocked, "resume"))
                    events.notify(event(
                        root, service, events.SUSPENSION,
                        f"{what}:{contract.number}:{service.__name__}:{day.isoformat()}", USER,
                        note="suspended" if suspended else "resumed"))


class Walker:
    """Subscribers in key order within [lo, hi), a batch at a time, each
    batch's objects loaded in bulk: the subscribers of the next batch, then
    their contracts, then accounts and services (each wave one pipelined
    round of ZEO loads, not one per object)."""

    def __init__(self, conn, tree, size, lo=None, hi=None):
        self.conn, self.tree, self.size = conn, tree, size
        self.lo, self.hi = lo, hi

    def next_ids(self, after):
        # (excludemax with no max would leave out the last key)
        high = {"max": self.hi, "excludemax": True} if self.hi is not None else {}
        if after is not None:
            keys = self.tree.keys(after, excludemin=True, **high)
        else:
            keys = self.tree.keys(self.lo, **high)
        return list(itertools.islice(keys, self.size))

    def ask_subscribers(self, ids):
        """Load these subscribers in one round of loads."""
        tree = self.tree
        prefetch(self.conn, [tree[i] for i in ids])

    def ask_contracts(self, ids):
        tree = self.tree
        subs = [tree[i] for i in ids]
        prefetch(self.conn, [c for s in subs for c in s.values()])

    def load(self, ids):
        """The subscribers of *ids* with everything billing reads, loaded;
        returns (contracts, every object loaded for them)."""
        tree = self.tree
        subs = [tree[i] for i in ids]
        contracts = [c for s in subs for c in s.values()]
        prefetch(self.conn, contracts)
        accounts = [c.account for c in contracts if c.account is not None]
        services = [s for c in contracts for s in c.values()]
        prefetch(self.conn, accounts + services)
        ledgers = [t for t in (a._tree for a in accounts) if t is not None]
        prefetch(self.conn, ledgers)
        return contracts, subs + contracts + accounts + services + ledgers

    def forget(self, objects):
        """Ghost a finished batch's objects (committed, so unchanged): memory
        stays flat, and the next batch's objects, already loaded, stay."""
        for obj in objects:
            if obj._p_changed is False:
                obj._p_deactivate()
        self.conn.cacheGC()


class RunPlanned(ValueError):
    """A shard asked for does not match the run's plan."""


def plan_bounds(tree, count):
    """*count* ranges of subscriber ids [lo, hi) covering every key (the
    first and last open-ended), cut evenly between the lowest and highest id."""
    if count <= 1:
        return [(None, None)]
    try:                     # (not len(tree): that reads every bucket)
        low, high = tree.minKey(), tree.maxKey()
    except ValueError:
        return [(None, None)] if count == 1 else [(None, None)] + [(0, 0)] * (count - 1)
    step = (high - low + 1) / count
    cuts = [low + int(step * k) for k in range(1, count)]
    return [(cuts[k - 1] if k else None, cuts[k] if k < count - 1 else None)
            for k in range(count)]


def start(db, period, now=None, count=None, restart=False, strict=False):
    """Plan the run of *period* (or keep the plan of an unfinished one);
    returns the number of shards.  A finished run, or ``restart``, is
    planned anew (it goes over every contract again and changes only what
    came due).  *count*: the shards wanted (None: the plan's, or 1); with
    *strict* a different plan already under way is an error, else it wins."""
    parse_period(period)
    run_now = now if now is not None else now_us()

    def work(root):
        billing = root["billing"]
        state = billing.run_state(period, run_now)
        wanted = count or len(state.shards) or 1
        started = any(s.done_through is not None or s.finished for s in state.shards)
        if restart or state.finished_us or not state.shards or (
                wanted != len(state.shards) and not started):
            state.plan(plan_bounds(root["subscribers"].data, wanted), run_now)
        elif wanted != len(state.shards) and strict:
            raise RunPlanned(f"the run of {period} is under way in {len(state.shards)} shards: "
                             f"resume it with --workers {len(state.shards)}")
        # a fee tree and a tree of drawn invoices per shard, made here, not
        # by racing workers
        billing.plan_trees(period, [s.lo for s in state.shards])
        return len(state.shards)
    return dbmod.transact(db, work, USER, f"bill {period}: start", attempts=10)


# transactions retried after a conflict in this process, by kind (figures)
RETRIES = {"charges": 0, "debt": 0, "other": 0}
# ... and the classes of the objects they conflicted on (what to fix next)
CONFLICTED = collections.Counter()


def _class_of(exc, conn=None):
    name = getattr(exc, "class_name", None)
    oid = getattr(exc, "oid", None)
    if not name and conn is not None and oid is not None:
        try:                     # (the server's refusal names no class)
            name = type(conn.get(oid)).__name__
        except Exception:        # noqa: BLE001 (a figure, never a failure)
            name = None
    return (name or "?").rsplit(".", 1)[-1]


def _retried(tm, attempts, work, note, kind="other", conn=None):
    """Run *work()* in a transaction, retried on ConflictError."""
    for attempt in range(attempts):
        tm.begin()
        try:
            result = work()
            dbmod.commit(tm, USER, note)
            return result
        except ConflictError as exc:
            RETRIES[kind] += 1
            tm.abort()
            CONFLICTED[(kind, _class_of(exc, conn))] += 1
            log.info("%s: conflict, retried: %s", note, exc)
            time.sleep(0.05 * (attempt + 1))
    raise ConflictError(f"{note}: kept conflicting")


def bill_shard(db, period, index, now=None, batch=2000, options=None, progress=None,
               stop_after_batches=None, attempts=10):
    """Bill the contracts of shard *index* of the planned run of *period*
    from where it stopped; returns the totals of this call.

    Each batch is two transactions: the charges (fees, auto-payment,
    invoices), then debt control with the shard's progress.  Debt control
    queues outbox messages, whose time-ordered trees every worker appends
    to: that short transaction may conflict with another worker's and is
    retried alone, without redoing the charges.  A run killed between the
    two goes over the batch again, which charges nothing twice."""
    kind, start_day, end_day = parse_period(period)
    options = options or Options()
    stats = new_stats()
    tune_worker_storage(db)
    with dbmod.connection(db) as (conn, tm):
        root = get_root(conn.root())
        billing = root["billing"]
        state = billing.runs[period]
        shard = state.shards[index]
        if shard.finished:
            return stats
        # one instant for the whole run, the one it was planned at: a run
        # that goes past midnight (or is resumed) decides as it began
        run_now = now if now is not None else state.started_us
        walker = Walker(conn, root["subscribers"].data, batch, shard.lo, shard.hi)
        shared = Batch(root, billing, period, kind, start_day, end_day, options,
                       FeeMemo(kind, start_day, end_day), {})
        chunk = walker.next_ids(shard.done_through)
        tm.abort()
        if chunk:
            walker.ask_subscribers(chunk)
        while chunk:
            nxt = walker.next_ids(chunk[-1])
            where = f"bill {period} shard {shard.name}: subscribers {chunk[0]}..{chunk[-1]}"
            held = {}

            def charges():
                shared.at(run_now)
                contracts, loaded = walker.load(chunk)
                held["contracts"], held["loaded"] = contracts, loaded
                if nxt:
                    walker.ask_subscribers(nxt)     # arrives while this batch is billed
                counts = dict.fromkeys(stats, 0)
                for contract in contracts:
                    bill_charges(contract, shared, counts)
                if nxt:
                    walker.ask_contracts(nxt)       # arrives while this batch commits
                held["counts"] = counts
                _add(shard, counts, ("fees", "invoices", "autopaid"))
                if not options.debt_control:
                    _add(shard, counts, ("contracts",))
                    shard.done_through = chunk[-1]
                return counts

            def debts():
                counts = dict.fromkeys(stats, 0)
                for contract in held["contracts"]:
                    control_debt(contract, shared, counts)
                # counted with the progress: a batch gone over again after a
                # kill between its two transactions counts its contracts once
                counts["contracts"] = held["counts"]["contracts"]
                _add(shard, counts, ("contracts", "blocked", "warned"))
                counts["contracts"] = 0
                shard.done_through = chunk[-1]
                return counts

            counts = _retried(tm, attempts, charges, where, "charges", conn)
            if options.debt_control:
                for name, value in _retried(tm, attempts, debts, where + " (debt)",
                                            "debt", conn).items():
                    counts[name] += value
            for name, value in counts.items():
                stats[name] += value
            stats["batches"] += 1
            if progress is not None:
                progress(len(chunk))
            walker.forget(held["loaded"])
            if stop_after_batches and stats["batches"] >= stop_after_batches:
                return stats
            chunk = nxt

        def done():
            shard.finished = True
        _retried(tm, attempts, done, f"bill {period} shard {shard.name}: done")
        memo = shared.memo
        log.info("bill %s shard %s: plain fees computed %d times and looked up %d times, "
                 "%d fees computed the long way", period, shard.name, memo.computed, memo.hits,
                 memo.misses)
    return stats


def _add(shard, counts, names):
    for name in names:
        if counts[name]:
            setattr(shard, name, getattr(shard, name) + counts[name])


def number(db, period, batch=5000, attempts=10):
    """Number the period's drawn invoices (after every shard is done);
    resumable: the cursor moves with each batch of numbers.  The invoice
    buckets are prefetched a batch ahead."""
    total = 0
    tune_worker_storage(db)
    with dbmod.connection(db) as (conn, tm):
        root = get_root(conn.root())
        billing = root["billing"]
        state = billing.runs[period]
        after = state.numbered_through
        start = after[1] if after is not None else ""
        buckets = [b for tree in billing.drawn_trees(period)
                   for b in leaf_buckets(tree, start, "\uffff")]
        ahead = max(1, batch // 10)            # sequential inserts leave buckets half full
        at = 0                                 # the first bucket not gone past
        prefetch(conn, buckets[:ahead])
        while True:
            prefetch(conn, buckets[at + ahead:at + 2 * ahead])

            written_from = state.numbered_through or (period, "")

            def work():
                numbered, last = billing.number_invoices(period, state.numbered_through, batch)
                state.numbered_through = last if last is not None else (period, "\uffff")
                state.numbered += numbered
                return numbered, last
            numbered, last = _retried(tm, attempts, work, f"bill {period}: number invoices")
            total += numbered
            if last is None:
                return total
            # drop the buckets gone past (loaded, so their keys are at hand)
            while at < len(buckets) and (buckets[at]._p_changed is False
                                         and len(buckets[at]) and buckets[at].maxKey() <= last[1]):
                buckets[at]._p_deactivate()    # committed and gone past: memory stays flat
                at += 1
            # the buckets of ``invoices`` just written are big (tens of
            # invoices each) and never read again here: ghost them
            for bucket in leaf_buckets(billing.invoices, written_from, last):
                if bucket._p_changed is False:
                    bucket._p_deactivate()
            conn.cacheGC()


def finish(db, period, now=None, options=None):
    """End the run once every shard is done: promises that ran out, the
    run's totals; returns the shards not done (nothing is finished then)."""
    options = options or Options()

    def work(root):
        billing = root["billing"]
        state = billing.runs[period]
        left = [s.name for s in state.shards if not s.finished]
        if left:
            return left
        if options.debt_control:
            today = clock.day_of(now if now is not None else state.started_us)
            debt.expire_promises(root, billing, today)
        for name in ("contracts", "fees", "invoices", "blocked"):
            setattr(state, name, state.total(name))
        state.finished_us = now_us()
        return []
    return dbmod.transact(db, work, USER, f"bill {period}: finished", attempts=10)


def run(db, period, now=None, batch=2000, options=None, progress=None, restart=False,
        stop_after_batches=None, attempts=10):
    """Bill *period* ('YYYY-MM' or 'YYYY-MM-DD') in this process, every
    shard of its plan one after the other; returns the totals."""
    options = options or Options()
    stats = new_stats()
    shards = start(db, period, now, restart=restart)
    for index in range(shards):
        got = bill_shard(db, period, index, now, batch, options, progress,
                         stop_after_batches and stop_after_batches - stats["batches"], attempts)
        for name, value in got.items():
            stats[name] += value
        if stop_after_batches and stats["batches"] >= stop_after_batches:
            return stats
    stats["numbered"] = number(db, period)
    left = finish(db, period, now, options)
    assert not left, left
    return stats

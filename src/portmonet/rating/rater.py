"""The rater: usage records from ``root.usage`` into ledger charges.

One batch is one transaction: take records, price each, post its charge
(cause ``usage:<source id>``), keep the rated record and remove the record
from the queue -- all committed together.  A crash before the commit leaves
the batch queued and nothing posted; after it, everything is done.  That
is what keeps a record charged once: a record is charged only while it is
queued and not yet rated, and leaves the queue as it is charged, so the
charge needs no entry in the catalog's cause index (the rated record names
its posting; ``model.UsageCauses``).

A rater takes the queue lanes of its shard (``--shard i/n``: lanes l with
l % n == i), and writes only its lanes' trees, the accounts it charges and
the counters (which merge), so raters of different shards run side by
side.
"""
import gc
import itertools
import logging
import time

from ZODB.POSException import ConflictError

from .. import db as dbmod
from ..ledger.account import now_us
from ..model.root import get_root
from ..catalog import normalize
from ..usage import LANE_MASK, LANES, shard_lanes
from . import warm
from .model import RatedRecord, cause_of, reversal_cause
from .pricing import Lookups, RatingError, allowance_prefix, quote
from .warm import BucketFinder
from ..workerstorage import tune_worker_storage

log = logging.getLogger(__name__)
USER = "portmonet rate"


def _rated(key, record, q, generation=0, previous=None, posting=None):
    contract = q.service.__parent__
    amount = q.price.total
    return RatedRecord(
        key=key, record=record, contract=contract.number, account=contract.account.number,
        service=q.service.__name__, tariff=q.tariff.name, version=q.version.number,
        zone=q.zone, rule=q.rule, period=q.period, billed=q.billed, counted=q.counted,
        base=q.price.base, discount=q.price.discount, tax=q.price.tax, amount=amount,
        cause=cause_of(record.source_id, generation) if amount else None,
        generation=generation, previous_amount=previous, rated_us=now_us(), parts=q.parts,
        posting=posting)


def _lane_of(state, key):
    return state.lanes[key & LANE_MASK]


def _quote(root, state, record, lookups=None, lane=None):
    """Price a record without writing anything; RatingError says why not."""
    lane = lane if lane is not None else _lane_of(state, _subject_lane(root, record))
    try:
        return quote(root.catalog, record, lambda key: state.used(key, lane), lookups)
    except RatingError:
        raise
    except ConflictError:
        raise
    except Exception as exc:   # bad data the checks did not foresee: park it
        log.exception("rating %s failed", record.source_id)
        raise RatingError(f"cannot rate: {type(exc).__name__}: {exc}") from exc


def _subject_lane(root, record):
    """The lane of *record*'s contract: where its service's allowance is
    counted (the lane its records queue in)."""
    return root.usage.lane_for(record)


def charge(root, state, key, record, q, lane):
    """Post the charge of a priced record and keep it rated (under its
    key's lane); count its allowance in *lane*, its contract's.  Only for a
    record that leaves the queue (or the error queue) in this transaction
    and is not rated yet: that is what makes the charge once-only."""
    amount = q.price.total
    posting = None
    if amount:
        account = q.service.__parent__.account
        posting = account.post_owned(-amount, "charge", cause_of(record.source_id),
                                     text=_text(record.kind, q.zone, q.rule), user=USER).key
    rated = _rated(key, record, q, posting=posting)
    if q.counted:
        state.count_usage(q.counted, lane)
    state.lanes[key & LANE_MASK].rated[key] = rated
    return rated


def _text(kind, zone, rule):
    return f"{kind} {zone or ''} {rule}".replace("  ", " ")[:120]


def _index_key(record):
    """(index name, key) under which a record's service is found."""
    if record.kind == "call":
        try:
            return "lines", normalize.phone(record.subject)
        except normalize.InvalidValue:
            return None, None
    return "logins", record.subject


def _warm(conn, root, lookups, items):
    """Load what a batch touches in a few round trips instead of one per
    object: the index buckets its keys fall in; then services; their
    contracts; then accounts and allowance buckets; then the accounts'
    ledger trees.  (A contract's other services are loaded only when a
    bundle discount asks for them.)"""
    catalog, state = root.catalog, root["rating"]
    wanted = {"lines": [], "logins": []}
    for _, record in items:
        index, key = _index_key(record)
        if index is not None:
            wanted[index].append(key)
    buckets = []
    for index, keys in wanted.items():
        buckets += BucketFinder(getattr(catalog, index).tree).buckets(keys)
    warm.load(conn, buckets)
    services, traffic = {}, {}
    for key, record in items:
        try:
            service = lookups.service(record)
        except RatingError:
            continue
        services[id(service)] = service
        if record.kind == "traffic" and service.__parent__ is not None:
            traffic.setdefault(key & LANE_MASK, []).append(
                allowance_prefix(service.__parent__, service))
    services = list(services.values())
    warm.load(conn, services)
    contracts = {id(c): c for c in (s.__parent__ for s in services) if c is not None}
    contracts = list(contracts.values())
    warm.load(conn, contracts)
    accounts = [c.account for c in contracts if getattr(c, "account", None) is not None]
    allowance = []
    for lane, prefixes in traffic.items():
        allowance += BucketFinder(state.lanes[lane].allowance).buckets(prefixes)
        if state.allowance:          # counted before the lanes
            allowance += BucketFinder(state.allowance).buckets(prefixes)
    warm.load(conn, accounts + allowance)
    warm.load(conn, [a._tree for a in accounts if a._tree is not None])


def rate_batch(root, limit, conn=None, lanes=None):
    """Rate up to *limit* queued records of *lanes* (default: all) in the
    current transaction."""
    return _rate_batch(root, limit, conn, lanes)[0]


def _rate_batch(root, limit, conn, lanes):
    """(stats, the (key, record) pairs taken)."""
    queue, state = root.usage, root["rating"]
    if not queue.lanes or not state.lanes:
        raise RuntimeError("the usage queue has no lanes: run 'portmonet evolve'")
    lanes = tuple(range(LANES)) if lanes is None else tuple(lanes)
    if conn is not None:
        per_lane = limit // (20 * len(lanes)) + 2
        warm.load(conn, [b for n in lanes
                         for b in BucketFinder(queue.lanes[n].pending).first(per_lane)])
    items = queue.take(limit, lanes)
    lookups = Lookups(root.catalog)
    if conn is not None and items:
        _warm(conn, root, lookups, items)
    stats = {"rated": 0, "parked": 0, "skipped": 0, "amount": 0}
    parked = rated = 0
    for key, record in items:
        lane = state.lanes[key & LANE_MASK]
        if state.is_done(key, lane):
            stats["skipped"] += 1
        else:
            try:
                q = _quote(root, state, record, lookups, lane)
            except RatingError as exc:
                state.park(key, record, str(exc))
                parked += 1
            else:
                stats["amount"] += charge(root, state, key, record, q, lane).amount
                rated += 1
        del queue.lanes[key & LANE_MASK].pending[key]
    if rated:
        state.rated_count.change(rated)
    stats["rated"], stats["parked"] = rated, parked
    stats["taken"] = len(items)
    return stats, items


def _filled_buckets(state, items):
    """The rated-record buckets this batch wrote that the next batches will
    not write again (all but each lane's last): once committed they can
    leave memory.  The connection cache counts a bucket by its pickle
    (~5 KB), but its unpickled records take ten times that, so they would
    fill the process long before the cache thinks it is full."""
    keys = {}
    for key, _ in items:
        keys.setdefault(key & LANE_MASK, []).append(key)
    out = []
    for lane, lane_keys in keys.items():
        tree = state.lanes[lane].rated
        finder = BucketFinder(tree)
        last = finder.bucket(tree.maxKey()) if tree else None
        out += [b for b in finder.buckets(lane_keys) if b is not last]
    return out


def retry_errors(root, limit, after=None):
    """Rate parked records again; returns (stats, last key seen)."""
    state = root["rating"]
    stats = {"rated": 0, "parked": 0}
    last = None
    items = list(itertools.islice(state.parked_items(after, after is not None), limit))
    for key, parked in items:
        last = key
        if state.find(parked.record.source_id) is not None:
            state.unpark(key)
            continue
        try:
            q = _quote(root, state, parked.record)
        except RatingError as exc:
            state.park(key, parked.record, str(exc))
            stats["parked"] += 1
            continue
        state.unpark(key)
        # Unparked and rated in this transaction, so charged once (as in
        # rate_batch, the rated record is the charge's index).
        lane = _lane_of(state, _subject_lane(root, parked.record))
        state.rated_count.change(1)
        charge(root, state, key, parked.record, q, lane)
        stats["rated"] += 1
    return stats, last


def rerate(root, contract_number=None, start_us=None, end_us=None, user=USER, tariff=None,
           after=None, limit=None):
    """Rate the records of [start, end) of a contract and/or a tariff again
    against the tariffs as they are now; a changed price reverses the old
    charge and posts the new one.  Works on at most *limit* records after
    the arrival key *after* (callers commit chunk by chunk).  Returns
    {"records", "changed", "old", "new", "failed", "last"}."""
    state = root["rating"]
    records = state.select(start_us, end_us, contract_number, tariff, after, limit)
    def lane(record):
        return _lane_of(state, _subject_lane(root, record))

    # Give back the allowance these records used so they count again in order.
    for old in records:
        state.count_usage(old.counted, lane(old.record), -1)
    out = {"records": len(records), "changed": 0, "old": 0, "new": 0, "failed": [],
           "last": records[-1].key if records else None}
    for old in records:
        try:
            q = _quote(root, state, old.record)
        except RatingError as exc:
            state.count_usage(old.counted, lane(old.record))
            out["failed"].append((old.source_id, str(exc)))
            out["old"] += old.amount
            out["new"] += old.amount
            continue
        generation = old.generation
        new_amount = q.price.total
        if new_amount != old.amount:
            generation += 1
            account = root.catalog.accounts.get(old.account)
            sid = old.source_id
            if old.amount:
                account.post(old.amount, "correction", reversal_cause(sid, generation),
                             text=f"re-rating {sid}: reversal", user=user)
            if new_amount:
                account.post(-new_amount, "charge", cause_of(sid, generation),
                             text=f"re-rating {sid}: {q.rule}"[:120], user=user)
            out["changed"] += 1
        state.count_usage(q.counted, lane(old.record))
        state.keep(_rated(old.key, old.record, q, generation, old.amount, old.posting))
        out["old"] += old.amount
        out["new"] += new_amount
    return out


# The rater's connection cache: its accounts, services and contracts stay
# loaded between batches; the bytes bound lets the rated-record and ledger
# buckets it wrote (and will not read again) go first.
CACHE_OBJECTS = 1_000_000
CACHE_BYTES = 600 * 2**20


def tune_worker_gc():
    """Collect young objects every 100,000 allocations instead of 700: a
    batch allocates and keeps hundreds of thousands (records, prices,
    unpickled states) that the default thresholds scanned again and again
    (13 % of the rater's CPU)."""
    gc.set_threshold(100_000, 50, 100)


def run(db, batch=5000, once=False, idle=1.0, max_seconds=None, echo=None, attempts=10,
        shard=(0, 1), cache_objects=CACHE_OBJECTS, cache_bytes=CACHE_BYTES):
    """The worker loop; returns totals.  ``once`` stops when the queue's
    lanes of *shard* ``(i, n)`` are empty."""
    tune_worker_gc()
    db.setCacheSize(cache_objects)
    db.setCacheSizeBytes(cache_bytes)
    lanes = shard_lanes(*shard)
    totals = {"rated": 0, "parked": 0, "skipped": 0, "batches": 0, "conflicts": 0}
    started = time.monotonic()
    tune_worker_storage(db)
    with dbmod.connection(db) as (conn, tm):
        conflicts = 0
        while max_seconds is None or time.monotonic() - started < max_seconds:
            tm.begin()
            try:
                root = get_root(conn.root())
                stats, items = _rate_batch(root, batch, conn, lanes)
                if not stats["taken"]:
                    tm.abort()
                    if once:
                        break
                    time.sleep(idle)
                    continue
                dbmod.commit(tm, USER, f"rate {stats['taken']} usage records")
            except ConflictError:
                tm.abort()
                conflicts += 1
                totals["conflicts"] += 1
                if conflicts > attempts:
                    raise
                time.sleep(0.05 * conflicts)
                continue
            conflicts = 0
            totals["batches"] += 1
            for name in ("rated", "parked", "skipped"):
                totals[name] += stats[name]
            for bucket in _filled_buckets(root["rating"], items):
                if bucket._p_changed is False:      # saved, not ghost: let it go
                    bucket._p_deactivate()
            if echo is not None:
                echo(stats)
            conn.cacheGC()
    return totals

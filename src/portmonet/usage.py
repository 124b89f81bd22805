"""The usage queue: what collectors (RADIUS accounting, NetFlow, CDR files,
TV/content events) append and the rater consumes.

Records wait in one of ``LANES`` lanes, chosen by a hash of the number of
the contract the subject (a login, a telephone number) belongs to -- of the
subject itself when it belongs to none --, each lane a tree of its own: so
several raters can each take their own lanes (``portmonet rate --shard
i/n``) and charge their own accounts without touching each other's
objects, and collectors appending at once spread over sixteen tails
instead of one.  Keys are time-based (µs
<< 8) with 4 random bits and the lane in the low 4 bits: a key names its
lane, keys of a lane sort by arrival, and BTree buckets merge concurrent
inserts of different keys (two collectors conflict only when both split
the same lane's last bucket in the same moment; ``db.transact`` retries
them).  Databases from before the lanes keep their records in
``pending`` until the evolve step ``rating-02-lanes`` moves them.  A record's ``source_id`` (e.g.
``radius:<nas>:<Acct-Session-Id>:<n>``, ``cdr:<file>:<line>``) is unique:
offering it again is a no-op, so a retransmitted packet or a re-read file
never makes a second record.
"""
import heapq
import itertools
import pickle
import random
import zlib

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .ledger.account import now_us

_random = random.SystemRandom()
KINDS = ("traffic", "session", "call", "tv", "content")
LANE_BITS = 4
LANES = 1 << LANE_BITS
LANE_MASK = LANES - 1


def lane_of(subject):
    """The lane of a subject's records (stable across processes and runs)."""
    return zlib.crc32(subject.encode("utf-8", "surrogatepass")) & LANE_MASK


def lane_of_key(key):
    return key & LANE_MASK


def contract_of(catalog, record):
    """The contract whose service *record* is usage of, or None (unknown
    subjects are parked by the rater; their lane is the subject's)."""
    from .catalog import normalize
    if record.kind == "call":
        try:
            service = catalog.lines.get(normalize.phone(record.subject))
        except normalize.InvalidValue:
            return None
    else:
        service = catalog.logins.get(record.subject)
        if service is None and record.kind in ("tv", "content"):
            return catalog.contracts.get(record.subject)
    return getattr(service, "__parent__", None)


def shard_lanes(shard, shards):
    """The lanes rater *shard* of *shards* takes (``--shard i/n``)."""
    if not 1 <= shards <= LANES or not 0 <= shard < shards:
        raise ValueError(f"shard {shard}/{shards}: 0 <= i < n <= {LANES} expected")
    return tuple(lane for lane in range(LANES) if lane % shards == shard)


def make_lanes(parent, lane_class):
    """One *lane_class* per lane number, each under *parent* (the queue's
    lanes, the rating's)."""
    lanes = tuple(lane_class(n) for n in range(LANES))
    for lane in lanes:
        lane.__parent__ = parent
    return lanes


class UsageRecord:
    """An immutable usage record, stored inline in the queue's BTree.

    ``subject`` names who used it: an Internet login, a telephone number.
    ``quantities``: e.g. {"octets_in": n, "octets_out": n, "seconds": n}
    (ints); ``attrs``: anything else the rater needs (NAS, destination
    number, traffic class, content id).
    """

    __slots__ = ("source_id", "kind", "subject", "start_us", "end_us", "quantities", "attrs")

    def __init__(self, source_id, kind, subject, start_us, end_us, quantities=None, attrs=None):
        if kind not in KINDS:
            raise ValueError(f"unknown usage kind {kind!r}")
        if not source_id or not subject:
            raise ValueError("a usage record needs a source id and a subject")
        for q in (quantities or {}).values():
            if not isinstance(q, int) or q < 0:
                raise ValueError("usage quantities are non-negative ints")
        values = (source_id, kind, subject, int(start_us), int(end_us),
                  dict(quantities or {}), dict(attrs or {}))
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("usage records are immutable")

    def _order(self):
        return (self.source_id, self.start_us, self.end_us)

    # Stored as BTree values: BTrees' C conflict resolution compares values
    # with '<' and '==', so concurrent enqueues merge only if records order.
    def __eq__(self, other):
        return isinstance(other, UsageRecord) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __lt__(self, other):
        return self._order() < other._order()

    def __hash__(self):
        return hash(self.source_id)

    def __reduce__(self):
        # One bytes value instead of ~20 objects for ZODB's pickler to visit
        # (a lane's head bucket is rewritten by every batch that takes part
        # of it); records stored as (UsageRecord, values) still load.
        return (_unpack, (pickle.dumps(self._values(), 5),))

    def _values(self):
        return (self.source_id, self.kind, self.subject, self.start_us, self.end_us,
                self.quantities, self.attrs)

    def __repr__(self):
        return f"<UsageRecord {self.source_id} {self.kind} {self.subject}>"


def _unpack(data):
    record = UsageRecord.__new__(UsageRecord)
    for name, value in zip(UsageRecord.__slots__, pickle.loads(data)):
        object.__setattr__(record, name, value)
    return record


class UsageLane(Persistent):
    """One lane of the queue: its pending records by arrival key."""

    def __init__(self, number):
        self.number = number
        self.__name__ = str(number)
        self.pending = LOBTree()     # arrival key -> UsageRecord


class UsageQueue(Persistent):
    """``root.usage``: pending records by lane and arrival key, and every
    source id seen."""

    __name__ = "usage"
    __parent__ = None
    lanes = ()                       # before the evolve step: none, all in pending

    def __init__(self):
        self.pending = LOBTree()     # records queued before the lanes (evolve moves them)
        self.seen = OOBTree()        # source_id -> arrival key (kept after rating)
        self.add_lanes()

    def add_lanes(self):
        """Make the lanes (once) and move records queued before them there."""
        if not self.lanes:
            self.lanes = make_lanes(self, UsageLane)
        for key, record in list(self.pending.items()):
            del self.pending[key]
            self.seen[record.source_id] = self._put(record, key >> 8)

    def lane_for(self, record):
        """The lane of *record*: its contract's, so that one rater charges
        each account."""
        catalog = getattr(self.__parent__, "catalog", None)
        contract = contract_of(catalog, record) if catalog is not None else None
        return lane_of(contract.number if contract is not None else record.subject)

    def _put(self, record, time_us):
        lane = self.lane_for(record)
        tree = self.lanes[lane].pending
        key = (time_us << 8) | (_random.getrandbits(LANE_BITS) << LANE_BITS) | lane
        while key in tree:
            key += LANES
        tree[key] = record
        return key

    def enqueue(self, record):
        """Append once per source id; returns True if the record is new."""
        if record.source_id in self.seen:
            return False
        if self.lanes:
            key = self._put(record, now_us())
        else:                        # not evolved yet
            key = (now_us() << 8) | _random.getrandbits(8)
            while key in self.pending:
                key += 1
            self.pending[key] = record
        self.seen[record.source_id] = key
        return True

    def pending_trees(self, lanes=None):
        """The pending trees of *lanes* (default: all, and the old queue)."""
        if lanes is None:
            return [self.pending] + [lane.pending for lane in self.lanes]
        return [self.lanes[n].pending for n in lanes]

    def items(self, lanes=None):
        """Pending (key, record) pairs of *lanes* in arrival order."""
        trees = [t for t in self.pending_trees(lanes) if t]
        if len(trees) == 1:
            return iter(trees[0].items())
        return heapq.merge(*(t.items() for t in trees), key=_first)

    def take(self, limit, lanes=None):
        """The oldest pending (key, record) pairs of *lanes*, up to *limit*
        (not removed): each lane's in arrival order, lane after lane -- a
        subject's records are all in one lane, so its order is kept, and
        the order between lanes means nothing."""
        trees = [[t, None] for t in self.pending_trees(lanes) if t]   # tree, last key taken
        out = []
        while trees and len(out) < limit:
            share = -(-(limit - len(out)) // len(trees))
            more = []
            for cursor in trees:
                tree, last = cursor
                got = list(itertools.islice(tree.items(last, None, excludemin=last is not None),
                                            min(share, limit - len(out))))
                out.extend(got)
                if got and len(got) == share:
                    cursor[1] = got[-1][0]
                    more.append(cursor)
            trees = more
        return out

    def count(self, lanes=None):
        return sum(len(t) for t in self.pending_trees(lanes))

    def tree_of(self, key):
        """The pending tree that holds (or would hold) *key*."""
        if self.lanes and key not in self.pending:
            return self.lanes[key & LANE_MASK].pending
        return self.pending

    def done(self, key):
        """Remove a record from the pending queue once it is rated (or parked)."""
        del self.tree_of(key)[key]


def _first(item):
    return item[0]


def usage_queue(root):
    return root.usage

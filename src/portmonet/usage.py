"""The usage queue: what collectors (RADIUS accounting, NetFlow, CDR files,
TV/content events) append and the rater consumes.

Appends from several processes do not conflict: keys are time-based with
random low bits, so concurrent writers land in different slots (and BTree
buckets merge inserts of different keys).  A record's ``source_id`` (e.g.
``radius:<nas>:<Acct-Session-Id>:<n>``, ``cdr:<file>:<line>``) is unique:
offering it again is a no-op, so a retransmitted packet or a re-read file
never makes a second record.
"""
import random

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .ledger.account import now_us

_random = random.SystemRandom()
KINDS = ("traffic", "session", "call", "tv", "content")


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
        return (UsageRecord, tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self):
        return f"<UsageRecord {self.source_id} {self.kind} {self.subject}>"


class UsageQueue(Persistent):
    """``root.usage``: pending records by arrival key, and every source id seen."""

    __name__ = "usage"
    __parent__ = None

    def __init__(self):
        self.pending = LOBTree()     # arrival key -> UsageRecord
        self.seen = OOBTree()        # source_id -> arrival key (kept after rating)

    def enqueue(self, record):
        """Append once per source id; returns True if the record is new."""
        if record.source_id in self.seen:
            return False
        key = (now_us() << 8) | _random.getrandbits(8)
        while key in self.pending:
            key += 1
        self.pending[key] = record
        self.seen[record.source_id] = key
        return True

    def take(self, limit):
        """The oldest pending (key, record) pairs, up to *limit* (not removed)."""
        out = []
        for item in self.pending.items():
            out.append(item)
            if len(out) >= limit:
                break
        return out

    def done(self, key):
        """Remove a record from the pending queue once it is rated (or parked)."""
        del self.pending[key]


def usage_queue(root):
    return root.usage

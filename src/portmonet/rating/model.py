"""``/rating``: rated records, the error queue, Internet allowances used.

A rated record keeps the usage record it came from and everything that
explains its price (tariff, version, zone, rule, period), so a charge can be
explained and re-rated.  Rated and parked records are stored inline under the
usage queue's arrival key: the rater takes records in that order, so a batch
appends to the last buckets instead of rewriting buckets all over a tree
(which made every commit pickle most of the tree).  ``root.usage.seen``
already maps a source id to its arrival key.
"""
import datetime

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..ledger.account import now_us
from .interfaces import IRating


def cause_of(source_id, generation=0):
    """The ledger cause of a record's charge (generation n after n re-ratings)."""
    return f"usage:{source_id}" if not generation else f"usage:{source_id}#r{generation}"


def reversal_cause(source_id, generation):
    return f"usage:{source_id}#r{generation}-reversal"


class RatedRecord:
    """An immutable rated record (stored inline)."""

    __slots__ = ("key", "record", "contract", "account", "service", "tariff", "version", "zone",
                 "rule", "period", "billed", "counted", "base", "discount", "tax", "amount",
                 "cause", "generation", "previous_amount", "rated_us", "parts")

    def __init__(self, **values):
        for name in self.__slots__:
            object.__setattr__(self, name, values.get(name))

    def __setattr__(self, name, value):
        raise AttributeError("rated records are immutable")

    def __reduce__(self):
        return (_rebuild, (tuple(getattr(self, n) for n in self.__slots__),))

    @property
    def source_id(self):
        return self.record.source_id

    @property
    def kind(self):
        return self.record.kind

    def explain(self):
        r = self.record
        text = (f"{r.source_id}: {r.kind} of {r.subject} {dict(r.quantities)} -> "
                f"{self.amount} (base {self.base}, discount {self.discount}, tax {self.tax}) "
                f"by {self.tariff} v{self.version} zone {self.zone or '-'} "
                f"period {self.period} rule {self.rule}")
        for start, end, tariff, version, zone, period, rule, billed, amount in self.parts or ():
            text += (f"\n  piece {_utc(start)}..{_utc(end)}: {tariff} v{version} "
                     f"zone {zone or '-'} period {period} rule {rule} billed {billed} -> {amount}")
        return text


def _utc(us):
    return datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S")


def _rebuild(values):
    rated = RatedRecord.__new__(RatedRecord)
    # records stored before a slot was added have fewer values
    values = tuple(values) + (None,) * (len(RatedRecord.__slots__) - len(values))
    for name, value in zip(RatedRecord.__slots__, values):
        object.__setattr__(rated, name, value)
    return rated


class ParkedRecord:
    """A record that could not be rated, with the reason (inline, immutable)."""

    __slots__ = ("key", "record", "reason", "parked_us", "attempts")

    def __init__(self, key, record, reason, parked_us, attempts=1):
        for name, value in zip(self.__slots__, (key, record, reason, parked_us, attempts)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("parked records are immutable")

    def __reduce__(self):
        return (ParkedRecord, tuple(getattr(self, n) for n in self.__slots__))


@implementer(IRating)
class Rating(Persistent):
    """``root["rating"]``."""

    __name__ = "rating"
    __parent__ = None
    title = "Rating"

    def __init__(self):
        self.rated = LOBTree()          # arrival key -> RatedRecord
        self.errors = LOBTree()         # arrival key -> ParkedRecord
        self.allowance = OOBTree()      # "contract/service/rule/YYYY-MM" -> bytes used
        self.rated_count = Length()
        self.error_count = Length()

    def used(self, key):
        return self.allowance.get(key, 0)

    def count_usage(self, counted, sign=1):
        for key, volume in counted:
            self.allowance[key] = self.allowance.get(key, 0) + sign * volume

    def _key_of(self, source_id):
        return self.__parent__.usage.seen.get(source_id)

    def find(self, source_id):
        """The rated record of a source id, or None."""
        key = self._key_of(source_id)
        return self.rated.get(key) if key is not None else None

    def find_parked(self, source_id):
        key = self._key_of(source_id)
        return self.errors.get(key) if key is not None else None

    def keep(self, rated):
        if rated.key not in self.rated:
            self.rated_count.change(1)
        self.rated[rated.key] = rated

    def park(self, key, record, reason):
        held = self.errors.get(key)
        if held is None:
            self.error_count.change(1)
        attempts = held.attempts + 1 if held is not None else 1
        self.errors[key] = ParkedRecord(key, record, reason, now_us(), attempts)

    def unpark(self, key):
        del self.errors[key]
        self.error_count.change(-1)

    def select(self, start_us=None, end_us=None, contract=None, tariff=None, after=None,
               limit=None):
        """Rated records of usage in [start, end), of a contract and/or a
        tariff, in arrival order after the key *after*, at most *limit*.

        A scan from the arrival time of *start* on (usage arrives after it
        happens): re-rating is rare, and an index by contract would rewrite a
        bucket all over a big tree for every record rated (it cost the rater
        about a third of its time).
        """
        lo = None if start_us is None else start_us << 8
        exclude = False
        if after is not None and (lo is None or after >= lo):
            lo, exclude = after, True
        out = []
        for rated in self.rated.values(lo, None, excludemin=exclude):
            start = rated.record.start_us
            if (contract is None or rated.contract == contract) \
                    and (tariff is None or rated.tariff == tariff) \
                    and (start_us is None or start >= start_us) \
                    and (end_us is None or start < end_us):
                out.append(rated)
                if limit is not None and len(out) >= limit:
                    break
        return out

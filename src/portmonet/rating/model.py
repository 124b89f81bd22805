"""``/rating``: rated records, the error queue, Internet allowances used.

A rated record keeps the usage record it came from and everything that
explains its price (tariff, version, zone, rule, period), so a charge can be
explained and re-rated.  Rated and parked records are stored inline under the
usage queue's arrival key, in the lane of the queue the record came from
(``RatingLane``): the rater takes records in that order, so a batch appends
to the last buckets of its own lanes, and raters of other lanes write other
objects.  ``root.usage.seen`` already maps a source id to its arrival key,
and the key names its lane.  Records rated before the lanes stay in the
``rated`` / ``errors`` / ``allowance`` trees of ``Rating`` itself.

The usage charge (cause ``usage:<source id>``) is not in the catalog's
cause index: the record leaves the queue and its rated record (which names
the account and the posting key) is kept in the transaction that posts it,
so the rated record is the index.  ``UsageCauses`` answers the ledger's
``find_cause`` / ``post`` through ``usage.seen`` -> rated record.
"""
import heapq
import pickle

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import clock
from ..ledger.account import CAUSE_OWNERS, now_us
from ..model.lineage import find_root
from ..usage import LANE_MASK, UsageRecord, make_lanes
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
                 "cause", "generation", "previous_amount", "rated_us", "parts", "posting")

    def __init__(self, **values):
        for name in self.__slots__:
            object.__setattr__(self, name, values.get(name))

    def __setattr__(self, name, value):
        raise AttributeError("rated records are immutable")

    def __reduce__(self):
        # One bytes value instead of ~40 objects that ZODB's pickler would
        # ask persistent_id about one by one (the commit's main cost).
        values = [getattr(self, n) for n in self.__slots__]
        values[1] = values[1]._values()
        return (_unpack, (pickle.dumps(tuple(values), 5),))

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
            text += (f"\n  piece {clock.stamp(start)}..{clock.stamp(end)}: {tariff} v{version} "
                     f"zone {zone or '-'} period {period} rule {rule} billed {billed} -> {amount}")
        return text


def _unpack(data):
    values = list(pickle.loads(data))
    values[1] = UsageRecord(*values[1])
    return _rebuild(values)


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


class AllowanceTree(OOBTree):
    """Allowance counters in small buckets: each traffic record rewrites
    the bucket of its service's counter, and a bucket pickles all its
    keys and counts again (OOBTree's default holds up to 30)."""
    max_leaf_size = 8


class RatingLane(Persistent):
    """What the rater of one queue lane writes: rated and parked records,
    and the allowances its services used."""

    def __init__(self, number):
        self.number = number
        self.__name__ = str(number)
        self.rated = LOBTree()          # arrival key -> RatedRecord
        self.errors = LOBTree()         # arrival key -> ParkedRecord
        self.allowance = AllowanceTree()  # "contract/service/rule/YYYY-MM" -> bytes used


@implementer(IRating)
class Rating(Persistent):
    """``root["rating"]``."""

    __name__ = "rating"
    __parent__ = None
    title = "Rating"
    lanes = ()                      # before the evolve step

    def __init__(self):
        # before the lanes: kept for records rated then
        self.rated = LOBTree()
        self.errors = LOBTree()
        self.allowance = OOBTree()
        self.rated_count = Length()
        self.error_count = Length()
        self.add_lanes()

    def add_lanes(self):
        if not self.lanes:
            self.lanes = make_lanes(self, RatingLane)

    def lane(self, key):
        return self.lanes[key & LANE_MASK]

    # -- allowances: what a service used this month ------------------------
    def used(self, key, lane=None):
        """Bytes used under allowance *key* (counted in *lane*, the lane of
        the service's records -- any lane if not given -- plus what was
        counted before the lanes)."""
        lanes = (lane,) if lane is not None else self.lanes
        return sum(n.allowance.get(key, 0) for n in lanes) + self.allowance.get(key, 0)

    def count_usage(self, counted, lane, sign=1):
        tree = lane.allowance
        for key, volume in counted:
            tree[key] = tree.get(key, 0) + sign * volume

    # -- finding ---------------------------------------------------------
    def _trees(self, key, name):
        trees = (getattr(self, name),)
        if self.lanes:
            trees = (getattr(self.lane(key), name),) + trees
        return trees

    def _find(self, source_id, name):
        key = self.__parent__.usage.seen.get(source_id)
        if key is None:
            return None
        for tree in self._trees(key, name):
            found = tree.get(key)
            if found is not None and found.record.source_id == source_id:
                return found
        return None

    def find(self, source_id):
        """The rated record of a source id, or None."""
        return self._find(source_id, "rated")

    def find_parked(self, source_id):
        return self._find(source_id, "errors")

    def is_done(self, key, lane):
        """Rated or parked already (a record offered twice is skipped)."""
        return key in lane.rated or key in lane.errors

    # -- writing -----------------------------------------------------------
    def _tree_for(self, key, name):
        """Where a record of *key* lives: the old tree if it is there."""
        old = getattr(self, name)
        if not self.lanes or key in old:
            return old
        return getattr(self.lane(key), name)

    def keep(self, rated):
        tree = self._tree_for(rated.key, "rated")
        if rated.key not in tree:
            self.rated_count.change(1)
        tree[rated.key] = rated

    def park(self, key, record, reason):
        tree = self._tree_for(key, "errors")
        held = tree.get(key)
        if held is None:
            self.error_count.change(1)
        attempts = held.attempts + 1 if held is not None else 1
        tree[key] = ParkedRecord(key, record, reason, now_us(), attempts)

    def unpark(self, key):
        del self._tree_for(key, "errors")[key]
        self.error_count.change(-1)

    # -- reading in order ----------------------------------------------------
    def _merged(self, name, lo=None, excludemin=False):
        trees = [getattr(self, name)] + [getattr(lane, name) for lane in self.lanes]
        return heapq.merge(*(t.items(lo, None, excludemin=excludemin) for t in trees if t),
                           key=_first)

    def rated_items(self, lo=None, excludemin=False):
        """(key, RatedRecord) of every lane in arrival order from key *lo*."""
        return self._merged("rated", lo, excludemin)

    def parked_items(self, lo=None, excludemin=False):
        return self._merged("errors", lo, excludemin)

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
        for _, rated in self.rated_items(lo, exclude):
            start = rated.record.start_us
            if (contract is None or rated.contract == contract) \
                    and (tariff is None or rated.tariff == tariff) \
                    and (start_us is None or start >= start_us) \
                    and (end_us is None or start < end_us):
                out.append(rated)
                if limit is not None and len(out) >= limit:
                    break
        return out


def _first(item):
    return item[0]


class UsageCauses:
    """The ledger's way to a usage charge that is not in the cause index:
    ``usage:<source id>`` -> the rated record -> (account, posting key).
    Re-rating's causes (``...#r<n>``) are in the index as usual."""

    prefix = "usage:"

    def owns(self, cause):
        return cause.startswith(self.prefix) and "#" not in cause

    def where(self, account, cause):
        root = find_root(account)
        rating = root.get("rating") if root is not None else None
        if rating is None:
            return None
        rated = rating.find(cause[len(self.prefix):])
        if rated is None or rated.posting is None:
            return None
        return rated.account, rated.posting


if not any(isinstance(o, UsageCauses) for o in CAUSE_OWNERS):
    CAUSE_OWNERS.append(UsageCauses())

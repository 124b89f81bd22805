"""The personal account: a balance kept beside an immutable ledger.

Concurrency: the rater charging and a cashier crediting the same account at
once must both land.  The balance lives on the account and
``_p_resolveConflict`` merges concurrent changes to it (as
``BTrees.Length`` does).

The ledger is kept in two parts: the newest postings inline in the account
(at most ``INLINE_MAX``), the rest in a ``LOBTree`` whose buckets merge
inserts of different keys.  A new posting goes inline; when the inline part
is full, it moves into the tree at once.  So a posting rewrites the account
(which its balance changes anyway) and only every ``INLINE_MAX + 1``-th one
rewrites a bucket of the tree: the rater's charges, one per record, cost
one object written instead of two.  Inline postings of concurrent writers
are merged like the balance.  Keys are time-based with random low bits, so
two writers never pick the same key.  A movement that must not overdraw
asks for ``readCurrent`` so ZODB refuses a stale decision.

The account's plain values and inline postings are pickled as one bytes
value (``_packed``): ZODB's pickler calls back into Python for every object
it writes, and the account is written with every posting.
"""
import os
import pickle
import random

from BTrees.LOBTree import LOBTree
from persistent import Persistent
from ZODB.POSException import ConflictError
from zope.interface import implementer

from ..clock import now_us  # noqa: F401  (re-exported: the one clock)
from ..interfaces import IAccount
from ..money import check_currency, DEFAULT_CURRENCY
from ..model.indexing import Indexed
from ..model.lineage import find_catalog
from .posting import Posting, validate
from .view import LedgerView

_random = random.SystemRandom()
# The low bits of posting keys: unpredictable across processes is enough
# (asking the OS for them was 1 % of the rater); a forked child reseeds.
_key_bits = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_key_bits.seed)

# Causes that the feature posting them keeps once itself instead of the
# cause index: the rater's usage charges (a usage record leaves the queue
# and its rated record is kept in the transaction that charges it; one
# index entry per record rewrote a bucket of the big index each time).
# Objects with ``owns(cause) -> bool`` and ``where(account, cause) ->
# (account number, posting key) or None``.
CAUSE_OWNERS = []


def owner_of(cause):
    for owner in CAUSE_OWNERS:
        if owner.owns(cause):
            return owner
    return None


class InsufficientFunds(ValueError):
    pass


class LedgerTree(LOBTree):
    """A ledger's postings by key in small buckets: postings are appended
    (keys grow with time), so a new posting rewrites the last bucket, and
    the bucket's size is how many postings each posting pickles again
    (LOBTree's default holds up to 120)."""
    max_leaf_size = 32


@implementer(IAccount)
class Account(Indexed, Persistent):

    __name__ = "account"
    __parent__ = None
    _guard = 0
    _inline = ()           # the newest postings, by key
    _tree = None           # LOBTree(key -> Posting): the older ones
    INLINE_MAX = 8
    title = "Personal account"

    def __init__(self, number, currency=DEFAULT_CURRENCY, credit_limit=0):
        self.number = self._normalize_number(number)
        self.currency = check_currency(currency)
        self.credit_limit = self._normalize_credit_limit(credit_limit)
        self._balance = 0

    # -- validation -------------------------------------------------------
    @staticmethod
    def _normalize_number(value):
        value = str(value).strip()
        if not value.isdigit() or not 4 <= len(value) <= 20:
            raise ValueError(f"account number {value!r}: 4 to 20 digits expected")
        return value

    @staticmethod
    def _normalize_credit_limit(value):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("credit limit is a non-negative int of minor units")
        return value

    def _index_entries(self):
        return {("accounts", self.number, self)}

    # -- money ------------------------------------------------------------
    @property
    def balance(self):
        return self._balance

    @property
    def available(self):
        """What may still be spent: balance plus credit limit."""
        return self._balance + self.credit_limit

    def _where(self, catalog, cause):
        where = catalog.causes.get(cause)
        if where is None:
            owner = owner_of(cause)
            if owner is not None:
                where = owner.where(self, cause)
        return where

    def find_cause(self, cause):
        catalog = find_catalog(self)
        where = self._where(catalog, cause) if catalog is not None else None
        if where is None:
            return None
        number, key = where
        if number != self.number:
            raise ValueError(f"cause {cause!r} is posted on account {number}")
        return self.posting(key)

    def post(self, amount, kind, cause, text="", user="", when=None,
             must_not_overdraw=False):
        """Post once per cause; returns ``(posting, created)``.

        Posting a cause that is already posted is a no-op that returns the
        first posting (``created`` False), so a retried input changes nothing.
        """
        validate(amount, kind, cause)
        catalog = find_catalog(self)
        if catalog is None:
            raise ValueError("an account must be in the tree before posting")
        where = self._where(catalog, cause)
        if where is not None:
            number, key = where
            if number != self.number:
                raise ValueError(f"cause {cause!r} is already posted on account {number}")
            return self.posting(key), False
        if must_not_overdraw:
            self.decide_on_balance()
            if amount < 0 and self.available + amount < 0:
                raise InsufficientFunds(
                    f"account {self.number}: {-amount} needed, {self.available} available")
        when = now_us() if when is None else when
        key = self._free_key(when)
        posting = Posting(key, when, amount, kind, cause, text, user)
        self._store(posting)
        catalog.causes[cause] = (self.number, key)
        self._balance += amount
        return posting, True

    def post_owned(self, amount, kind, cause, text="", user="", when=None):
        """Post a movement whose cause its owner (``CAUSE_OWNERS``) keeps
        once itself: not entered in the cause index, not looked up there.
        Returns the posting.  Only for the owner's own once-only path; any
        other caller uses :meth:`post`, which asks the owner."""
        validate(amount, kind, cause)
        when = now_us() if when is None else when
        posting = Posting(self._free_key(when), when, amount, kind, cause, text, user)
        self._store(posting)
        self._balance += amount
        return posting

    def decide_on_balance(self):
        """Call before a decision that depends on the balance (a transfer, a
        refund of at most the balance): the commit then fails instead of
        merging if another transaction changed this account meanwhile."""
        if self._p_jar is not None:
            self._p_jar.readCurrent(self)
        # A written object skips readCurrent's check and goes to conflict
        # resolution instead; a fresh guard value makes two such decisions on
        # the same balance a conflict that is never merged.
        self._guard = _random.getrandbits(63)

    def _free_key(self, when):
        while True:
            key = (when << 8) | _key_bits.getrandbits(8)
            if not self._has_key(key):
                return key

    def _has_key(self, key):
        return any(p.key == key for p in self._inline) or (
            self._tree is not None and key in self._tree)

    def _store(self, posting):
        inline = tuple(sorted(self._inline + (posting,), key=_by_key))
        if len(inline) > self.INLINE_MAX:
            if self._tree is None:
                self._tree = LedgerTree()
            self._tree.update([(p.key, p) for p in inline])
            inline = ()
        self._inline = inline

    def posting(self, key):
        return self.ledger[key]

    @property
    def ledger(self):
        """The postings (key -> Posting) for reading, with the LOBTree calls
        readers use: ranges, ``maxKey`` for newest-first pages.  Post only
        with :meth:`post`."""
        if self._tree is not None and not self._inline:
            return self._tree
        return LedgerView(self._tree, self._inline)

    @property
    def ledger_tree(self):
        """The persistent part of the ledger (None while all is inline),
        for loaders that prefetch it."""
        return self._tree

    def postings(self, start_us=None, end_us=None):
        """Postings in time order, optionally within [start, end) in epoch µs."""
        lo = None if start_us is None else start_us << 8
        hi = None if end_us is None else (end_us << 8) - 1
        return self.ledger.values(lo, hi)

    def __len__(self):
        return len(self._inline) + (len(self._tree) if self._tree is not None else 0)

    def __bool__(self):
        return True

    def ledger_sum(self):
        return sum(p.amount for p in self.postings())

    # -- pickling ----------------------------------------------------------
    def __getstate__(self):
        return _pack(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(_unpack(state))

    # -- conflict resolution ---------------------------------------------
    def _p_resolveConflict(self, old, committed, new):
        """Merge concurrent postings: balance deltas add up; any other
        attribute changed on both sides differently is a real conflict."""
        old, committed, new = _unpack(old), _unpack(committed), _unpack(new)
        names = set(old) | set(committed) | set(new)
        merged = {}
        for name in names:
            was, theirs, ours = (s.get(name, _MISSING) for s in (old, committed, new))
            if name == "_balance":
                merged[name] = theirs + ours - was
            elif name == "_inline" and theirs != ours:
                merged[name] = _merge_inline(was, theirs, ours)
            elif theirs == ours or was == ours:
                merged[name] = theirs
            elif was == theirs:
                merged[name] = ours
            else:
                raise ConflictError
        return _pack({k: v for k, v in merged.items() if v is not _MISSING})


# Plain values packed into one bytes value (persistent references, and any
# attribute a subclass adds, stay as they are).
PACKED = ("number", "currency", "credit_limit", "_balance", "_guard", "_inline")


def _pack(state):
    state = dict(state)
    plain = {name: state.pop(name) for name in PACKED if name in state}
    if "_inline" in plain:
        plain["_inline"] = tuple(p._values() for p in plain["_inline"])
    state["_packed"] = pickle.dumps(plain, 5)
    return state


def _unpack(state):
    """The attributes of a state, packed (as written now) or not (before)."""
    if "_packed" not in state:
        return state
    state = dict(state)
    plain = pickle.loads(state.pop("_packed"))
    if "_inline" in plain:
        plain["_inline"] = tuple(Posting(*values) for values in plain["_inline"])
    state.update(plain)
    return state


_MISSING = object()


def _by_key(posting):
    return posting.key


def _merge_inline(was, theirs, ours):
    """Both sides appended postings to the same inline ledger: keep all.
    If either side removed one (it moved the ledger into a tree), that is a
    real conflict: the retry will post into the tree."""
    was, theirs, ours = (() if v is _MISSING else v for v in (was, theirs, ours))
    before = set(was)
    if not before <= set(theirs) or not before <= set(ours):
        raise ConflictError
    return tuple(sorted(set(theirs) | set(ours), key=_by_key))

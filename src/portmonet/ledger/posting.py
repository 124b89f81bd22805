"""An immutable ledger posting."""
import pickle

from .. import clock

KINDS = ("charge", "payment", "refund", "correction", "transfer")

# Which sign an amount of each kind may have (a charge takes money away).
_SIGNS = {
    "charge": (-1,),
    "payment": (1,),
    "refund": (-1,),
    "correction": (-1, 1),
    "transfer": (-1, 1),
}


class PostingError(ValueError):
    pass


def validate(amount, kind, cause):
    if kind not in _SIGNS:
        raise PostingError(f"unknown posting kind {kind!r}")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PostingError("a posting amount is an int in minor units")
    if amount == 0 or (1 if amount > 0 else -1) not in _SIGNS[kind]:
        raise PostingError(f"a {kind} cannot be {amount}")
    if not isinstance(cause, str) or not cause.strip():
        raise PostingError("every posting needs a cause")


class Posting:
    """One movement of money; stored inline in the account's ledger BTree.

    ``amount`` is signed minor units (+ credits the account).  ``time`` is
    microseconds since the epoch, UTC.  Never changed once made: a mistake
    is corrected by a new posting.
    """

    __slots__ = ("key", "time", "amount", "kind", "cause", "text", "user")

    def __init__(self, key, time, amount, kind, cause, text="", user=""):
        for name, value in zip(self.__slots__, (key, time, amount, kind, cause, text, user)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("postings are immutable")

    def __reduce__(self):
        # One bytes value, not eight objects: ZODB's pickler asks its
        # persistent_id hook about every object it pickles, and an account
        # or ledger bucket rewritten for one new posting pickles all the
        # others again (this was most of the rater's commit time).
        # Postings stored as (Posting, values) still load.
        return (_unpack, (pickle.dumps(self._values(), 5),))

    # Compared by value: BTrees' C conflict resolution (on the ZEO server)
    # compares the postings of a bucket's three states with < and ==;
    # without these, two writers into one ledger bucket never merge.
    def _values(self):
        return (self.key, self.time, self.amount, self.kind, self.cause, self.text, self.user)

    def __eq__(self, other):
        if not isinstance(other, Posting):
            return NotImplemented
        return self._values() == other._values()

    def __lt__(self, other):
        if not isinstance(other, Posting):
            return NotImplemented
        return self._values() < other._values()

    def __hash__(self):
        return hash((self.key, self.cause, self.amount))

    @property
    def datetime(self):
        return clock.local(self.time)

    def __repr__(self):
        return f"<Posting {self.kind} {self.amount} cause={self.cause!r}>"


def _unpack(data):
    return Posting(*pickle.loads(data))

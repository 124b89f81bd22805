"""Two kinds of index, both plain BTrees so lookups never scan.

* :class:`UniqueIndex` maps one key to one persistent object (a login to its
  Internet service, an account number to its account) and refuses a second.
* :class:`MultiIndex` maps a key to the integer ids of the subscribers that
  carry it (name words, contact phones, e-mails).  A key held by a few ids
  stores them as a small tuple, so a million subscribers do not mean a
  million extra persistent sets; a popular key grows into an ``LLTreeSet``.
"""
from BTrees.LLBTree import LLTreeSet, multiunion
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent

SMALL_SET = 16
_TOP = "\U0010ffff"


class DuplicateKeyError(ValueError):
    """A unique key (login, account number, IP ...) is already taken."""


class UniqueIndex(Persistent):

    def __init__(self, title, integer_keys=False):
        self.title = title
        self.tree = LOBTree() if integer_keys else OOBTree()

    def get(self, key, default=None):
        return self.tree.get(key, default)

    def __contains__(self, key):
        return key in self.tree

    def check(self, key, target):
        held = self.tree.get(key)
        if held is not None and held is not target:
            raise DuplicateKeyError(f"{self.title} {key!r} is already taken")

    def add(self, key, target):
        self.check(key, target)
        self.tree[key] = target

    def discard(self, key, target):
        if self.tree.get(key) is target:
            del self.tree[key]

    def keys(self, min=None, max=None):
        return self.tree.keys(min, max)

    def prefix(self, text, limit=50):
        out = []
        for value in self.tree.values(text, text + _TOP):
            out.append(value)
            if len(out) >= limit:
                break
        return out

    def __len__(self):
        return len(self.tree)


class MultiIndex(Persistent):

    def __init__(self, title):
        self.title = title
        self.tree = OOBTree()

    def check(self, key, target):
        pass

    def add(self, key, docid):
        held = self.tree.get(key)
        if held is None:
            self.tree[key] = (docid,)
        elif isinstance(held, tuple):
            if docid in held:
                return
            if len(held) < SMALL_SET:
                self.tree[key] = held + (docid,)
            else:
                self.tree[key] = LLTreeSet(held + (docid,))
        else:
            held.add(docid)

    def discard(self, key, docid):
        held = self.tree.get(key)
        if held is None:
            return
        if isinstance(held, tuple):
            rest = tuple(d for d in held if d != docid)
            if rest:
                self.tree[key] = rest
            else:
                del self.tree[key]
        else:
            if docid in held:
                held.remove(docid)
            if not held:
                del self.tree[key]

    def ids(self, key):
        held = self.tree.get(key)
        if held is None:
            return LLTreeSet()
        return LLTreeSet(held) if isinstance(held, tuple) else held

    def ids_with_prefix(self, prefix, max_keys=5000):
        """Union of the ids of every key starting with *prefix* (sorted)."""
        sets = []
        for n, held in enumerate(self.tree.values(prefix, prefix + _TOP)):
            if n >= max_keys:
                break
            sets.append(LLTreeSet(held) if isinstance(held, tuple) else held)
        return multiunion(sets)

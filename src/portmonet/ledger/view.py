"""A read-only view of a ledger kept in two parts: the account's tree of
older postings and the few newest ones kept inline in the account.

It answers the LOBTree calls readers use (``get``, ``[key]``, ``in``,
``len``, ``keys/values/items`` with ranges, ``maxKey`` / ``minKey``), so a
page or a report reads a ledger the same way whatever part a posting is
in.  The inline part holds a handful of postings: merging it costs little.
"""
import heapq


def _key(posting):
    return posting.key


class LedgerView:

    def __init__(self, tree, inline):
        self._tree = tree            # LOBTree key -> Posting, or None
        self._inline = inline        # tuple of Postings sorted by key

    # -- single postings ---------------------------------------------------
    def get(self, key, default=None):
        for p in self._inline:
            if p.key == key:
                return p
        if self._tree is not None:
            return self._tree.get(key, default)
        return default

    def __getitem__(self, key):
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key):
        return self.get(key) is not None

    def __len__(self):
        return len(self._inline) + (len(self._tree) if self._tree is not None else 0)

    def __bool__(self):
        return len(self) > 0

    # -- ranges ------------------------------------------------------------
    def _inline_in(self, lo, hi, excludemin, excludemax):
        return [p for p in self._inline
                if (lo is None or p.key > lo or (p.key == lo and not excludemin))
                and (hi is None or p.key < hi or (p.key == hi and not excludemax))]

    def values(self, min=None, max=None, excludemin=False, excludemax=False):
        inline = self._inline_in(min, max, excludemin, excludemax)
        if self._tree is None:
            return inline
        tree = self._tree.values(min, max, excludemin=excludemin, excludemax=excludemax)
        if not inline:
            return tree
        return list(heapq.merge(tree, inline, key=_key))

    def keys(self, min=None, max=None, excludemin=False, excludemax=False):
        return [p.key for p in self.values(min, max, excludemin, excludemax)]

    def items(self, min=None, max=None, excludemin=False, excludemax=False):
        return [(p.key, p) for p in self.values(min, max, excludemin, excludemax)]

    def __iter__(self):
        return iter(self.keys())

    def maxKey(self, max=None):
        return self._edge(_max, self._inline_in(None, max, False, False), "maxKey", max)

    def minKey(self, min=None):
        return self._edge(_min, self._inline_in(min, None, False, False), "minKey", min)

    def _edge(self, pick, inline, method, bound):
        """The greatest or least key (*pick*) of the inline postings in
        range and the tree's own ``maxKey`` / ``minKey`` (*method*)."""
        found = [p.key for p in inline]
        if self._tree is not None:
            try:
                found.append(getattr(self._tree, method)(*(() if bound is None else (bound,))))
            except ValueError:
                pass
        if not found:
            raise ValueError("no key satisfies the conditions")
        return pick(found)


_max, _min = max, min

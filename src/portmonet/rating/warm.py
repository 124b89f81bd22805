"""Loading what a batch will touch in a few round trips.

A BTree lookup loads the bucket that holds the key, one ZEO round trip per
cold bucket; a batch of thousands of records spread over a big index pays
that thousands of times.  The inner nodes of a tree are few and stay in
the cache, and their state names the child for every key range, so the
buckets a batch needs can be named first and then loaded together
(``Connection.prefetch`` pipelines the loads).
"""
from bisect import bisect_right

from ..ops.bulk import prefetch


class BucketFinder:
    """Which bucket of *tree* holds (or would hold) a key, without loading it."""

    def __init__(self, tree):
        self.tree = tree
        self._nodes = {}          # id(inner node) -> (keys, children)

    def _split(self, node):
        found = self._nodes.get(id(node))
        if found is None:
            state = node.__getstate__()
            if state is None or len(state) < 2:      # empty, or one bucket held inline
                found = ((), ())
            else:
                items = state[0]
                found = (items[1::2], items[0::2])
            self._nodes[id(node)] = found
        return found

    def bucket(self, key):
        node = self.tree
        while True:
            keys, children = self._split(node)
            if not children:
                return None
            child = children[bisect_right(keys, key)]
            if type(child) is not type(self.tree):
                return child
            node = child

    def buckets(self, keys):
        found = {}
        for key in keys:
            bucket = self.bucket(key)
            if bucket is not None:
                found[id(bucket)] = bucket
        return list(found.values())

    def first(self, count):
        """The first *count* buckets (a queue's head)."""
        out, nodes = [], [self.tree]
        while nodes and len(out) < count:
            keys, children = self._split(nodes.pop(0))
            if children and type(children[0]) is type(self.tree):
                nodes = list(children) + nodes
            else:
                out.extend(children[:count - len(out)])
        return out


def load(conn, objects):
    prefetch(conn, objects)

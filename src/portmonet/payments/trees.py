"""BTrees for the trees every payment appends to.

Every payment adds a key at the end of the journal, the register, the
agent's answers and the journal's external-id index.  Appending at the end
splits the last bucket again and again, and every split rewrites the
parent node; the stock parents hold up to 250-500 children (10-20 KB
pickled), so most group commits wrote each of them whole.  These trees
keep parents small (64 children: one more level, a tenth of the bytes per
split); leaves keep the stock size, so a commit rewrites one small bucket.
"""
from bisect import bisect_right

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet

FANOUT = 64


class AppendLOBTree(LOBTree):
    max_internal_size = FANOUT


class AppendOOBTree(OOBTree):
    max_internal_size = FANOUT


class AppendOOTreeSet(OOTreeSet):
    max_internal_size = FANOUT


def rebuilt(tree, cls):
    """*tree* as a *cls* (the same one if it already is)."""
    if type(tree) is cls:
        return tree
    new = cls()
    new.update(tree if isinstance(new, OOTreeSet) else tree.items())
    return new


def _is_leaf(node):
    name = type(node).__name__
    return name.endswith("Bucket") or (name.endswith("Set") and not name.endswith("TreeSet"))


def prefetch_keys(conn, tree, keys):
    """Load the buckets of *tree* that hold *keys* in one ZEO round trip per
    level of the tree (the inner nodes are usually in the cache already)
    instead of one per key: a batch of random lookups in an index of a
    million entries then reads from the ZEO cache."""
    level = [(tree, sorted(set(keys)))]
    while level:
        below = {}
        for node, wanted in level:
            state = node.__getstate__()
            if state is None or len(state) == 1:
                continue                      # empty, or one bucket kept inline
            data = state[0]
            separators = data[1::2]
            for key in wanted:
                try:
                    child = data[2 * bisect_right(separators, key)]
                except TypeError:             # a key of another type: not there
                    continue
                below.setdefault(id(child), (child, []))[1].append(key)
        ghosts = [child for child, _ in below.values() if child._p_changed is None]
        if ghosts:
            conn.prefetch(ghosts)
        level = [(child, wanted) for child, wanted in below.values() if not _is_leaf(child)]

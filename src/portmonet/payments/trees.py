"""BTrees for the trees every payment appends to.

Every payment adds a key at the end of the journal, the register, the
agent's answers and the journal's external-id index.  Appending at the end
splits the last bucket again and again, and every split rewrites the
parent node; the stock parents hold up to 250-500 children (10-20 KB
pickled), so most group commits wrote each of them whole.  These trees
keep parents small (64 children: one more level, a tenth of the bytes per
split); leaves keep the stock size, so a commit rewrites one small bucket.
"""
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

"""prefetch_keys: the buckets holding a batch's keys, level by level."""
import transaction
import ZODB
from BTrees.OOBTree import OOBTree

from portmonet.payments.trees import prefetch_keys


class Recording:
    """A connection that records what it is asked to prefetch."""

    def __init__(self, conn):
        self.conn, self.asked = conn, []

    def prefetch(self, objects):
        self.asked.append(list(objects))
        self.conn.prefetch(objects)


def test_prefetch_names_the_buckets_of_the_keys_level_by_level():
    db = ZODB.DB(None)
    with db.transaction() as conn:
        tree = conn.root()["t"] = OOBTree()
        for n in range(50_000):
            tree[f"{n:06d}"] = n
    tm = transaction.TransactionManager()
    conn = db.open(tm)
    conn.cacheMinimize()
    tree = conn.root()["t"]
    keys = ["000007", "031415", "049999", "nothere", "031416"]
    spy = Recording(conn)
    prefetch_keys(spy, tree, keys)
    leaves = spy.asked[-1]
    assert spy.asked and all(type(b).__name__ == "OOBucket" for b in leaves)
    for key in keys[:3]:
        assert any(b.minKey() <= key <= b.maxKey() for b in leaves), key
    assert len(leaves) <= len(keys)
    assert [tree.get(k) for k in keys] == [7, 31415, 49999, None, 31416]
    prefetch_keys(spy, OOBTree(), keys)          # empty and inline trees: nothing to do
    db.close()

"""A worker's ZEO client sends a transaction's stores in a few messages
(``portmonet.workerstorage``): on a real ZEO server, what it commits is
what another client reads, a read check (BTrees' readCurrent) is not
overtaken, a conflict is still a conflict, an abort leaves nothing."""
import pytest
import transaction
from BTrees.OOBTree import OOBTree
from persistent.mapping import PersistentMapping
from ZODB.POSException import ConflictError

from portmonet.workerstorage import tune_worker_storage


def test_batched_stores_commit_and_are_read_by_another_client(zeo_server, zeo_db):
    storage = zeo_db.storage
    sent = []
    send_iter = storage._async_iter
    storage._async_iter = lambda it: send_iter(iter(sent.append(list(it)) or sent[-1]))
    assert tune_worker_storage(zeo_db) and tune_worker_storage(zeo_db)      # once, idempotent
    tm = transaction.TransactionManager()
    conn = zeo_db.open(tm)
    root = conn.root()
    root["t"] = tree = OOBTree()
    tm.commit()
    for round_ in range(5):                     # buckets split, inner nodes read-checked
        for i in range(400):
            tree[f"{round_:02d}-{i:05d}"] = PersistentMapping({"n": i})
        tm.commit()
    # the stores went a few message iterators per commit (one before each
    # call: the vote, or asking the server for new oids), not one by one
    assert 6 <= len(sent) <= 60 and all(m == "storea" for batch in sent for m, _ in batch)
    assert sum(len(batch) for batch in sent) > 2000
    tree["aborted"] = 1
    tm.abort()
    other = zeo_server.open_db(server_sync=True)    # sees each commit of this client
    try:
        with other.transaction() as c:
            seen = c.root()["t"]
            assert len(seen) == 2000 and "aborted" not in seen
            assert seen["04-00399"]["n"] == 399
            seen["00-00000"]["n"] = -1                  # another writer
        root["t"]["00-00000"]["n"] = -2                 # ... and this one, on a stale copy
        with pytest.raises(ConflictError):
            tm.commit()
        tm.abort()
        root["t"]["00-00001"]["n"] = -3                 # after the conflict, commits again
        tm.commit()
        with other.transaction() as c:
            assert c.root()["t"]["00-00000"]["n"] == -1
            assert c.root()["t"]["00-00001"]["n"] == -3
    finally:
        other.close()
        conn.close()


def test_other_storages_are_left_alone(db):
    assert tune_worker_storage(db) is False

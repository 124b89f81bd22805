"""The rater's small in-memory ZEO client cache, alone and under a real ZEO
client that prefetches, commits and sees another client's commits."""
import time

import transaction
from ZODB.utils import p64

from portmonet.clientcache import MemoryClientCache, zeo_with_memory_cache
from portmonet.db import open_database


def test_answers_only_current_data_older_than_the_snapshot():
    cache = MemoryClientCache(size=8)
    oid = p64(1)
    cache.store(oid, p64(5), None, b"five")
    assert cache.loadBefore(oid, p64(6)) == (b"five", p64(5), None)
    assert cache.loadBefore(oid, p64(5)) is None        # the snapshot predates it
    cache.store(oid, p64(3), p64(5), b"three")         # an old revision: not kept
    assert cache.loadBefore(oid, p64(4)) is None
    cache.invalidate(oid, p64(7))
    assert cache.loadBefore(oid, p64(8)) is None and len(cache) == 0


def test_stays_within_its_size_and_keeps_the_last_tid():
    cache = MemoryClientCache(size=8)
    for i in range(1, 30):
        cache.store(p64(i), p64(1), None, b"x")
    assert len(cache) <= 8
    assert cache.loadBefore(p64(29), p64(2)) is not None    # the newest stay
    assert cache.loadBefore(p64(1), p64(2)) is None
    cache.setLastTid(p64(9))
    cache.setLastTid(b"")                                   # ignored, as ZEO's does
    assert cache.getLastTid() == p64(9)


def _eventually(db, tm, expected, tries=50):
    """The value of root["n"] in a new transaction of *db*, once it has
    seen the commit that set *expected* (invalidations arrive async)."""
    conn = db.open(transaction_manager=tm)
    try:
        for _ in range(tries):
            tm.begin()
            if conn.root().get("n") == expected:     # not there yet: the commit is on its way
                break
            time.sleep(0.1)
        value = conn.root()["n"]
        tm.abort()
        return value
    finally:
        conn.close()


def test_a_zeo_client_with_it_sees_other_clients_commits(zeo_server):
    settings = {"zodbconn.uri": f"zeo://127.0.0.1:{zeo_server.port}?wait_timeout=30"}
    worker = open_database(settings, client_cache=False)
    other = zeo_server.open_db()
    mine, theirs = transaction.TransactionManager(), transaction.TransactionManager()
    try:
        assert isinstance(worker.storage._cache, MemoryClientCache)
        with other.transaction() as conn:
            conn.root()["n"] = 1
        conn = worker.open(transaction_manager=mine)
        assert _eventually(worker, mine, 1) == 1
        mine.begin()
        conn.root()["n"] = 2
        mine.commit()
        conn.close()
        assert _eventually(other, theirs, 2) == 2
        with other.transaction() as conn:
            conn.root()["n"] = 3
        # the worker's cache had n's state; the invalidation drops it
        assert _eventually(worker, mine, 3) == 3
    finally:
        worker.close()
        other.close()
    # opening it did not leave zodburi patched for everyone else
    from zodburi import resolvers
    with zeo_with_memory_cache():
        patched = resolvers.ClientStorage
    assert resolvers.ClientStorage is not patched

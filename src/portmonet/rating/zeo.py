"""The rater's ZEO client: stores sent in a few messages, prefetches
waited for.

ZEO's ``ClientStorage.store`` hands every object to its I/O thread with
``loop.call_soon_threadsafe``, which wakes the loop through a socket write:
on the rater's commits (thousands of objects each) that wake-up alone was
about an eighth of the process's time.  Here the stores of a transaction
are kept and handed over in chunks with one wake-up each
(``async_iter``, as ZEO sends blobs), the rest before the vote, in the
same order -- the server sees the same messages.

The transaction buffer keeps only the oids, not the data: after the commit
ZEO would copy the data into the client cache, and the rater's objects are
in its connection cache already (its ZEO cache is the small in-memory one
of ``portmonet.clientcache``, for prefetched loads).

``prefetch`` waits until the objects have arrived.  ZEO's returns at once,
and the rater reads the objects right after asking: each one not arrived
yet was asked for again through the I/O thread (the request is merged with
the pending one, but the thread hand-over costs as much as a load).
"""
import logging

log = logging.getLogger(__name__)
CHUNK = 500


def _client_storage(db):
    try:
        from ZEO.ClientStorage import ClientStorage
    except ImportError:
        return None
    storage = getattr(db, "storage", None)
    return storage if isinstance(storage, ClientStorage) else None


def batch_stores(db, chunk=CHUNK):
    """Make *db*'s ZEO client storage send stores in chunks; no-op for
    other storages (and when done already).  For one process's database
    (the rater's), not for a storage shared with code that does not vote."""
    storage = _client_storage(db)
    if storage is None or getattr(storage, "_portmonet_batched", False):
        return False
    begin, vote, runner = storage.tpc_begin, storage.tpc_vote, storage._server
    waiting = {}                    # id(txn) -> [(method, args), ...]

    def flush(txn):
        messages = waiting.pop(id(txn), None)
        if messages:
            storage._async_iter(iter(messages))

    def batched_begin(txn, *args, **kw):
        waiting.clear()             # nothing of an aborted transaction is ever sent
        return begin(txn, *args, **kw)

    def batched_store(oid, serial, data, version, txn):
        assert not version
        tbuf = storage._check_trans(txn, "store")
        messages = waiting.setdefault(id(txn), [])
        messages.append(("storea", (oid, serial, data, id(txn))))
        tbuf.store(oid, None)       # the cache is only invalidated (see above)
        if len(messages) >= chunk:
            flush(txn)

    def batched_vote(txn):
        flush(txn)
        return vote(txn)

    def prefetch_and_wait(oids, tid):
        runner.io_call(runner.client.prefetch_co(tuple(oids), tid))

    storage.tpc_begin = batched_begin
    storage.prefetch = prefetch_and_wait
    storage.store = batched_store
    storage.tpc_vote = batched_vote
    storage._portmonet_batched = True
    # Connections opened before keep a copy of the old tpc_vote
    # (ZODB's MVCC adapter caches it): drop it so they ask again.
    for conn in list(getattr(getattr(db, "pool", None), "all", ())):
        adapter = getattr(conn, "_storage", None)
        if hasattr(adapter, "__dict__"):
            adapter.__dict__.pop("tpc_vote", None)
    return True

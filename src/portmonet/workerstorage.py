"""A worker's ZEO client storage (the rater, the billing run): a
transaction's stores go to the server in a few messages, and a prefetch
waits for its objects.

ZEO's client hands every ``store`` to its I/O thread on its own
(``loop.call_soon_threadsafe``: a wake-up write to a socket and a loop turn
per object); a worker's transaction stores thousands of objects, and that
was a tenth of its CPU.  Here the stores are kept and handed over as
message iterators (``async_iter``, what ZEO uses for blobs) of up to
``CHUNK``, and before any other message the client sends: the same
``storea`` messages in the same order, before the same vote, read checks
(``checkCurrentSerialInTransaction``) and aborts.  ClientStorage looks its
``_call`` / ``_async`` up on itself at each use, whoever holds its bound
``tpc_vote`` (ZODB's MVCC adapter keeps one), so no message overtakes the
stores.

``prefetch`` waits until the objects have arrived.  ZEO's returns at once,
and a worker reads the objects right after asking: each one not arrived yet
was asked for again through the I/O thread (merged with the pending
request, but the hand-over costs as much as a load).

With the small in-memory cache of ``portmonet.clientcache`` the transaction
buffer keeps only the oids: after the commit ZEO would copy the written
data into its cache, and the worker has those objects in its connection
cache.

Applied to one storage object, in worker processes only (a storage that is
not a ZEO client is left alone).
"""
from .clientcache import MemoryClientCache

CHUNK = 500


def tune_worker_storage(db):
    """Tune *db*'s ZEO ClientStorage; True if it is one (tuned now or
    before), False for any other storage."""
    storage = getattr(db, "storage", None)
    if storage is None or not hasattr(storage, "_async_iter") \
            or not hasattr(storage, "_check_trans"):
        return False
    if getattr(storage, "_portmonet_tuned", False):
        return True
    keep_written = not isinstance(getattr(storage, "_cache", None), MemoryClientCache)
    pending = []                     # ('storea', args) not sent yet
    call, send, runner = storage._call, storage._async, storage._server

    def flush():
        if pending:
            messages = list(pending)
            del pending[:]
            storage._async_iter(iter(messages))

    def store(oid, serial, data, version, txn):
        assert not version
        tbuf = storage._check_trans(txn, "store")
        pending.append(("storea", (oid, serial, data, id(txn))))
        tbuf.store(oid, data if keep_written else None)
        if len(pending) >= CHUNK:
            flush()

    def flushing_call(*args, **kw):
        flush()
        return call(*args, **kw)

    def flushing_async(*args):
        flush()
        return send(*args)

    def prefetch_and_wait(oids, tid):
        runner.io_call(runner.client.prefetch_co(tuple(oids), tid))

    storage.store = store
    storage._call = flushing_call
    storage._async = flushing_async
    storage.prefetch = prefetch_and_wait
    storage._portmonet_tuned = True
    return True

"""Send a transaction's object stores to ZEO in one go at the vote.

ZEO's client hands every ``store`` to its I/O thread on its own
(``loop.call_soon_threadsafe``: a wake-up write to a socket and a loop turn
per object); a billing batch stores a few thousand objects, and that was a
tenth of the run's CPU.  Here a billing process's storage keeps a
transaction's stores and sends them at ``tpc_vote`` as one message
iterator (``async_iter``, what ZEO uses for blobs): the same ``storea``
messages, in the same order, before the same ``vote`` (the server only
looks at a transaction's stores when it votes), and before any other
message the client sends after them.  Applied to one storage object, in the billing processes
only; any other storage (in-memory, file) is left alone.
"""
import logging

log = logging.getLogger(__name__)


def batch_stores(db):
    """Make *db*'s ZEO ClientStorage send stores at the vote; returns True
    if it did (or had), False for a storage that is not a ZEO client."""
    storage = getattr(db, "storage", None)
    if storage is None or not hasattr(storage, "_async_iter") \
            or not hasattr(storage, "_check_trans"):
        return False
    if getattr(storage, "_portmonet_batched", False):
        return True
    pending = []                     # ('storea', args) not sent yet
    call, send = storage._call, storage._async

    def store(oid, serial, data, version, txn):
        assert not version
        tbuf = storage._check_trans(txn, "store")
        pending.append(("storea", (oid, serial, data, id(txn))))
        tbuf.store(oid, data)

    def flush():
        if pending:
            messages = list(pending)
            del pending[:]
            storage._async_iter(iter(messages))

    # Every other message to the server goes after the stores held: the
    # vote (a call), a read check (``checkCurrentSerialInTransaction``, an
    # async message), an abort.  ClientStorage looks these up on itself at
    # each use, whoever holds its bound ``tpc_vote`` (ZODB's MVCC adapter
    # keeps one), so no message can overtake the stores.
    def flushing_call(*args, **kw):
        flush()
        return call(*args, **kw)

    def flushing_async(*args):
        flush()
        return send(*args)

    storage.store = store
    storage._call = flushing_call
    storage._async = flushing_async
    storage._portmonet_batched = True
    return True

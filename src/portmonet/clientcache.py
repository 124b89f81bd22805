"""A small in-memory ZEO client cache, for a worker whose objects stay in
its own connection cache (the rater).

ZEO's client cache writes every object a client loads or commits into a
cache file and evicts old entries to make room, in Python, in the client's
I/O thread: about a sixth of the rater's CPU.  The rater needs it for one
thing only: ``Connection.prefetch`` pipelines a batch's loads into the
client cache, and the objects are then read from it.  This cache keeps the
current data of the last ``size`` objects loaded or committed in a dict:
enough to hand prefetched objects over, and nothing to pay for the rest.

Like ZEO's, it answers a load with current data only if that data started
before the load's snapshot, and forgets an object when it is invalidated
(it keeps no older revisions: such a load goes to the server).  It keeps
the last transaction id: ZEO reports it as the storage's
``lastTransaction``.
"""
import contextlib
import itertools
import threading

from ZODB.utils import z64


class MemoryClientCache:
    """ZEO.interfaces.IClientCache in a bounded dict."""

    def __init__(self, size=50_000):
        self.size = size
        self._lock = threading.RLock()
        self._current = {}         # oid -> (data, start tid), oldest first
        self.tid = z64

    def __len__(self):
        return len(self._current)

    def close(self):
        self.clear()

    def clear(self):
        with self._lock:
            self._current.clear()

    def load(self, oid, before_tid=None):
        with self._lock:
            found = self._current.get(oid)
        if found is None or (before_tid and before_tid <= found[1]):
            return None
        return found

    def loadBefore(self, oid, before_tid):
        found = self.load(oid, before_tid)
        return None if found is None else (found[0], found[1], None)

    def store(self, oid, start_tid, end_tid, data):
        if end_tid is not None:
            return                 # an old revision: not kept
        with self._lock:
            self._current.pop(oid, None)
            self._current[oid] = (data, start_tid)
            if len(self._current) > self.size:
                for old in list(itertools.islice(self._current, self.size // 4)):
                    del self._current[old]

    def invalidate(self, oid, tid):
        with self._lock:
            self._current.pop(oid, None)

    def getLastTid(self):
        with self._lock:
            return self.tid

    def setLastTid(self, tid):
        with self._lock:
            if tid and tid != z64:
                self.tid = tid


@contextlib.contextmanager
def zeo_with_memory_cache(size=50_000):
    """While opening a storage from a ``zeo://`` URI, give its ClientStorage
    a :class:`MemoryClientCache` (zodburi has no option for it)."""
    from zodburi import resolvers
    original = resolvers.ClientStorage

    def client_storage(*args, **kw):
        kw["cache"] = MemoryClientCache(size)
        return original(*args, **kw)

    resolvers.ClientStorage = client_storage
    try:
        yield
    finally:
        resolvers.ClientStorage = original

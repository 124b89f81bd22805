"""Walking many objects through ZEO: prefetch in batches, keep the cache small."""


def batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def prefetch(conn, objects):
    """Ask the storage for many objects in one go (ZEO pipelines the loads)."""
    ghosts = [o for o in objects if getattr(o, "_p_oid", None) is not None and o._p_changed is None]
    if ghosts and hasattr(conn, "prefetch"):
        conn.prefetch(ghosts)


def walk(conn, objects, batch_size=2000, then=None):
    """Yield objects, prefetched a batch at a time; ``then(obj)`` lists
    sub-objects to prefetch with them (e.g. an account's ledger)."""
    for batch in batches(objects, batch_size):
        prefetch(conn, batch)
        if then is not None:
            prefetch(conn, [sub for o in batch for sub in then(o)])
        yield from batch
        conn.cacheGC()

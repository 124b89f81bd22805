"""Group commit of protocol requests: one committer thread per web process.

A request thread hands its request (the raw journal fields and the work to
do) to the committer and waits.  The committer takes every request that
has arrived meanwhile, does them all in ONE transaction — for each, the
work and the journal entry with its outcome — commits, and only then wakes
the request threads: acknowledged means committed.  One commit of a few
hundred objects for many payments costs far less, in CPU and ZEO round
trips, than two commits per payment.

* A ConflictError (another process wrote the same bucket) retries the
  whole batch with a random, growing pause.
* A request whose work raises is taken out of the batch: the batch is
  redone without it, and its raw journal entry is committed alone with the
  status ``error`` (so it is kept even though processing failed).  The
  request gets the error.
* If the batch cannot be committed at all, every request of it gets the
  error and their raw entries are tried once more, alone.

The committer's connection keeps a large object cache (the working set of
a payments process: the catalog's inner nodes, the hot buckets, the
agents), so a transaction does not begin by reloading it.
"""
import logging
import queue
import random
import threading
import time

import transaction
from ZODB.POSException import ConflictError

from ..model.root import get_root
from ..txn import describe

log = logging.getLogger("portmonet.payments.committer")

ATTEMPTS = 30


class Job:
    """One request: ``work(root) -> (status, outcome, result)``; *raw* are
    the keyword arguments of :meth:`Journal.record`."""

    __slots__ = ("raw", "work", "note", "hint", "prefetch", "_done", "result", "error",
                 "finished")

    def __init__(self, raw, work, note, hint=None, prefetch=None):
        self.raw = raw
        self.work = work
        self.note = note
        self.hint = hint
        self.prefetch = prefetch
        self._done = threading.Lock()     # held until finished (cheaper than an Event)
        self._done.acquire()
        self.result = None
        self.error = None
        self.finished = False

    def finish(self, result=None, error=None):
        if not self.finished:
            self.result, self.error, self.finished = result, error, True
            self._done.release()

    def wait(self, timeout):
        return self._done.acquire(timeout=timeout)


class Unavailable(RuntimeError):
    """The request was not processed (not committed): answer "repeat later"."""


class Committer:
    def __init__(self, db, max_batch=200, cache_size=200_000, user="payments"):
        self.db = db
        self.max_batch = max_batch
        self.cache_size = cache_size
        self.user = user
        self.queue = queue.SimpleQueue()
        self.batches = 0
        self.jobs = 0
        self.conflicts = 0
        self._thread = threading.Thread(target=self._loop, name="payments-committer",
                                         daemon=True)
        self._thread.start()

    def submit(self, raw, work, note, timeout=60, hint=None, prefetch=None):
        """Do *work* and journal *raw* in a group transaction; returns the
        work's result once committed.  Raises :class:`Unavailable` (or the
        work's own exception) when it was not committed.

        ``prefetch(root, hints)``, if given, is called once per batch with
        the *hint* of every job of the batch that names it, before any
        work: it loads what the batch will read in a few ZEO round trips
        instead of several per request."""
        job = Job(raw, work, note, hint, prefetch)
        self.queue.put(job)
        if not job.wait(timeout):
            # It may still commit later; the client repeats and then gets the
            # stored answer, so nothing is paid twice.
            raise Unavailable("not committed in time")
        if job.error is not None:
            raise job.error
        return job.result

    # -- the committer thread ---------------------------------------------
    def _loop(self):
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        conn._cache.cache_size = self.cache_size
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._run(conn, tm, batch)
            except BaseException as exc:   # never let the thread die
                log.exception("payments committer: batch failed")
                for job in batch:
                    if not job.finished:
                        job.finish(error=Unavailable(repr(exc)))
            self.batches += 1
            self.jobs += len(batch)

    def _prefetch(self, root, batch):
        hints = {}
        for job in batch:
            if job.prefetch is not None:
                hints.setdefault(job.prefetch, []).append(job.hint)
        for prefetch, held in hints.items():
            try:
                prefetch(root, held)
            except ConflictError:
                raise
            except Exception:   # only an optimisation: the work reads what it needs
                log.exception("payments committer: prefetch failed")

    def _run(self, conn, tm, batch):
        pending = list(batch)
        attempt = 0
        prefetched = False
        while pending:
            txn = tm.begin()
            describe(txn, self.user, "; ".join(j.note for j in pending)[:2000])
            failed = None
            results = []
            try:
                root = get_root(conn.root())
                journal = root["payments"].journal
                if not prefetched:
                    prefetched = True
                    self._prefetch(root, pending)
                for job in pending:
                    try:
                        status, outcome, result = job.work(root)
                    except ConflictError:
                        raise
                    except Exception as exc:
                        failed = (job, exc)
                        break
                    journal.record(status=status, outcome=outcome, **job.raw)
                    results.append(result)
                if failed is None:
                    tm.commit()
            except ConflictError:
                tm.abort()
                attempt += 1
                self.conflicts += 1
                if attempt >= ATTEMPTS:
                    log.error("payments committer: %d conflicts, giving up on %d requests",
                              attempt, len(pending))
                    self._journal_alone(conn, tm, pending, "error", "not processed: conflicts")
                    for job in pending:
                        job.finish(error=Unavailable("conflicts"))
                    return
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
                _sync(self.db)
                continue
            except Exception as exc:
                tm.abort()
                log.exception("payments committer: cannot commit %d requests", len(pending))
                self._journal_alone(conn, tm, pending, "error", f"not committed: {exc!r}")
                for job in pending:
                    job.finish(error=Unavailable(repr(exc)))
                return
            if failed is not None:
                tm.abort()
                job, exc = failed
                log.error("payments committer: %s failed: %r", job.note, exc)
                self._journal_alone(conn, tm, [job], "error", repr(exc))
                job.finish(error=exc)
                pending.remove(job)
                continue
            for job, result in zip(pending, results):
                job.finish(result)
            return

    def _journal_alone(self, conn, tm, jobs, status, outcome):
        """Keep the raw requests that could not be processed (small commits)."""
        for attempt in range(ATTEMPTS):
            txn = tm.begin()
            describe(txn, self.user, f"journal {len(jobs)} unprocessed requests")
            try:
                journal = get_root(conn.root())["payments"].journal
                for job in jobs:
                    journal.record(status=status, outcome=outcome, **job.raw)
                tm.commit()
                return
            except ConflictError:
                tm.abort()
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
            except Exception:
                tm.abort()
                log.exception("payments committer: cannot journal %d requests", len(jobs))
                return


def _sync(db):
    """One ZEO round trip, so the invalidations of the transaction we lost
    to have arrived before the retry reads."""
    ping = getattr(db.storage, "ping", None)
    if ping is not None:
        try:
            ping()
        except Exception:
            pass


_committers = {}
_lock = threading.Lock()


def committer_for(db, settings=None):
    """This process's committer for *db* (made on first use)."""
    with _lock:
        held = _committers.get(id(db))
        if held is None or held.db is not db:
            settings = settings or {}
            held = _committers[id(db)] = Committer(
                db,
                max_batch=int(settings.get("portmonet.payments.max_batch", 200)),
                cache_size=int(settings.get("portmonet.payments.committer_cache", 200_000)))
        return held

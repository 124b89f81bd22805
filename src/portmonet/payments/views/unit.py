"""How a protocol request is handled: journal it (committed), then process
it in a transaction of its own (retried on ConflictError), and answer only
after that transaction committed.

The request's own connection (pyramid_zodbconn, under pyramid_tm) is used
for traversal only; the work is done on a connection with its own
transaction manager so that the commit happens *before* the answer is
built, and a conflict is retried here instead of failing the request.
"""
import logging
import random
import time

import transaction
from pyramid.httpexceptions import HTTPBadRequest
from pyramid_zodbconn import get_connection
from ZODB.POSException import ConflictError

from ...model.root import get_root
from ..canonical import NotCanonical, single_values
from ..clock import now_us

log = logging.getLogger("portmonet.payments")
ATTEMPTS = 30


def transact(db, func, user, note, attempts=ATTEMPTS):
    """``func(root)`` in one transaction, retried on ConflictError with a
    random, growing pause: many terminals paying at once meet on the same
    young BTree buckets (journal, register, an agent's ledger) and a retry
    right away tends to meet the same writer again."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        for attempt in range(attempts):
            txn = tm.begin()
            txn.setUser(user)
            txn.note(note)
            try:
                result = func(get_root(conn.root()))
                tm.commit()
                return result
            except ConflictError:
                tm.abort()
                if attempt + 1 == attempts:
                    raise
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
            except BaseException:
                tm.abort()
                raise
    finally:
        conn.close()


def database(request):
    return get_connection(request).db()


def journal_request(request, channel, agent, ext_id=""):
    """Store the raw request; returns the journal key (committed)."""
    body = request.body or b""
    headers = list(request.headers.items())

    def record(root):
        return root["payments"].journal.record(
            channel, agent, request.remote_addr or "", request.method, request.path,
            request.query_string, body, headers, ext_id=ext_id).key
    return transact(database(request), record, f"{channel}:{agent}",
                          f"journal {channel} request")


def finish_alone(request, key, status, outcome):
    """Record an outcome when there is no processing transaction (rejections, errors)."""
    def finish(root):
        root["payments"].journal.finish(key, status, outcome)
    try:
        transact(database(request), finish, "payments", "journal outcome")
    except Exception:       # the raw request is kept; only its outcome is lost
        log.exception("cannot record the outcome of journal entry %s", key)


def process(request, key, func, user, note):
    """Run ``func(root) -> (status, outcome, result)`` and record the outcome
    in the same transaction; returns *result* after the commit."""
    def work(root):
        status, outcome, result = func(root)
        root["payments"].journal.finish(key, status, outcome)
        return result
    return transact(database(request), work, user, note)


def form_values(request, names):
    """``{name: value}`` of the POSTed *names*, each given at most once;
    a repeated one is a 400 (see :func:`canonical.single_values`)."""
    try:
        return single_values(request.POST, names)
    except NotCanonical as exc:
        raise HTTPBadRequest(str(exc))


def raw_request(request, channel, agent, ext_id=""):
    """The journal fields of *request* (see :meth:`Journal.record`)."""
    return dict(channel=channel, agent=agent, remote=request.remote_addr or "",
                method=request.method, path=request.path, query=request.query_string,
                body=request.body or b"", headers=list(request.headers.items()),
                ext_id=ext_id, received_us=now_us())


def submit(request, channel, agent, func, note, ext_id=""):
    """Journal the request and run ``func(root) -> (status, outcome, result)``
    in this process's group commit; returns *result* once committed."""
    from ..committer import committer_for
    committer = committer_for(database(request), request.registry.settings)
    return committer.submit(raw_request(request, channel, agent, ext_id), func, note)

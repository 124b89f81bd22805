"""Two real ZEO client processes writing to one account at once."""
import contextlib
import os
import subprocess
import sys

import pytest

from portmonet.model.root import get_root
from portmonet.ops.check import check_books

from conftest import PROJECT
from helpers import make_subscriber

pytestmark = pytest.mark.integration


def start_posters(zeo_server, tmp_path, jobs):
    go = tmp_path / "go"
    env = dict(os.environ, POSTER_GO=str(go), PYTHONWARNINGS="ignore")
    procs = [subprocess.Popen([sys.executable, "-m", "tests.poster", str(zeo_server.port)] +
                              [str(a) for a in job], cwd=PROJECT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for job in jobs]
    go.write_text("go")
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(tuple(int(x) for x in out.split()))
    return results


@contextlib.contextmanager
def fresh_view(zeo_server):
    """A root read by a new ZEO client: another client's last commit may not
    have reached an existing client's cache yet (invalidations are async)."""
    database = zeo_server.open_db()
    try:
        with database.transaction() as conn:
            yield get_root(conn.root()), conn
    finally:
        database.close()


def account_of(zeo_db, **kwargs):
    with zeo_db.transaction() as conn:
        _, _, account = make_subscriber(get_root(conn.root()), **kwargs)
        number = account.number
        if kwargs.get("credit_limit") is None:
            account.post(1000, "payment", "opening")
    return number


def test_concurrent_posts_from_two_processes_all_land(zeo_server, zeo_db, tmp_path):
    number = account_of(zeo_db)
    n = 40
    results = start_posters(zeo_server, tmp_path, [(number, "rater", n, -7),
                                                   (number, "cashier", n, 500)])
    assert results == [(n, 0), (n, 0)]
    with fresh_view(zeo_server) as (root, conn):
        account = root.catalog.accounts.get(number)
        assert len(account) == 2 * n + 1
        assert account.balance == 1000 + n * 500 - n * 7 == account.ledger_sum()
        assert account._tree is not None      # grew past the inline ledger meanwhile
        assert check_books(root, conn).ok


def test_guarded_withdrawals_never_overdraw(zeo_server, zeo_db, tmp_path):
    number = account_of(zeo_db)              # 1000 on the account, no credit
    results = start_posters(zeo_server, tmp_path, [(number, "w1", 8, -100, "guarded"),
                                                   (number, "w2", 8, -100, "guarded")])
    assert sum(r[0] for r in results) == 10 and sum(r[1] for r in results) == 6
    with fresh_view(zeo_server) as (root, conn):
        account = root.catalog.accounts.get(number)
        assert account.balance == 0 == account.ledger_sum()


@pytest.mark.parametrize("history", [0, 12], ids=["inline-ledger", "tree-ledger"])
def test_two_clients_same_account_resolve_without_retry(zeo_server, zeo_db, history):
    """Two ZEO clients post on one account from the same snapshot: the second
    commit is merged by conflict resolution, not refused (a ledger bucket
    that must split is the exception: one in ~30 appends retries)."""
    import transaction
    number = account_of(zeo_db)
    with zeo_db.transaction() as conn:
        account = get_root(conn.root()).catalog.accounts.get(number)
        for i in range(history):
            account.post(-1, "charge", f"history:{i}")
    other = zeo_server.open_db()
    tms = [transaction.TransactionManager(), transaction.TransactionManager()]
    conns = [zeo_db.open(transaction_manager=tms[0]), other.open(transaction_manager=tms[1])]
    accounts = [get_root(c.root()).catalog.accounts.get(number) for c in conns]
    for a in accounts:
        a.balance                                    # both read the same state
    accounts[0].post(-300, "charge", "usage:a")
    accounts[1].post(250, "payment", "terminal:b")
    tms[0].commit()
    tms[1].commit()                                  # would raise ConflictError unresolved
    for c in conns:
        c.close()
    other.close()
    with fresh_view(zeo_server) as (root, conn):
        account = root.catalog.accounts.get(number)
        assert account.balance == 950 - history == account.ledger_sum()
        assert {p.cause for p in account.postings()} >= {"opening", "usage:a", "terminal:b"}
        assert (account._tree is not None) == (history > 0)


def test_two_collectors_enqueue_usage_without_retry(zeo_server, zeo_db):
    """RADIUS and a NetFlow collector append to the usage queue at once."""
    import transaction
    from portmonet.usage import UsageRecord
    with zeo_db.transaction() as conn:
        queue = get_root(conn.root()).usage
        for i in range(5):
            queue.enqueue(UsageRecord(f"seed:{i}", "traffic", "u1", i, i + 1, {"octets_in": i}))
    other = zeo_server.open_db()
    tms = [transaction.TransactionManager(), transaction.TransactionManager()]
    conns = [zeo_db.open(transaction_manager=tms[0]), other.open(transaction_manager=tms[1])]
    queues = [get_root(c.root()).usage for c in conns]
    for q in queues:
        q.count()
    queues[0].enqueue(UsageRecord("radius:nas1:s1:1", "traffic", "u1", 10, 20, {"octets_in": 5}))
    queues[1].enqueue(UsageRecord("netflow:r1:77", "traffic", "u2", 10, 20, {"octets_in": 9}))
    tms[0].commit()
    tms[1].commit()
    for c in conns:
        c.close()
    other.close()
    with fresh_view(zeo_server) as (root, conn):
        queue = root.usage
        assert queue.count() == 7
        assert {"radius:nas1:s1:1", "netflow:r1:77"} <= set(queue.seen.keys())


def test_two_decisions_on_one_balance_never_merge(zeo_server, zeo_db):
    """Two cashiers refund from one balance at once: the second commit is
    refused (and its retry sees the first refund), never merged."""
    import transaction
    from ZODB.POSException import ConflictError
    number = account_of(zeo_db)                       # balance 1000
    other = zeo_server.open_db()
    tms = [transaction.TransactionManager(), transaction.TransactionManager()]
    conns = [zeo_db.open(transaction_manager=tms[0]), other.open(transaction_manager=tms[1])]
    accounts = [get_root(c.root()).catalog.accounts.get(number) for c in conns]
    for i, account in enumerate(accounts):
        account.decide_on_balance()
        assert account.balance >= 800                 # each alone may refund 800
        account.post(-800, "refund", f"refund:{i}")
    tms[0].commit()
    with pytest.raises(ConflictError):
        tms[1].commit()
    tms[1].abort()
    for c in conns:
        c.close()
    other.close()
    with fresh_view(zeo_server) as (root, conn):
        assert root.catalog.accounts.get(number).balance == 200

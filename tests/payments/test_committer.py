"""The group committer: many requests, one transaction; acknowledged means
committed; a failing request keeps its raw journal entry."""
import threading

import pytest
import transaction
import ZODB
from ZODB.MappingStorage import MappingStorage
from ZODB.POSException import ConflictError

from portmonet.model.root import get_root, install
from portmonet.payments.committer import Committer, Unavailable

from .conftest import add_subscriber


@pytest.fixture
def world():
    db = ZODB.DB(MappingStorage())
    with db.transaction() as conn:
        install(conn.root())
    with db.transaction() as conn:
        number = add_subscriber(get_root(conn.root()), "Petrov Petr").account.number
    yield db, number
    db.close()


def raw(n):
    return dict(channel="osmp", agent="t", remote="127.0.0.1", method="GET",
                path="/payments/t/osmp", query=f"txn_id={n}&password=secret", body=b"",
                headers=[], ext_id=str(n))


def look(db, func):
    with db.transaction() as conn:
        return func(get_root(conn.root()))


def pay(number, n, amount=100):
    def work(root):
        account = root.catalog.accounts.get(number)
        account.post(amount, "payment", f"test:{n}")
        return "done", f"paid {n}", account.balance
    return work


def test_requests_arriving_together_commit_together_and_answer_after_commit(world):
    db, number = world
    committer = Committer(db, cache_size=1000)
    gate, started = threading.Event(), threading.Event()
    results = {}

    def slow(root):           # holds the first batch open while others queue
        started.set()
        gate.wait(30)
        return "done", "first", None
    first = threading.Thread(target=lambda: committer.submit(raw(0), slow, "first"))
    first.start()
    assert started.wait(30)

    def submit(n):
        results[n] = committer.submit(raw(n), pay(number, n), f"pay {n}")
        # Acknowledged means committed: a fresh connection sees the posting.
        results[n, "seen"] = look(db, lambda root: root.catalog.causes.get(f"test:{n}"))
    threads = [threading.Thread(target=submit, args=(n,)) for n in range(1, 21)]
    for t in threads:
        t.start()
    for _ in range(3000):
        if committer.queue.qsize() >= 20:
            break
        threading.Event().wait(0.01)
    gate.set()
    for t in threads + [first]:
        t.join(10)
    assert all(results[n, "seen"] is not None for n in range(1, 21))
    for _ in range(100):        # the counters move just after the answers
        if committer.jobs == 21:
            break
        threading.Event().wait(0.01)
    assert committer.batches == 2 and committer.jobs == 21
    assert look(db, lambda root: root.catalog.accounts.get(number).balance) == 2000

    def journal(root):
        entries = [root["payments"].journal.for_ext_id("t", str(n)) for n in range(21)]
        return [(len(e), e[0].status, e[0].query) for e in entries]
    got = journal_rows = look(db, journal)
    assert all(count == 1 and status == "done" for count, status, _ in got)
    assert all("secret" not in query for _, _, query in journal_rows)


def test_a_failing_request_keeps_its_raw_entry_and_the_others_commit(world):
    db, number = world
    committer = Committer(db, cache_size=1000)
    gate = threading.Event()
    errors, results = {}, {}

    def boom(root):
        root.catalog.accounts.get(number).post(999, "payment", "test:boom")
        raise RuntimeError("processing failed")

    def submit(n, work):
        try:
            results[n] = committer.submit(raw(n), work, f"job {n}")
        except Exception as exc:
            errors[n] = exc
    started = threading.Event()
    blocker = threading.Thread(target=submit, args=(0, lambda root: (
        started.set(), gate.wait(30), "done", "", 0)[2:]))
    blocker.start()
    assert started.wait(30)
    threads = [threading.Thread(target=submit, args=(n, boom if n == 3 else pay(number, n)))
               for n in range(1, 6)]
    for t in threads:
        t.start()
    for _ in range(3000):
        if committer.queue.qsize() >= 5:
            break
        threading.Event().wait(0.01)
    gate.set()
    for t in threads + [blocker]:
        t.join(10)
    assert set(errors) == {3} and isinstance(errors[3], RuntimeError)
    assert set(results) == {0, 1, 2, 4, 5}

    def state(root):
        journal = root["payments"].journal
        return (root.catalog.accounts.get(number).balance,
                root.catalog.causes.get("test:boom"),
                [e.status for e in journal.for_ext_id("t", "3")],
                [e.outcome for e in journal.for_ext_id("t", "3")])
    balance, boom_cause, statuses, outcomes = look(db, state)
    assert balance == 400 and boom_cause is None      # its half-done work is gone
    assert statuses == ["error"] and "processing failed" in outcomes[0]


def test_a_conflict_retries_the_batch_once_more(world):
    db, number = world
    committer = Committer(db, cache_size=1000)
    tries = []

    def flaky(root):
        tries.append(1)
        root.catalog.accounts.get(number).post(100, "payment", "test:flaky")
        if len(tries) == 1:
            raise ConflictError("simulated")
        return "done", "ok", len(tries)
    assert committer.submit(raw(7), flaky, "flaky") == 2
    assert look(db, lambda root: (root.catalog.accounts.get(number).balance,
                                  len(root["payments"].journal.for_ext_id("t", "7")))) == (100, 1)
    assert committer.conflicts == 1


def test_a_commit_that_cannot_happen_answers_unavailable(world):
    db, number = world
    committer = Committer(db, cache_size=1000)

    def vetoed(root):
        root.catalog.accounts.get(number).post(100, "payment", "test:veto")
        transaction_of(root).addBeforeCommitHook(_veto)
        return "done", "", None
    with pytest.raises(Unavailable):
        committer.submit(raw(8), vetoed, "veto")
    assert look(db, lambda root: ([e.status for e in root["payments"].journal.for_ext_id("t", "8")],
                                  root.catalog.accounts.get(number).balance)) == (["error"], 0)


def transaction_of(root):
    return root._p_jar.transaction_manager.get()


def _veto():
    raise OSError("storage went away")


def test_committer_thread_survives_and_keeps_serving(world):
    db, number = world
    committer = Committer(db, cache_size=1000)
    with pytest.raises(Unavailable):
        committer.submit(raw(9), lambda root: (transaction_of(root).addBeforeCommitHook(_veto),
                                               "done", "", None)[1:], "veto")
    assert committer.submit(raw(10), pay(number, 10), "after") == 100
    transaction.abort()

"""Contracts-per-status counters: kept by the model, recounted by the
evolve step, proved by ``portmonet check``, merged between writers."""
import transaction

from portmonet.evolve.core import add_contract_status_counts, count_contracts
from portmonet.model.root import get_root
from portmonet.model.subscriber import Subscriber
from portmonet.ops.check import check_books


def people(root, n):
    subs = []
    for i in range(n):
        sub = root["subscribers"].add_subscriber(Subscriber(f"Person {i}"))
        sub.new_contract(status="active")
        subs.append(sub)
    return subs


def test_counters_follow_creation_status_and_removal(root, tm):
    counts = root.contract_counts
    assert counts.as_dict() == dict.fromkeys(counts.as_dict(), 0)
    subs = people(root, 3)
    subs[0].new_contract(status="draft")
    assert counts.get("active") == 3 and counts.get("draft") == 1
    contract = subs[1].contracts()[0]
    contract.set_status("blocked", "debt", "test")
    contract.set_status("blocked", "again", "test")          # no change: not counted twice
    assert (counts.get("active"), counts.get("blocked")) == (2, 1)
    subs[1].remove(contract.__name__)
    assert counts.get("blocked") == 0
    assert counts.as_dict() == count_contracts(root)
    tm.commit()


def test_evolve_step_recounts_in_batches_and_is_idempotent(root, tm):
    subs = people(root, 7)
    subs[2].contracts()[0].set_status("suspended", "", "test")
    expected = count_contracts(root)
    assert count_contracts(root, batch=2) == expected == {
        "draft": 0, "active": 6, "suspended": 1, "blocked": 0, "terminated": 0}
    # A database from before the counters ...
    root.contract_counts = None
    add_contract_status_counts(root)
    assert root.contract_counts.as_dict() == expected
    # ... and a rerun (or counters gone wrong) sets the same figures.
    root.contract_counts.change("active", 5)
    add_contract_status_counts(root)
    add_contract_status_counts(root)
    assert root.contract_counts.as_dict() == expected
    tm.commit()


def test_check_compares_with_a_recount(root, conn, tm):
    people(root, 2)
    report = check_books(root, conn)
    assert report.ok and report.counts["contracts active"] == 2
    root.contract_counts.change("blocked", 1)
    report = check_books(root, conn)
    assert not report.ok
    assert any("contracts blocked: counter says 1" in p for p in report.problems)
    tm.abort()


def test_writers_changing_statuses_at_once_do_not_conflict(tmp_path):
    # A FileStorage (as ZEO serves): it resolves conflicts, MappingStorage does not.
    import ZODB
    from ZODB.FileStorage import FileStorage
    from portmonet.model.root import install
    db = ZODB.DB(FileStorage(str(tmp_path / "Data.fs")))
    try:
        with db.transaction() as c:
            people(install(c.root()), 2)
        tms = [transaction.TransactionManager() for _ in range(2)]
        conns = [db.open(transaction_manager=t) for t in tms]
        for i, c in enumerate(conns):
            sub = get_root(c.root())["subscribers"].values()[i]
            sub.contracts()[0].set_status("blocked", "debt", "test")
            sub.new_contract(status="draft")
        for t in tms:
            t.commit()        # the second merges the counters (BTrees.Length)
        for c in conns:
            c.close()
        with db.transaction() as c:
            counts = get_root(c.root()).contract_counts.as_dict()
        assert (counts["active"], counts["blocked"], counts["draft"]) == (0, 2, 2)
    finally:
        db.close()

"""Property tests: rating twice posts once; balances equal postings."""
import transaction
import ZODB
from hypothesis import HealthCheck, given, settings, strategies as st
from ZODB.MappingStorage import MappingStorage

from portmonet.model.root import get_root, install
from portmonet.ops.check import check_books
from portmonet.rating import rater

from tariffs.world import call, load_plans, make_contract, traffic, us

DESTINATIONS = ["74992223344", "79161234567", "79031234567", "112", "78121234567",
                "12125550100", "33123456789"]

records = st.lists(st.tuples(
    st.integers(0, 30),                      # source id (collisions = repeats)
    st.sampled_from(["call", "traffic"]),
    st.integers(0, 2),                       # which contract (2 = unknown subject)
    st.integers(0, 4000),                    # seconds / MB
    st.integers(0, 7 * 24 * 3600),           # offset into a week
    st.sampled_from(DESTINATIONS),
), min_size=1, max_size=40)


def world():
    db = ZODB.DB(MappingStorage())
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    root = install(conn.root())
    load_plans(root)
    contracts = [make_contract(root, n, balance=0) for n in (1, 2)]
    tm.commit()
    return db, conn, tm, get_root(conn.root()), contracts


def make(item, contracts):
    sid, kind, who, amount, offset, dest = item
    start = us(2024, 3, 4, 0, 0) + offset * 1_000_000
    if kind == "call":
        number = contracts[who].services("phone")[0].number if who < 2 else "74950000000"
        return call(f"c{sid}", number, dest, amount, start)
    login = contracts[who].services("internet")[0].login if who < 2 else "ghost"
    return traffic(f"t{sid}", login, amount * 1_000_000, amount * 100_000, start, remote="8.8.8.8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.integers(1, 7), st.lists(st.booleans(), max_size=10))
def test_rating_twice_posts_once_and_balances_equal_postings(items, batch, crashes):
    db, conn, tm, root, contracts = world()
    try:
        for item in items:
            root.usage.enqueue(make(item, contracts))
        tm.commit()
        expected = {r.source_id for _, r in root.usage.items()}
        crashes = list(crashes)
        while root.usage.count():
            rater.rate_batch(root, batch, conn)
            if crashes and crashes.pop():
                tm.abort()          # the rater died before its commit
            else:
                tm.commit()
        # the same records offered again are refused by the queue, and a
        # record forced back in is skipped by the rater
        for item in items:
            assert not root.usage.enqueue(make(item, contracts))
        state = root["rating"]
        first = next(state.rated_items(), None)
        if first is not None:
            rated = first[1]
            root.usage.tree_of(rated.key)[rated.key] = rated.record
            assert rater.rate_batch(root, 10, conn)["skipped"] == 1
            tm.commit()
        rated_ids = {r.source_id for _, r in state.rated_items()}
        parked_ids = {p.record.source_id for _, p in state.parked_items()}
        assert rated_ids | parked_ids == expected
        assert not rated_ids & parked_ids
        for contract in contracts:
            account = contract.account
            usage = [p for p in account.ledger.values() if p.cause.startswith("usage:")]
            assert len(usage) == len({p.cause for p in usage})
            rated = [r for _, r in state.rated_items() if r.contract == contract.number]
            assert -sum(p.amount for p in usage) == sum(r.amount for r in rated)
            assert account.balance == account.ledger_sum()
        report = check_books(root, conn)
        assert report.ok, report.problems
    finally:
        tm.abort()
        conn.close()
        db.close()

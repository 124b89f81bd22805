"""A database from before the lanes: evolved, its queued records move into
their lanes, its rated records (and their indexed charges) stay where they
are and are found, re-rated and checked with the new ones."""
import pytest

from portmonet.model.root import get_root
from portmonet.ops.check import check_books
from portmonet.rating import evolve, rater
from portmonet.rating.model import RatedRecord, UsageCauses
from portmonet.usage import LANES, lane_of

from tariffs.world import call, load_plans, make_contract, us

MONDAY_NOON = us(2024, 3, 4, 12, 0)


@pytest.fixture
def old_world(root, tm):
    """The queue and the rating as they were before the lanes: one record
    rated then (its charge in the cause index), two still queued."""
    load_plans(root)
    contract = make_contract(root, balance=0)
    line = contract.services("phone")[0].number
    queue, state = root.usage, root["rating"]
    queue.lanes = state.lanes = ()
    for sid in ("old:1", "old:2", "old:3"):
        assert queue.enqueue(call(sid, line, "74992223344", 61, MONDAY_NOON))
    key, record = next(iter(queue.pending.items()))
    posting, _ = contract.account.post(-240, "charge", "usage:old:1", user="portmonet rate")
    state.rated[key] = RatedRecord(key=key, record=record, contract=contract.number,
                                   account=contract.account.number, service="phone-1",
                                   tariff="phone", version=1, amount=240, cause="usage:old:1",
                                   generation=0, counted=(), parts=())
    state.rated_count.change(1)
    del queue.pending[key]
    tm.commit()
    return contract


def test_evolve_moves_queued_records_into_lanes_and_keeps_old_ones_found(root, tm, conn,
                                                                       old_world):
    with pytest.raises(RuntimeError, match="portmonet evolve"):
        rater.rate_batch(root, 10)
    tm.abort()
    evolve.add_lanes(root)
    evolve.add_lanes(root)                       # idempotent
    queue, state = root.usage, root["rating"]
    assert len(queue.lanes) == len(state.lanes) == LANES and not queue.pending
    moved = list(queue.items())
    assert [r.source_id for _, r in moved] == ["old:2", "old:3"]
    for key, record in moved:
        assert key % LANES == lane_of(old_world.number) and queue.seen[record.source_id] == key
    assert rater.rate_batch(root, 10, conn)["rated"] == 2
    tm.commit()
    account = old_world.account
    assert account.balance == -720
    for sid in ("old:1", "old:2", "old:3"):
        assert state.find(sid).amount == 240
        assert account.find_cause(f"usage:{sid}").amount == -240
    # the old charge is in the index, the new ones only in their rated records
    assert root.catalog.causes.get("usage:old:1") is not None
    assert root.catalog.causes.get("usage:old:2") is None
    assert UsageCauses().where(account, "usage:old:2") == (account.number, state.find("old:2").posting)
    # posting a usage cause again by hand changes nothing, old or new
    for sid in ("old:1", "old:2"):
        assert account.post(-240, "charge", f"usage:{sid}")[1] is False
    report = check_books(root, conn)
    assert report.ok, report.problems
    assert report.counts["rated"] == 3 and report.counts["postings"] == 3


def test_check_finds_a_rated_record_that_is_not_its_charge(root, tm, conn, old_world):
    evolve.add_lanes(root)
    rater.rate_batch(root, 10, conn)
    tm.commit()
    state = root["rating"]
    rated = state.find("old:2")
    wrong = RatedRecord(**dict({n: getattr(rated, n) for n in RatedRecord.__slots__},
                               amount=rated.amount + 1))
    state.lane(rated.key).rated[rated.key] = wrong
    report = check_books(root, conn)
    assert not report.ok
    assert any(p.startswith("rated old:2: recorded") for p in report.problems), report.problems


def test_check_finds_a_usage_charge_posted_twice(root, tm, conn, old_world):
    evolve.add_lanes(root)
    rater.rate_batch(root, 10, conn)
    tm.commit()
    account = old_world.account
    # a second charge of the same usage cause, past the rater (a bug)
    account.post_owned(-240, "charge", "usage:old:2")
    report = check_books(root, conn)
    assert not report.ok
    assert any("posted twice or without its record" in p for p in report.problems)


def test_rerate_and_retry_work_across_old_and_new_records(root, tm, conn, old_world):
    evolve.add_lanes(root)
    rater.rate_batch(root, 10, conn)
    tm.commit()
    from tariffs.samples import PLANS
    load_plans(root, PLANS.replace('price: "1.00", increment: 60/60, prices',
                                   'price: "1.50", increment: 60/60, prices'), replace=True)
    out = rater.rerate(root, old_world.number, us(2024, 3, 1, 0, 0), us(2024, 4, 1, 0, 0))
    assert (out["records"], out["changed"], out["old"], out["new"]) == (3, 3, 720, 1080)
    tm.commit()
    assert old_world.account.balance == -1080
    assert get_root(conn.root())["rating"].find("old:3").generation == 1
    report = check_books(root, conn)
    assert report.ok, report.problems

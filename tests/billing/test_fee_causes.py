"""Billing owns fee causes: a fee's charge is not in the cause index, its
fee record (in the period's tree, in subscriber order) names the posting;
the ledger, the books check, invoices and reports find it there.  Fees of
runs made before (record by cause, charge in the cause index) keep working
after ``evolve``."""
import datetime
import pickle

from portmonet import db as dbmod
from portmonet import evolve
from portmonet.billing import reports
from portmonet.billing.model import FeeRecord, FeeTree, fee_key
from portmonet.clock import day_start_us
from portmonet.billing import run as runmod
from portmonet.billing.run import run
from portmonet.model.root import get_root
from portmonet.ops.check import check_books

from tariffs.world import load_plans, make_contract

D = datetime.date
APRIL_1 = day_start_us(D(2024, 4, 1))
MAY_1 = day_start_us(D(2024, 5, 1))


def tx(db, func):
    return dbmod.transact(db, func, "test", "test")


def build(db, n=3):
    def work(root):
        load_plans(root)
        return [make_contract(root, i, balance=500000).number for i in range(1, n + 1)]
    return tx(db, work)


def test_fee_charges_are_owned_and_found_through_their_records(db, conn):
    numbers = build(db)
    assert run(db, "2024-03", now=APRIL_1)["fees"] == 6

    def look(root):
        billing = root["billing"]
        assert not list(root.catalog.causes.keys("fee:", "fee;", excludemax=True))
        tree = billing.fee_tree("2024-03", 1)
        assert isinstance(tree, FeeTree) and len(tree) == 6
        assert list(billing.fee_periods.keys()) == [("2024-03", -2 ** 63)]
        # keyed in subscriber order (10 sorts after 9)
        assert fee_key(9, "9-1", "a") < fee_key(10, "10-1", "a") < fee_key(100, "100-1", "a")
        for number in numbers:
            contract = root.catalog.contracts.get(number)
            for service in contract.values():
                cause = f"fee:{number}:{service.__name__}:2024-03"
                record = billing.find_fee(cause)
                assert record is billing.fee(contract, service.__name__, "2024-03")
                posting = contract.account.find_cause(cause)
                assert posting.key == record.posting and posting.amount == -record.amount
                # the ledger's own once-only path refuses it too
                again, created = contract.account.post(-1, "charge", cause)
                assert not created and again.key == posting.key
        report = check_books(root, root._p_jar)
        assert report.ok, report.problems
        assert report.counts["fees"] == 6
        assert report.owned_by["fee"]["postings"].count == 6
    tx(db, look)


def test_each_shard_appends_to_its_own_fee_tree_and_a_new_plan_keeps_them(db, conn):
    build(db, 6)
    assert runmod.start(db, "2024-03", APRIL_1, count=2) == 2
    runmod.bill_shard(db, "2024-03", 1, now=APRIL_1, batch=2)

    def two_trees(root):
        billing = root["billing"]
        lows = [s.lo for s in billing.runs["2024-03"].shards]
        assert lows[0] is None and lows[1] > 1
        keys = list(billing.fee_periods.keys())
        assert keys == [("2024-03", -2 ** 63), ("2024-03", lows[1])]
        low, high = (billing.fee_periods[k] for k in keys)
        above = len(list(root["subscribers"].data.keys(lows[1])))
        assert 0 < above < 6
        assert len(low) == 0 and len(high) == 2 * above
        return above
    above = tx(db, two_trees)
    # planned again in 3 shards: the trees stay, each fee is still found once
    assert runmod.start(db, "2024-03", APRIL_1, count=3, restart=True) == 3
    got = sum(runmod.bill_shard(db, "2024-03", i, now=APRIL_1)["fees"] for i in range(3))
    assert got == 2 * (6 - above)

    def after(root):
        billing = root["billing"]
        assert len(billing.fee_periods) == 2
        assert len(list(billing.fee_records("2024-03"))) == 12
        assert len(billing.fee_periods[("2024-03", -2 ** 63)]) == 2 * (6 - above)
        report = check_books(root, root._p_jar)
        assert report.ok, report.problems
    tx(db, after)


def test_check_finds_a_fee_charged_twice_or_without_its_record(db, conn):
    numbers = build(db, 2)
    run(db, "2024-03", now=APRIL_1)

    def charge_twice(root):
        account = root.catalog.contracts.get(numbers[0]).account
        account.post_owned(-100, "charge", f"fee:{numbers[0]}:internet-1:2024-03")
    tx(db, charge_twice)

    def check(root):
        report = check_books(root, root._p_jar)
        assert not report.ok
        assert any("fee charges on the ledgers" in p for p in report.problems), report.problems
    tx(db, check)


def test_check_finds_a_record_whose_charge_is_missing(db, conn):
    numbers = build(db, 1)
    run(db, "2024-03", now=APRIL_1)

    def forge(root):
        billing = root["billing"]
        contract = root.catalog.contracts.get(numbers[0])
        record = billing.fee(contract, "internet-1", "2024-03")
        billing.add_fee(contract, record.replace(posting=record.posting + 1))
    tx(db, forge)

    def check(root):
        report = check_books(root, root._p_jar)
        assert any("no posting" in p for p in report.problems), report.problems
        assert any("fee charges on the ledgers" in p for p in report.problems)
    tx(db, check)


def test_a_fee_record_pickled_before_the_posting_slot_loads():
    old = FeeRecord(cause="fee:1-1:internet-1:2024-03", contract="1-1", account="x",
                    service="internet-1", service_kind="internet", period="2024-03",
                    tariff="t", version=1, days=31, period_days=31, lines=(), base=1,
                    discount=0, tax=0, amount=1)
    values = tuple(getattr(old, n) for n in FeeRecord.__slots__[:-1])
    from portmonet.billing.model import _unpack
    loaded = _unpack(FeeRecord, pickle.dumps(values, protocol=4))
    assert loaded.amount == 1 and loaded.posting is None
    assert pickle.loads(pickle.dumps(old)).cause == old.cause


def test_fees_of_an_old_run_stay_once_after_evolve(db, conn, tm):
    numbers = build(db, 2)

    def old_run(root):
        """What a run before owned fee causes left: records by cause in
        ``billing.fees``, charges in the cause index, no fee_periods."""
        billing = root["billing"]
        billing.run_state("2024-03", APRIL_1)
        for number in numbers:
            contract = root.catalog.contracts.get(number)
            for service in contract.values():
                cause = f"fee:{number}:{service.__name__}:2024-03"
                contract.account.post(-1000, "charge", cause, when=APRIL_1 - 1)
                billing.fees[cause] = FeeRecord(
                    cause=cause, contract=number, account=contract.account.number,
                    service=service.__name__, service_kind=service.kind, period="2024-03",
                    tariff="t", version=1, days=31, period_days=31, lines=(), base=1000,
                    discount=0, tax=0, amount=1000)
        del billing.fee_periods
        del billing.legacy_fee_periods
        root.evolved.remove("2026-11-26-billing-02-fee-periods")
    tx(db, old_run)

    def before_evolve(root):
        billing = root["billing"]
        assert billing.fee_periods is None and billing.legacy_fee_periods is None
        contract = root.catalog.contracts.get(numbers[0])
        # not evolved: the old records are still found
        assert billing.fee(contract, "internet-1", "2024-03").amount == 1000
    tx(db, before_evolve)
    root = get_root(conn.root())
    tm.begin()
    assert evolve.run(root, tm=tm) == ["2026-11-26-billing-02-fee-periods"]
    assert root["billing"].legacy_fee_periods == ("2024-03",)
    tm.commit()
    # billing the old period again charges nothing; the next one is owned
    assert run(db, "2024-03", now=APRIL_1, restart=True)["fees"] == 0
    assert run(db, "2024-04", now=MAY_1)["fees"] == 4

    def after(root):
        billing = root["billing"]
        contract = root.catalog.contracts.get(numbers[0])
        assert contract.account.find_cause(f"fee:{numbers[0]}:internet-1:2024-03").amount == -1000
        assert contract.account.find_cause(f"fee:{numbers[0]}:internet-1:2024-04").amount < 0
        assert len(list(billing.fee_records())) == 8
        assert len(list(billing.fee_records("2024-03"))) == 4
        report = check_books(root, root._p_jar)
        assert report.ok, report.problems
        assert report.owned_by["fee"]["indexed"].count == 4
        inv = billing.invoices[("2024-03", contract.account.number)]
        assert inv.charges == 2000 and any("fee" in label for label, _ in inv.lines)
        header, rows = reports.charges(root, root._p_jar, day_start_us(D(2024, 3, 1)), MAY_1)
        assert "?" not in {row[1] for row in rows}, rows
    tx(db, after)

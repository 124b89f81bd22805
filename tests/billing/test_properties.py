"""Property tests of the billing run: fees once whatever the interruptions,
balances equal postings, proration adds up."""
import datetime
from decimal import Decimal

import transaction
import ZODB
from hypothesis import HealthCheck, given, settings, strategies as st
from ZODB.MappingStorage import MappingStorage

from portmonet import db as dbmod
from portmonet.clock import day_start_us
from portmonet.billing.run import run
from portmonet.model.root import get_root, install
from portmonet.ops.check import check_books
from portmonet.tariffs import rules

from tariffs.world import load_plans, make_contract

D = datetime.date


@given(st.integers(1, 100_000_00), st.sampled_from([(2023, 2), (2024, 2), (2024, 4), (2024, 12)]),
       st.integers(0, 31))
def test_two_stretches_add_up_to_the_month(fee, month, cut):
    days = rules.days_in_month(*month)
    cut = min(cut, days)
    parts = rules.prorate(fee, cut, days) + rules.prorate(fee, days - cut, days)
    assert abs(parts - fee) <= 1
    assert rules.prorate(fee, days, days) == fee


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 200000)), min_size=1, max_size=8),
       st.lists(st.integers(1, 3), min_size=1, max_size=6), st.integers(1, 3))
def test_billing_interrupted_any_way_charges_each_fee_once(contracts, stops, batch):
    db = ZODB.DB(MappingStorage())
    try:
        def build(root):
            load_plans(root)
            return [make_contract(root, n, balance=balance,
                                  started=D(2024, 2, 1) + datetime.timedelta(days=offset)).number
                    for n, (offset, balance) in enumerate(contracts)]
        with db.transaction() as c:
            install(c.root())
        numbers = dbmod.transact(db, build, "test", "build")
        now = day_start_us(D(2024, 4, 1))
        for stop in stops:               # runs cut short after some batches
            run(db, "2024-03", now=now, batch=batch, stop_after_batches=stop)
        run(db, "2024-03", now=now, batch=batch)
        run(db, "2024-03", now=now, batch=batch)
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        root = get_root(conn.root())
        billing = root["billing"]
        for n, (start_offset, balance) in enumerate(contracts):
            started = D(2024, 2, 1) + datetime.timedelta(days=start_offset)
            contract = root.catalog.contracts.get(numbers[n])
            fees = [p for p in contract.account.ledger.values() if p.cause.startswith("fee:")]
            days = max(0, (D(2024, 4, 1) - max(started, D(2024, 3, 1))).days)
            internet = rules.prorate(60000, days, 31)
            phone_net = rules.prorate(25000, days, 31)
            expected = sorted(a for a in (-internet, -(phone_net + rules.Tax(Decimal(20), False).apply(phone_net)[1])) if a)
            assert sorted(p.amount for p in fees) == expected
            assert contract.account.balance == contract.account.ledger_sum()
        assert list(billing.invoice_numbers) == list(range(1, len(billing.invoices) + 1))
        report = check_books(root, conn)
        assert report.ok, report.problems
        conn.close()
    finally:
        db.close()

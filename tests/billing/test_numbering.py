"""Shards draw invoices without numbers; the numbering pass numbers them
in account order, gap-free, resumable; the books check knows the states."""
import datetime

from portmonet import db as dbmod
from portmonet.billing import run as runmod
from portmonet.clock import day_start_us
from portmonet.ops.check import check_books

from tariffs.world import load_plans, make_contract

APRIL_1 = day_start_us(datetime.date(2024, 4, 1))
P = "2024-03"


def tx(db, func):
    return dbmod.transact(db, func, "test", "test")


def build(db, n=5):
    def work(root):
        load_plans(root)
        for i in range(n):
            make_contract(root, i, balance=0 if i % 2 else 500000)
    tx(db, work)


def test_shards_draw_then_one_pass_numbers_in_account_order(db, conn):
    build(db)
    assert runmod.start(db, P, APRIL_1, count=2) == 2
    # the second shard first: drawing order does not decide the numbers
    second = runmod.bill_shard(db, P, 1, now=APRIL_1, batch=2)
    first = runmod.bill_shard(db, P, 0, now=APRIL_1, batch=2)
    assert second["contracts"] + first["contracts"] == 5 and first["contracts"] > 0

    def drawn(root):
        billing = root["billing"]
        # each shard's invoices in its own tree, none numbered nor in ``invoices`` yet
        trees = billing.drawn_trees(P)
        assert len(trees) == 2 and all(len(t) for t in trees)
        drawn = [inv for t in trees for inv in t.values()]
        assert len(drawn) == 5 and len(billing.invoice_numbers) == 0
        assert len(billing.invoices) == 0 and all(inv.number is None for inv in drawn)
        report = check_books(root, root._p_jar)
        assert report.ok and report.counts["invoices_not_numbered_yet"] == 5
        assert [s.finished for s in billing.runs[P].shards] == [True, True]
    tx(db, drawn)

    def first_number(root):            # a pass killed after its first batch
        billing = root["billing"]
        numbered, last = billing.number_invoices(P, None, 2)
        billing.runs[P].numbered_through = last
        assert numbered == 2
    tx(db, first_number)
    assert runmod.number(db, P, batch=2) == 3
    assert runmod.number(db, P) == 0
    assert runmod.finish(db, P, APRIL_1) == []

    def numbered(root):
        billing = root["billing"]
        keys = list(billing.invoices.keys())
        assert [billing.invoices[k].number for k in keys] == [1, 2, 3, 4, 5]
        assert [billing.invoice_numbers[n] for n in range(1, 6)] == keys
        assert billing.invoice(3).label == "INV-00000003"
        state = billing.runs[P]
        assert state.finished_us and state.contracts == 5 and state.invoices == 5
        assert check_books(root, root._p_jar).ok
    tx(db, numbered)


def test_check_finds_an_unnumbered_invoice_of_a_finished_run(db, conn):
    build(db, 2)
    runmod.run(db, P, now=APRIL_1)

    def spoil(root):
        billing = root["billing"]
        key = next(iter(billing.invoices.keys()))
        billing.invoices[key] = billing.invoices[key].replace(number=None)
        del billing.invoice_numbers[1]
        report = check_books(root, root._p_jar)
        assert not report.ok
        assert any("drawn by a finished run but not numbered" in p for p in report.problems)
        root._p_jar.transaction_manager.doom()
    tx_db = db.open()
    try:
        from portmonet.model.root import get_root
        spoil(get_root(tx_db.root()))
    finally:
        tx_db.transaction_manager.abort()
        tx_db.close()


def test_a_shard_of_another_plan_is_refused_while_a_run_is_under_way(db, conn):
    build(db, 3)
    runmod.start(db, P, APRIL_1, count=2)
    runmod.bill_shard(db, P, 0, now=APRIL_1, batch=1, stop_after_batches=1)
    try:
        runmod.start(db, P, APRIL_1, count=3, strict=True)
    except runmod.RunPlanned as exc:
        assert "under way in 2 shards" in str(exc)
    else:
        raise AssertionError("a second plan was accepted")
    # the in-process run goes on with the plan under way, every shard
    stats = runmod.run(db, P, now=APRIL_1)
    assert stats["numbered"] == 3


def test_invoices_an_older_release_left_unnumbered_are_numbered_in_order_with_the_drawn(db, conn):
    build(db, 4)
    assert runmod.start(db, P, APRIL_1, count=2) == 2
    runmod.bill_shard(db, P, 0, now=APRIL_1)
    runmod.bill_shard(db, P, 1, now=APRIL_1)

    def move_one(root):
        """As an older release drew: unnumbered, straight in ``invoices``."""
        billing = root["billing"]
        tree = billing.drawn_trees(P)[1]
        account, invoice = next(iter(tree.items()))
        del tree[account]
        billing.invoices[(P, account)] = invoice
        return account
    moved = tx(db, move_one)
    assert runmod.number(db, P, batch=1) == 4

    def look(root):
        billing = root["billing"]
        keys = list(billing.invoices.keys())
        assert (P, moved) in keys and len(keys) == 4
        assert [billing.invoices[k].number for k in keys] == [1, 2, 3, 4]
        assert billing.drawn_trees(P) == []
        assert check_books(root, root._p_jar).ok
    tx(db, look)

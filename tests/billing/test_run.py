"""The billing run on an in-memory database: fees once, invoices with
gap-free numbers, auto-payment, debt control, promises, warnings, reports."""
import datetime

import pytest

from portmonet import db as dbmod
from portmonet.billing import debt, render, reports
from portmonet.clock import day_start_us
from portmonet.billing.run import Options, run
from portmonet.ops.check import check_books

from tariffs.world import load_plans, make_contract

D = datetime.date
APRIL_1 = day_start_us(D(2024, 4, 1))


def tx(db, func):
    return dbmod.transact(db, func, "test", "test")


@pytest.fixture
def world(db, conn):
    def build(root):
        load_plans(root)
        rich = make_contract(root, 1, balance=500000)
        poor = make_contract(root, 2, balance=1000)
        poor.add_service  # noqa: B018
        payer = make_contract(root, 3, balance=0)
        payer.autopay_enabled = True
        payer.autopay_source = rich.account.number
        payer.autopay_limit = 50000
        return rich.number, poor.number, payer.number
    numbers = tx(db, build)
    return db, numbers


def contract(root, number):
    return root.catalog.contracts.get(number)


def test_month_run_charges_invoices_and_controls_debt(world):
    db, (rich, poor, payer) = world
    stats = run(db, "2024-03", now=APRIL_1, batch=2)
    # each contract: Internet 600.00 (VAT incl.) + phone 250.00 + 20% VAT = 900.00
    assert stats["fees"] == 6 and stats["contracts"] == 3 and stats["invoices"] == 3

    def look(root):
        r, p, y = (contract(root, n) for n in (rich, poor, payer))
        assert p.account.balance == 1000 - 90000 and p.status == "blocked"
        # the payer's 900.00 debt was paid from rich's account, up to its 500.00 limit
        assert y.account.balance == -90000 + 50000 and y.status == "blocked"
        assert r.account.balance == 500000 - 90000 - 50000 and r.status == "active"
        assert r.account.find_cause(f"autopay:{y.number}:2024-03:from").amount == -50000
        billing = root["billing"]
        inv = billing.invoices[("2024-03", p.account.number)]
        assert (inv.opening, inv.charges, inv.payments, inv.closing) == (0, 90000, 0, -90000)
        assert inv.tax == 10000 + 5000
        assert sorted(billing.invoice_numbers) == [1, 2, 3]
        # debt control queued the disconnect and the letter, once each
        radius = list(root.outbox.channels["radius"].values())
        assert {m.payload["login"] for m in radius} == {"ivan2", "ivan3"}
        assert all(m.payload["action"] == "disconnect" for m in radius)
        mail = [m.payload for m in root.outbox.channels["mail"].values()]
        assert {m["template"] for m in mail} == {"blocked"}
        assert check_books(root, root._p_jar).ok
        return inv
    inv = tx(db, look)
    # a second run (and a restart from scratch) changes nothing
    for _ in range(2):
        again = run(db, "2024-03", now=APRIL_1)
        assert again["contracts"] == 3
        assert (again["fees"], again["invoices"], again["blocked"], again["autopaid"]) == (0, 0, 0, 0)

    def unchanged(root):
        assert contract(root, poor).account.balance == -89000
        assert len(root["billing"].invoices) == 3 and len(root.outbox.channels["radius"]) == 2
    tx(db, unchanged)
    html = render.html(inv)
    assert "INV-0000000" in html and "-900.00" in html
    assert render.pdf(inv).startswith(b"%PDF")


def test_payment_unblocks_and_promise_and_warning(world):
    db, (rich, poor, payer) = world
    run(db, "2024-03", now=APRIL_1)
    today = D(2024, 4, 2)

    def pay_and_pass(root):
        p = contract(root, poor)
        p.account.post(100000, "payment", "test-payment:1")
        return debt.debt_pass(root, root["billing"], today)
    out = tx(db, pay_and_pass)
    assert out["unblocked"] == 1

    def promise(root):
        y = contract(root, payer)
        assert y.status == "blocked"
        promise = debt.take_promise(root, root["billing"], y, 50000, 3, today, 50000, 5, 30)
        assert y.status == "active" and y.account.credit_limit == 50000
        with pytest.raises(debt.PromiseRefused, match="already running"):
            debt.take_promise(root, root["billing"], y, 100, 1, today, 50000, 5, 30)
        return promise.until
    until = tx(db, promise)
    assert until == D(2024, 4, 5)

    def after(root):
        out = debt.debt_pass(root, root["billing"], until)
        y = contract(root, payer)
        assert out["promises_ended"] == 1 and y.account.credit_limit == 0
        assert y.status == "blocked"
        with pytest.raises(debt.PromiseRefused, match="one promised payment per 30 days"):
            debt.take_promise(root, root["billing"], y, 100, 1, until, 50000, 5, 30)
        coa = [m.payload for m in root.outbox.channels["radius"].values() if m.payload["action"] == "coa"]
        assert [c["login"] for c in coa] == ["ivan2", "ivan3"]
        # poor has 110.00 left and spends 900.00 a month (29.03 a day): < 3 days... no: 3.8 days
        p = contract(root, poor)
        assert not debt.warn_low_balance(root, p, D(2024, 4, 2), 3)
        assert debt.warn_low_balance(root, p, D(2024, 4, 2), 4)
        assert "low-balance:" + p.number + ":2024-04-02" in root.outbox.keys
        assert check_books(root, root._p_jar).ok
    tx(db, after)


def test_grace_days_delay_blocking(world):
    db, (rich, poor, payer) = world

    def grace(root):
        contract(root, poor).grace_days = 5
    tx(db, grace)
    run(db, "2024-03", now=APRIL_1, options=Options(invoices=False))

    def look(root):
        p = contract(root, poor)
        assert p.status == "active" and root["billing"].debt[p.number] == D(2024, 3, 31).toordinal()
        assert debt.debt_pass(root, root["billing"], D(2024, 4, 4))["blocked"] == 0
        assert debt.debt_pass(root, root["billing"], D(2024, 4, 5))["blocked"] == 1
    tx(db, look)


def test_daily_fee_in_arrears_and_reports(world):
    db, (rich, poor, payer) = world

    def add_tv(root):
        from portmonet.model.services import TvPackage
        contract(root, rich).add_service(TvPackage("basic", tariff=root["tariffs"]["tv"],
                                                   started=D(2024, 1, 1)))
    tx(db, add_tv)
    early = run(db, "2024-03-05", now=day_start_us(D(2024, 3, 5)) + 3600_000_000)
    assert early["fees"] == 0            # in arrears: not due before the day is over
    late = run(db, "2024-03-05", now=day_start_us(D(2024, 3, 6)))
    assert late["fees"] == 1
    run(db, "2024-03", now=APRIL_1)

    def look(root):
        posting = contract(root, rich).account.find_cause(
            f"fee:{rich}:tv-3:2024-03-05")
        # 300.00 a day less the Internet + TV bundle's 10%
        assert posting.amount == -27000 and posting.time == day_start_us(D(2024, 3, 6)) - 1
        header, rows = reports.charges(root, root._p_jar, day_start_us(D(2024, 3, 1)), APRIL_1)
        table = {(r[0], r[1]): r[3] for r in rows}
        assert table[("internet", "home")] == 3 * 60000
        assert table[("phone", "phone")] == 3 * 30000
        assert table[("tv", "tv")] == 27000
        _, revenue = reports.revenue_by_tariff(root, root._p_jar, day_start_us(D(2024, 3, 1)), APRIL_1)
        assert dict(revenue) == {"home": 180000, "phone": 90000, "tv": 27000}
        _, debtors = reports.debtors(root, root._p_jar)
        assert [d[0] for d in debtors] == [poor, payer]
    tx(db, look)


def test_after_payment_hook_unblocks_in_the_payment_transaction(world):
    db, (rich, poor, payer) = world
    run(db, "2024-03", now=APRIL_1)

    def pay(root):
        p = contract(root, poor)
        p.account.post(50000, "payment", "test-payment:2")
        assert debt.after_payment(root, p.account) is None      # still 390.00 short
        p.account.post(50000, "payment", "test-payment:3")
        assert debt.after_payment(root, p.account) == "unblocked"
        assert p.status == "active" and p.number not in root["billing"].blocked
        assert debt.after_payment(root, contract(root, rich).account) is None
    tx(db, pay)

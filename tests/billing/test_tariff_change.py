"""A subscriber's tariff change "from the next period" and a suspension
dated ahead, through the billing run: the change comes due at the period
boundary, each month is charged on the tariff in force on each of its days."""
import datetime

from portmonet import db as dbmod
from portmonet.clock import day_start_us
from portmonet.billing.run import Options, run
from portmonet.model.services import InternetService
from portmonet.model.subscriber import Subscriber
from portmonet.tariffs.assign import change_tariff

from tariffs.world import load_plans

D = datetime.date
PLANS = """
tariffs:
  - name: small
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "310.00", suspended: "31.00"}
  - name: big
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "930.00"}
"""
NO_INVOICES = Options(invoices=False, debt_control=False)


def tx(db, func):
    return dbmod.transact(db, func, "test", "test")


def world(db):
    def build(root):
        load_plans(root, PLANS)
        contract = root["subscribers"].add_subscriber(Subscriber("Sidorov")).new_contract(
            signed=D(2020, 1, 1))
        contract.add_service(InternetService("s1", "pw", tariff=root["tariffs"]["small"],
                                             started=D(2020, 1, 1)))
        contract.account.post(10**7, "payment", "opening", when=day_start_us(D(2020, 1, 1)))
        return contract.number
    return tx(db, build)


def charged(db, number, period):
    def look(root):
        c = root.catalog.contracts.get(number)
        p = c.account.find_cause(f"fee:{number}:internet-1:{period}")
        return (p.amount if p else None), c["internet-1"].tariff.name, c["internet-1"].suspended
    return tx(db, look)


def test_change_from_the_next_period_comes_due_at_the_boundary(db, conn):
    # dates ahead of the real today (2096 is a leap year), so that the change
    # is not yet due when January is billed
    number = world(db)

    def change(root):
        service = root.catalog.contracts.get(number)["internet-1"]
        when = change_tariff(service, root["tariffs"]["big"], next_period=True,
                             today=D(2096, 1, 20))
        assert when == D(2096, 2, 1) and service.tariff.name == "small"
    tx(db, change)
    # January, billed on its last day: all on the small tariff, which stays current
    run(db, "2096-01", now=day_start_us(D(2096, 1, 31)), options=NO_INVOICES)
    assert charged(db, number, "2096-01") == (-31000, "small", False)
    # February: the change comes due, the whole month on big (29 days)
    run(db, "2096-02", now=day_start_us(D(2096, 2, 1)), options=NO_INVOICES)
    assert charged(db, number, "2096-02") == (-93000, "big", False)

    def record(root):
        return root["billing"].find_fee(f"fee:{number}:internet-1:2096-02")
    rec = tx(db, record)
    assert (rec.tariff, rec.days, rec.period_days) == ("big", 29, 29)


def test_a_past_period_billed_again_does_not_move_a_tariff_back(db, conn):
    number = world(db)

    def change(root):
        service = root.catalog.contracts.get(number)["internet-1"]
        change_tariff(service, root["tariffs"]["big"], next_period=True, today=D(2024, 1, 20))
    tx(db, change)
    run(db, "2024-01", now=day_start_us(D(2024, 1, 31)), options=NO_INVOICES)
    # January was on small; the service is on big today (the change is long due)
    assert charged(db, number, "2024-01") == (-31000, "big", False)


def test_change_mid_month_prorates_at_the_change(db, conn):
    number = world(db)

    def change(root):
        service = root.catalog.contracts.get(number)["internet-1"]
        change_tariff(service, root["tariffs"]["big"], effective=D(2023, 2, 15),
                      today=D(2023, 2, 10))
    tx(db, change)
    run(db, "2023-02", now=day_start_us(D(2023, 3, 1)), options=NO_INVOICES)
    # 14 of 28 days at 310.00 = 155.00; 14 at 930.00 = 465.00
    amount, tariff, _ = charged(db, number, "2023-02")
    assert amount == -(15500 + 46500)
    assert tariff == "big"

    def record(root):
        return root["billing"].find_fee(f"fee:{number}:internet-1:2023-02").lines
    lines = tx(db, record)
    assert sorted((l[0], l[3], l[4]) for l in lines) == [("big", 14, 46500), ("small", 14, 15500)]


def test_suspension_dated_ahead_comes_due_in_the_run(db, conn):
    number = world(db)

    def suspend(root):
        service = root.catalog.contracts.get(number)["internet-1"]
        service.set_suspended(True, D(2099, 3, 11), today=D(2099, 3, 1))
        service.set_suspended(False, D(2099, 3, 21), today=D(2099, 3, 1))
        assert not service.suspended
    tx(db, suspend)
    run(db, "2099-03", now=day_start_us(D(2099, 3, 15)), options=NO_INVOICES)
    # the run on the 15th finds it suspended (due since the 11th): the flag moves
    amount, _, suspended = charged(db, number, "2099-03")
    assert suspended
    # 21 days at 310.00 = 210.00, 10 days at 31.00 = 10.00 (31 days)
    assert amount == -(21000 + 1000)
    run(db, "2099-04", now=day_start_us(D(2099, 4, 1)), options=NO_INVOICES)
    assert charged(db, number, "2099-04") == (-31000, "small", False)

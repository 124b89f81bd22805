"""Periodic fees with proration, hand-computed."""
import datetime

import pytest

from portmonet.billing.fees import price_fee, service_fee
from portmonet.model.services import InternetService
from portmonet.model.subscriber import Subscriber
from portmonet.tariffs.assign import change_tariff, tariff_for

from tariffs.world import load_plans, us

FLAT = """
tariffs:
  - name: flat
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "310.00"}
      - effective: 2024-03-16
        fee: {amount: "620.00"}
  - name: big
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "930.00"}
"""

D = datetime.date


@pytest.fixture
def world(root):
    load_plans(root)
    load_plans(root, FLAT)
    sub = root["subscribers"].add_subscriber(Subscriber("Petrov Petr"))
    return root, sub.new_contract()


def fee(world, tariff, period, started=D(2020, 1, 1), ended=None, contract=None):
    root, c = world
    contract = contract or c
    service = contract.add_service(InternetService(f"s{len(contract.data)}", "pw",
                                                   tariff=root["tariffs"][tariff], started=started))
    service.ended = ended
    start = D.fromisoformat(period + "-01")
    end = D(start.year + (start.month == 12), start.month % 12 + 1, 1)
    lines, _ = service_fee(service, contract, "month", start, end)
    return price_fee(lines, None)[3]


def test_whole_month_is_the_fee(world):
    assert fee(world, "flat", "2023-02") == 31000


def test_start_mid_month_in_leap_and_common_february(world):
    assert fee(world, "flat", "2023-02", started=D(2023, 2, 15)) == 15500   # 14 of 28 days
    assert fee(world, "flat", "2024-02", started=D(2024, 2, 15)) == 16034   # 15 of 29: 16034.48


def test_month_boundaries(world):
    assert fee(world, "flat", "2024-01", started=D(2024, 1, 31)) == 1000    # 1 of 31 days
    assert fee(world, "flat", "2024-02", started=D(2024, 3, 1)) == 0        # starts next month
    assert fee(world, "flat", "2024-02", ended=D(2024, 3, 1)) == 31000      # ends after February
    assert fee(world, "flat", "2024-02", ended=D(2024, 2, 1)) == 0          # ended before it
    assert fee(world, "flat", "2024-02", ended=D(2024, 2, 2)) == 1069       # 1 of 29: 1068.97


def test_new_version_mid_month(world):
    # 15 days at 310.00 and 16 days at 620.00 in March 2024
    assert fee(world, "flat", "2024-03") == 15000 + 32000


def test_suspension_mid_month(world):
    root, contract = world
    contract.set_status("suspended", "holiday", "cashier", when_us=us(2025, 3, 11, 12, 0))
    contract.set_status("active", "back", "cashier", when_us=us(2025, 3, 21, 12, 0))
    # home 2025: 700.00, suspended 100.00; 21 active days and 10 suspended of 31
    assert fee(world, "home", "2025-03") == 47419 + 3226


def test_terminated_contract_pays_until_termination(world):
    root, contract = world
    contract.set_status("terminated", "moved", "cashier", when_us=us(2023, 4, 11, 12, 0))
    assert fee(world, "flat", "2023-04") == 10333          # 10 of 30 days: 10333.33


def test_tariff_change_mid_month_and_from_next_period(world):
    root, contract = world
    service = contract.add_service(InternetService("chg", "pw", tariff=root["tariffs"]["flat"],
                                                   started=D(2020, 1, 1)))
    change_tariff(service, root["tariffs"]["big"], effective=D(2023, 6, 11), today=D(2023, 6, 1))
    assert service.tariff.name == "flat"            # not yet in force on June 1st
    lines, _ = service_fee(service, contract, "month", D(2023, 6, 1), D(2023, 7, 1))
    # 10 days of 310.00 and 20 days of 930.00 in June (30 days)
    assert price_fee(lines, None)[3] == 10333 + 62000
    when = change_tariff(service, root["tariffs"]["flat"], next_period=True, today=D(2023, 6, 20))
    assert when == D(2023, 7, 1)
    assert tariff_for(service, D(2023, 6, 30)).name == "big"
    assert tariff_for(service, D(2023, 7, 1)).name == "flat"


def test_tax_and_discount_on_fees(world):
    root, contract = world
    contract.discount_group = "staff"
    line = contract.add_service(InternetService("p", "pw", tariff=root["tariffs"]["home"],
                                                started=D(2024, 1, 1)))
    lines, _ = service_fee(line, contract, "month", D(2024, 4, 1), D(2024, 5, 1))
    base, discount, tax, total = price_fee(lines, "staff")
    assert (base, discount, tax, total) == (60000, 0, 10000, 60000)   # VAT 20% included


def test_bundle_discount_needs_every_kind(world):
    from portmonet.model.services import TvPackage
    root, contract = world
    tv = contract.add_service(TvPackage("basic", tariff=root["tariffs"]["tv"], started=D(2024, 1, 1)))

    def day_fee():
        from portmonet.rating.pricing import active_kinds
        lines, _ = service_fee(tv, contract, "day", D(2024, 3, 5), D(2024, 3, 6))
        return price_fee(lines, None, active_kinds(contract))[3]
    assert day_fee() == 30000                      # TV alone: no bundle
    internet = contract.add_service(InternetService("bundle", "pw", tariff=root["tariffs"]["home"]))
    assert day_fee() == 27000                      # Internet + TV: 10% off
    internet.ended = D(2024, 3, 1)
    assert day_fee() == 30000                      # the Internet service ended


def test_the_run_memo_prices_a_tariff_once_and_agrees_with_the_long_way(world):
    from portmonet.billing.fees import FeeMemo
    root, contract = world
    memo = FeeMemo("month", D(2024, 3, 1), D(2024, 4, 1))
    plain = [contract.add_service(InternetService(f"m{n}", "pw", tariff=root["tariffs"]["flat"],
                                                  started=D(2020, 1, 1))) for n in range(3)]
    late = contract.add_service(InternetService("late", "pw", tariff=root["tariffs"]["flat"],
                                                started=D(2024, 3, 16)))
    totals = [memo.fee(s, contract, None, frozenset())[2][3] for s in plain + [late]]
    # 15 days at 310.00 and 16 at 620.00 (a new version on the 16th); the late one 16 days
    assert totals == [15000 + 32000] * 3 + [32000]
    assert (memo.computed, memo.hits, memo.misses) == (1, 2, 1)
    # the same tariff in another state or group is another entry
    memo.fee(plain[0], contract, "staff", frozenset())
    assert memo.computed == 2

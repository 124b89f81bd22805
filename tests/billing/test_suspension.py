"""Suspension, by service and by contract, prorated from the recorded
history: the suspended days cost the tariff's suspended fee, the others the
full fee.  Hand-computed at month boundaries and in leap and common years.

The tariff: 290.00 a month, 29.00 while suspended, no tax."""
import datetime

import pytest

from portmonet.billing.fees import FeeMemo, price_fee, service_fee
from portmonet.model.services import InternetService
from portmonet.model.subscriber import Subscriber

from tariffs.world import load_plans

D = datetime.date
SUSP = """
tariffs:
  - name: susp
    kind: internet
    versions:
      - effective: 2020-01-01
        fee: {amount: "290.00", suspended: "29.00"}
"""


@pytest.fixture
def line(root):
    load_plans(root, SUSP)
    contract = root["subscribers"].add_subscriber(Subscriber("Petrov Petr")).new_contract()
    return contract.add_service(InternetService("p1", "pw", tariff=root["tariffs"]["susp"],
                                                started=D(2020, 1, 1)))


def fee(service, month):
    start = D.fromisoformat(month + "-01")
    end = D(start.year + (start.month == 12), start.month % 12 + 1, 1)
    lines, _ = service_fee(service, service.__parent__, "month", start, end)
    total = price_fee(lines, None)[3]
    # the run's memo agrees with the long way
    memo = FeeMemo("month", start, end)
    assert memo.fee(service, service.__parent__, None, frozenset())[2][3] == total
    return total


def us(*args):
    return int(datetime.datetime(*args, tzinfo=datetime.timezone.utc).timestamp() * 1_000_000)


def test_service_suspended_from_the_20th_of_a_leap_february(line):
    line.set_suspended(True, D(2024, 2, 20), today=D(2024, 2, 20))
    assert line.suspended and not line.active
    # 19 days of 29 at 290.00 = 190.00; 10 days at 29.00 = 10.00
    assert fee(line, "2024-02") == 19000 + 1000
    assert fee(line, "2024-01") == 29000                 # before: all active
    assert fee(line, "2024-04") == 2900                  # a whole suspended month


def test_service_suspended_from_the_15th_of_a_common_february(line):
    line.set_suspended(True, D(2023, 2, 15), today=D(2023, 3, 1))
    # 14 of 28 days: 145.00 + 14.50
    assert fee(line, "2023-02") == 14500 + 1450


def test_resumed_early_in_march(line):
    line.set_suspended(True, D(2024, 2, 20), today=D(2024, 2, 20))
    line.set_suspended(False, D(2024, 3, 5), today=D(2024, 3, 5))
    assert not line.suspended
    # 4 suspended days of 31 at 29.00 = 3.741.. -> 3.74; 27 at 290.00 = 252.580.. -> 252.58
    assert fee(line, "2024-03") == 374 + 25258
    assert fee(line, "2024-04") == 29000


def test_suspended_on_the_first_and_on_the_last_day(line):
    line.set_suspended(True, D(2024, 4, 1), today=D(2024, 3, 15))
    assert not line.suspended                  # dated ahead: not yet
    assert fee(line, "2024-03") == 29000       # March untouched
    assert fee(line, "2024-04") == 2900        # April whole, suspended
    line.set_suspended(False, D(2024, 4, 30), today=D(2024, 3, 15))
    # 29 suspended days of 30 at 29.00 = 28.03; 1 day at 290.00 = 9.666.. -> 9.67
    assert fee(line, "2024-04") == 2803 + 967


def test_suspended_on_the_last_day_of_march(line):
    line.set_suspended(True, D(2024, 3, 31), today=D(2024, 3, 31))
    # 30 days of 31 at 290.00 = 280.645.. -> 280.65; 1 day at 29.00 = 0.935.. -> 0.94
    assert fee(line, "2024-03") == 28065 + 94


def test_contract_suspended_on_the_29th_of_february(line):
    contract = line.__parent__
    contract.set_status("suspended", "holiday", "cashier", when_us=us(2024, 2, 29, 12, 0))
    contract.set_status("active", "back", "cashier", when_us=us(2024, 3, 2, 8, 0))
    # February: 28 days at 290.00 = 280.00 and the 29th at 29.00 = 1.00
    assert fee(line, "2024-02") == 28000 + 100
    # March: the 1st suspended (0.935.. -> 0.94), 30 days active (280.645.. -> 280.65)
    assert fee(line, "2024-03") == 94 + 28065


def test_suspended_service_of_a_terminated_contract_costs_nothing(line):
    line.set_suspended(True, D(2024, 3, 1), today=D(2024, 3, 1))
    line.__parent__.set_status("terminated", "moved", "cashier", when_us=us(2024, 3, 11, 9, 0))
    # 10 suspended days of 31 at 29.00 = 9.354.. -> 9.35; after the 11th: nothing
    assert fee(line, "2024-03") == 935
    assert fee(line, "2024-04") == 0


def test_service_and_contract_suspended_overlapping(line):
    contract = line.__parent__
    line.set_suspended(True, D(2025, 1, 10), today=D(2025, 1, 10))
    contract.set_status("suspended", "arrears", "cashier", when_us=us(2025, 1, 20, 0, 0))
    line.set_suspended(False, D(2025, 1, 25), today=D(2025, 1, 25))
    # January 2025 (31 days): active 1-9 (9 days), suspended 10-31 (22 days:
    # the service until the 24th, the contract from the 20th on)
    # 290.00*9/31 = 84.193.. -> 84.19; 29.00*22/31 = 20.580.. -> 20.58
    assert fee(line, "2025-01") == 8419 + 2058


def test_a_suspension_that_comes_due_ends_the_sessions_once(root, line):
    """Dated ahead, it takes effect in the billing run of its day, which
    queues the RADIUS disconnect a suspension for today queues on the page;
    a batch gone over again (a resumed run) queues nothing more."""
    from portmonet.billing.run import apply_due_changes
    line.set_suspended(True, D(2030, 3, 10))
    contract = line.__parent__

    def disconnects():
        return [(m.payload["action"], m.payload["login"], m.payload["reason"])
                for m in root.outbox.due("radius")]

    apply_due_changes(contract, D(2030, 3, 9), root)
    assert not line.suspended and disconnects() == []
    apply_due_changes(contract, D(2030, 3, 10), root)
    assert line.suspended and disconnects() == [("disconnect", "p1", "suspended")]
    line.suspended = False          # as if the batch's first try was rolled back
    apply_due_changes(contract, D(2030, 3, 10), root)
    assert disconnects() == [("disconnect", "p1", "suspended")]

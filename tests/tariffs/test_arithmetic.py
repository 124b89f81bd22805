"""Tariff arithmetic against hand-computed figures."""
import datetime
from decimal import Decimal

import pytest

from portmonet.tariffs import rules
from portmonet.tariffs.loader import TariffDefinitionError, load_text, parse_document

from .samples import PLANS

D = datetime.datetime


def specs():
    return {s.name: s for s in parse_document(load_text(PLANS, "yaml"))}


def version(name, index=0):
    from portmonet.tariffs.model import TariffVersion
    effective, parts = specs()[name].versions[index]
    return TariffVersion(effective, **parts)


def test_days_in_month_and_leap_years():
    assert rules.days_in_month(2024, 2) == 29
    assert rules.days_in_month(2023, 2) == 28
    assert rules.days_in_month(2000, 2) == 29
    assert rules.days_in_month(2100, 2) == 28
    assert rules.days_in_month(2024, 12) == 31


def test_prorate_by_day():
    # 600.00 for 15 of February 2024's 29 days: 60000*15/29 = 31034.48...
    assert rules.prorate(60000, 15, 29) == 31034
    # the same days in 2023 (28 days): 60000*14/28 exactly
    assert rules.prorate(60000, 14, 28) == 30000
    # 1 day of 31 rounds half up: 100*1/8 = 12.5 -> 13
    assert rules.prorate(100, 1, 8) == 13
    assert rules.prorate(60000, 31, 31) == 60000


@pytest.mark.parametrize("seconds, first, step, billed", [
    (0, 60, 60, 0), (1, 60, 60, 60), (60, 60, 60, 60), (61, 60, 60, 120),
    (61, 1, 1, 61), (1, 1, 1, 1),
    (10, 30, 6, 30), (30, 30, 6, 30), (31, 30, 6, 36), (61, 30, 6, 66), (66, 30, 6, 66),
])
def test_billing_increments(seconds, first, step, billed):
    rate = rules.Rate({"default": Decimal(100)}, "minute", first, step)
    assert rate.billable_seconds(seconds) == billed


def test_call_prices_per_minute_and_second():
    per_minute = rules.Rate({"default": Decimal(100)}, "minute", 1, 1)
    assert per_minute.charge(61, "default") == (102, 61)       # 101.67 -> 102
    thirty_six = rules.Rate({"default": Decimal(150)}, "minute", 30, 6, connection_fee=30)
    assert thirty_six.charge(61, "default") == (165 + 30, 66)   # 150*66/60 = 165
    per_second = rules.Rate({"default": Decimal(10)}, "second", 1, 1)
    assert per_second.charge(125, "default") == (1250, 125)
    free = rules.Rate({"default": Decimal(200)}, "minute", 1, 1, free_seconds=3)
    assert free.charge(3, "default") == (0, 0)
    assert free.charge(4, "default") == (13, 4)                 # 200*4/60 = 13.33


def test_zone_by_longest_prefix():
    v = version("phone")
    assert v.prefixes.match("79161234567") == ("moscow-mobile", "7916")
    assert v.prefixes.match("79031234567") == ("mobile", "79")
    assert v.prefixes.match("74951234567") == ("local", "7495")
    assert v.prefixes.match("78121234567") == ("russia", "7")
    assert v.prefixes.match("112") == ("emergency", "112")
    assert v.prefixes.match("33123456789") == (None, None)


def test_prefix_collision_is_refused():
    bad = PLANS.replace('prefixes: ["79"]', 'prefixes: ["79", "7495"]')
    with pytest.raises(TariffDefinitionError) as exc:
        parse_document(load_text(bad, "yaml"))
    assert any("prefix 7495 is in both local and mobile" in e for e in exc.value.errors)


def test_periods_crossing_midnight():
    v = version("home")                        # night 23:00-07:00 on workdays
    def period(*args):
        return rules.period_of(v.periods, D(*args), v.holidays)
    assert period(2024, 3, 1, 23, 30) == "night"      # Friday 23:30
    assert period(2024, 3, 2, 2, 0) == "night"        # Saturday 02:00: Friday's night
    assert period(2024, 3, 2, 7, 0) == "default"      # the end is exclusive
    assert period(2024, 3, 2, 23, 30) == "default"    # Saturday night is not a workday's
    assert period(2024, 3, 4, 2, 0) == "default"      # Monday 02:00 belongs to Sunday
    assert period(2024, 3, 4, 22, 59) == "default"
    assert period(2024, 3, 4, 23, 0) == "night"


def test_weekend_and_holiday_periods():
    v = version("phone")
    def period(*args):
        return rules.period_of(v.periods, D(*args), v.holidays)
    assert period(2024, 1, 1, 12, 0) == "weekend"     # a Monday, but a holiday
    assert period(2024, 1, 2, 12, 0) == "default"
    assert period(2024, 1, 6, 12, 0) == "weekend"     # Saturday
    assert period(2024, 1, 6, 23, 0) == "night"       # night is listed first


def test_taxes_included_and_added():
    included = rules.Tax(Decimal(20), True)
    assert included.apply(12000) == (12000, 2000)
    assert included.apply(100) == (100, 17)           # 100*20/120 = 16.67
    added = rules.Tax(Decimal(20), False)
    assert added.apply(10000) == (12000, 2000)
    assert added.apply(1) == (1, 0)                  # 0.2 rounds to 0
    assert added.apply(3) == (4, 1)                  # 0.6 rounds to 1


def test_discount_then_tax():
    disc = rules.Discount("promo", percent=Decimal(10), applies="usage")
    price = rules.shape(10000, "usage", datetime.date(2024, 1, 1), None, (disc,),
                        rules.Tax(Decimal(20), False))
    assert (price.base, price.discount, price.total, price.tax) == (10000, 1000, 10800, 1800)
    fee_only = rules.Discount("fee", amount=500, applies="fee",
                              start=datetime.date(2024, 1, 1), end=datetime.date(2024, 1, 31))
    assert rules.shape(10000, "usage", datetime.date(2024, 1, 5), None, (fee_only,), rules.NO_TAX).total == 10000
    assert rules.shape(10000, "fee", datetime.date(2024, 1, 31), None, (fee_only,), rules.NO_TAX).total == 9500
    assert rules.shape(10000, "fee", datetime.date(2024, 2, 1), None, (fee_only,), rules.NO_TAX).total == 10000
    group = rules.Discount("staff", percent=Decimal(50), group="staff")
    assert rules.shape(1000, "usage", datetime.date(2024, 1, 1), "staff", (group,), rules.NO_TAX).total == 500
    assert rules.shape(1000, "usage", datetime.date(2024, 1, 1), "other", (group,), rules.NO_TAX).total == 1000


def test_traffic_classes_by_longest_prefix():
    v = version("home")
    classes = v.traffic_classes
    assert classes.classify("10.1.2.3") == "local"
    assert classes.classify("10.99.1.1") == "peering"     # the /16 beats the /8
    assert classes.classify("192.0.2.7") == "peering"
    assert classes.classify("8.8.8.8") == "internet"
    assert classes.classify(None) == "internet"


def test_rate_limit_and_fee_parsed():
    v0, v1 = version("home", 0), version("home", 1)
    assert (v0.rate_limit.down_kbps, v0.rate_limit.up_kbps) == (100000, 100000)
    assert v1.rate_limit.text == "102400k/204800k"
    assert v0.fee.amount == 60000 and v1.fee.suspended_amount == 10000
    tv = version("tv")
    assert (tv.fee.period, tv.fee.charge) == ("day", "arrears")
    assert tv.one_time_fee("film-1").amount == 19900

"""The operator's calendar (portmonet.clock): days and periods in the
operator's zone, whatever the server's TZ."""
import datetime
import pytest

from portmonet import clock

D = datetime.date


def utc_us(*args):
    return clock.us_of(datetime.datetime(*args, tzinfo=datetime.timezone.utc))


def test_a_moment_belongs_to_the_operators_day_and_month(operator_zone):
    late_call = utc_us(2026, 11, 30, 23, 30)
    assert clock.day_of(late_call) == D(2026, 11, 30)           # the default zone is UTC
    assert clock.period_of(late_call) == "2026-11"
    operator_zone("Europe/Moscow")              # ahead of UTC
    assert clock.day_of(late_call) == D(2026, 12, 1)
    assert clock.period_of(late_call) == "2026-12"
    assert clock.stamp(late_call) == "2026-12-01 02:30:00"
    operator_zone("America/New_York")           # behind UTC
    assert clock.day_of(utc_us(2026, 12, 1, 3, 0)) == D(2026, 11, 30)
    assert clock.period_of(utc_us(2026, 12, 1, 3, 0)) == "2026-11"


def test_day_bounds_are_local_midnights(operator_zone):
    operator_zone("Europe/Moscow")
    assert clock.day_start_us(D(2026, 12, 1)) == utc_us(2026, 11, 30, 21, 0)
    start, end = clock.day_bounds_us(D(2026, 12, 1))
    assert (start, end) == (utc_us(2026, 11, 30, 21, 0), utc_us(2026, 12, 1, 21, 0))
    assert clock.day_of(start) == D(2026, 12, 1) and clock.day_of(start - 1) == D(2026, 11, 30)
    operator_zone("America/New_York")
    start, end = clock.day_bounds_us(D(2026, 11, 1))             # the clocks go back: 25 hours
    assert end - start == 25 * 3600 * 1_000_000
    start, end = clock.day_bounds_us(D(2027, 3, 14))             # and forward: 23 hours
    assert end - start == 23 * 3600 * 1_000_000


def test_the_servers_tz_changes_nothing(operator_zone, server_tz):
    operator_zone("Europe/Moscow")
    moment = utc_us(2026, 11, 30, 23, 30)
    seen = set()
    for tz in ("UTC", "America/Los_Angeles", "Asia/Tokyo"):
        server_tz(tz)
        seen.add((clock.day_of(moment), clock.day_start_us(D(2026, 12, 1)), clock.stamp(moment),
                  clock.local(moment).utcoffset()))
    assert len(seen) == 1


def test_today_is_the_operators(operator_zone):
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):    # UTC+14 and UTC-11
        operator_zone(name)
        assert clock.today() == datetime.datetime.now(clock.zone()).date()
    assert clock.next_month(D(2026, 12, 31)) == D(2027, 1, 1)
    assert clock.month_of(D(2028, 2, 29)) == "2028-02"


def test_configure_and_refuse_an_unknown_zone(operator_zone):
    clock.configure({"portmonet.timezone": "Asia/Yekaterinburg"})
    assert clock.zone().key == "Asia/Yekaterinburg"
    clock.configure({})
    assert clock.zone().key == "UTC"
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ValueError):
            clock.parse_zone(bad)


def test_a_tariff_without_a_zone_follows_the_operator(operator_zone):
    class Tariff:
        timezone = None
    operator_zone("Europe/Moscow")
    assert clock.zone_of(Tariff()).key == "Europe/Moscow"
    assert clock.zone_of(None).key == "Europe/Moscow"
    own = Tariff()
    own.timezone = "Asia/Vladivostok"
    assert clock.zone_of(own).key == "Asia/Vladivostok"

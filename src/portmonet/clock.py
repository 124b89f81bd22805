"""The operator's calendar: which day and which billing period a moment
belongs to.

One time zone decides every business day and period — a billing period,
a day's cash-desk register, a bank statement's booking day, a usage
record's day, a promise's due day, the dashboard's "today": the
operator's, ``portmonet.timezone`` in the ini (default UTC), set once per
process by ``configure``.  Never the server's local zone (``TZ`` of the
host changes nothing) and never UTC unless the operator chose it: a call
at 23:30 UTC on 30 November is 02:30 on 1 December in Moscow and belongs
to December there.  A tariff may name a zone of its own for its
time-of-day rules (night rates); without one it follows the operator's.

Moments are integer microseconds since the epoch (``now_us``), as the
ledger keeps them; days are ``datetime.date``; a period is 'YYYY-MM' or
'YYYY-MM-DD'.
"""
import datetime
import time
import zoneinfo

DEFAULT_ZONE = "UTC"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_US = datetime.timedelta(microseconds=1)
_zone = zoneinfo.ZoneInfo(DEFAULT_ZONE)


def parse_zone(name):
    """The ZoneInfo called *name*, or ValueError naming what is wrong."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def configure(settings):
    """Take the operator's zone from *settings* (``portmonet.timezone``)."""
    set_zone(settings.get("portmonet.timezone") or DEFAULT_ZONE)


def set_zone(name):
    """Make *name* the operator's zone; returns the zone it replaces (tests)."""
    global _zone
    old, _zone = _zone, parse_zone(name)
    return old.key


def zone():
    return _zone


def zone_of(thing):
    """The zone *thing* (a tariff) names in its ``timezone`` for its local
    times (night, weekdays, allowed hours, its months), else the operator's."""
    name = getattr(thing, "timezone", None)
    return parse_zone(name) if name else _zone


def now_us():
    """Now, in microseconds since the epoch."""
    return time.time_ns() // 1000


def us_of(moment):
    """Microseconds since the epoch of an aware datetime."""
    return (moment - _EPOCH) // _US


def local(us):
    """The aware datetime in the operator's zone of a moment *us*."""
    return datetime.datetime.fromtimestamp(us / 1e6, _zone)


def day_of(us):
    """The operator's day a moment *us* falls on."""
    return local(us).date()


def today():
    """The operator's day now."""
    return day_of(now_us())


def day_start_us(day):
    """The first microsecond of the operator's *day* (its local midnight)."""
    return us_of(datetime.datetime.combine(day, datetime.time(), _zone))


def day_bounds_us(day):
    """[start, end) microseconds of the operator's *day* (23 or 25 hours
    long on a day the clocks change)."""
    return day_start_us(day), day_start_us(day + datetime.timedelta(days=1))


def month_of(day):
    """'YYYY-MM' of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def next_month(day):
    """The first day of the month after *day*'s."""
    return datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def period_of(us):
    """The billing month ('YYYY-MM') a moment *us* belongs to."""
    return month_of(day_of(us))


def stamp(us):
    """'YYYY-MM-DD HH:MM:SS' of a moment *us*, the operator's wall clock
    (what pages, receipts and command output show)."""
    return local(us).strftime("%Y-%m-%d %H:%M:%S")

"""Time helpers: microseconds since the epoch and the (UTC) business day."""
import datetime

from ..ledger.account import now_us  # noqa: F401  (re-exported: one clock)


def day_of(us):
    """The UTC day ('2026-11-25') a time in epoch microseconds falls on."""
    return datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc).date().isoformat()


def day_bounds(day):
    """[start, end) epoch microseconds of a UTC day given as 'YYYY-MM-DD'."""
    start = datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc)
    begin = int(start.timestamp()) * 1_000_000
    return begin, begin + 86_400_000_000

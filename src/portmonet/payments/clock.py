"""The payments' business day: the operator's (``portmonet.clock``), as
'YYYY-MM-DD' text, which is how the register keys its rows."""
import datetime

from .. import clock
from ..clock import now_us  # noqa: F401  (re-exported: one clock)


def day_of(us):
    """The operator's day ('2026-11-25') a time in epoch microseconds falls on."""
    return clock.day_of(us).isoformat()


def day_bounds(day):
    """[start, end) epoch microseconds of the operator's day 'YYYY-MM-DD'."""
    return clock.day_bounds_us(datetime.date.fromisoformat(day))

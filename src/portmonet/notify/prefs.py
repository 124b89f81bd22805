"""A subscriber's notification preferences, as the notifier reads them.

The Subscriber keeps them (class defaults, so old objects need nothing):
``notify_email`` / ``notify_sms`` (the channels for ordinary notices),
``notify_marketing`` (mass mailings marked marketing), ``notify_language``
('' = the operator's) and ``quiet_hours`` ('' = the operator's window,
'off' = none, or 'HH:MM-HH:MM').  Mandatory notices (a block for debt, a
one-time code) go by every channel the subscriber has an address for,
whatever the choices; the office inbox takes every notice.
"""
import datetime

from .. import clock
from .settings import quiet_window

CHOICE = {"mail": "notify_email", "sms": "notify_sms"}


def refusal(subscriber, event, channel, marketing=False):
    """Why the subscriber does not get this on *channel* (None: they do)."""
    if marketing and not getattr(subscriber, "notify_marketing", True):
        return "the subscriber opted out of marketing"
    if channel == "office" or (event is not None and event.mandatory and not marketing):
        return None
    attribute = CHOICE.get(channel)
    if attribute and not getattr(subscriber, attribute, True):
        return f"the subscriber turned {channel} notices off"
    return None


def language(subscriber, default):
    return getattr(subscriber, "notify_language", "") or default


def window(subscriber, default):
    own = (getattr(subscriber, "quiet_hours", "") or "").strip()
    if own == "off":
        return None
    if own:
        try:
            return quiet_window(own)
        except ValueError:
            return default
    return default


def quiet_until(now_us, quiet):
    """The µs the quiet hours that hold *now_us* end (None: not quiet now),
    on the operator's clock."""
    if quiet is None:
        return None
    start, end = quiet
    if start == end:
        return None
    moment = clock.local(now_us)
    at = moment.time().replace(tzinfo=None)
    inside = (start <= at < end) if start < end else (at >= start or at < end)
    if not inside:
        return None
    day = moment.date()
    if start > end and at >= start:        # before midnight: ends tomorrow
        day += datetime.timedelta(days=1)
    ends = datetime.datetime.combine(day, end, clock.zone())
    return clock.us_of(ends)

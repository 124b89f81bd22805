"""Which tariff a service is on at a date, and changing it.

A service's tariff history (made on its first change, so a million services
that never changed carry none) maps the day a tariff takes effect to the
tariff.  ``service.tariff`` stays the tariff in force today, for the code
that knows nothing of history (RADIUS reads its ``rate_limit``); the billing
run moves it forward when a change dated in the future comes due.
"""

from BTrees.IOBTree import IOBTree

from .. import clock


def tariff_for(service, day):
    history = getattr(service, "tariff_history", None)
    if not history:
        return service.tariff
    try:
        return history[history.maxKey(day.toordinal())]
    except ValueError:       # before the first recorded change
        return history[history.minKey()]


def change_tariff(service, tariff, effective=None, next_period=False, today=None):
    """Put *service* on *tariff* from *effective* (today by default), or
    from the first day of next month with *next_period*.  Returns the date."""
    today = today or clock.today()
    if next_period:
        effective = clock.next_month(today)
    effective = effective or today
    history = getattr(service, "tariff_history", None)
    if history is None:
        history = service.tariff_history = IOBTree()
        started = service.started or effective
        history[min(started, effective).toordinal()] = service.tariff
    history[effective.toordinal()] = tariff
    apply_due(service, today)
    return effective


def apply_due(service, today):
    """Make ``service.tariff`` the tariff in force *today*; True if it moved."""
    current = tariff_for(service, today)
    if current is not service.tariff:
        service.tariff = current
        return True
    return False

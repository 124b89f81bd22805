"""Periodic fees of a service for a period, prorated by day.

The period is cut into stretches at every date where something that
matters changes: the contract's status (suspended days cost the tariff's
suspended fee, draft and terminated days nothing), the service's own
suspension (``Service.set_suspended``: its suspended days cost the
suspended fee too), the service's start and end (``ended`` is the first day
not charged), a change of tariff, a new tariff version.  A status change
counts from the operator's day it happened (``portmonet.clock``): that whole day is in the new state.  Each stretch costs ``fee * days / days in the month``,
rounded once; a whole month costs exactly the fee.
"""
import datetime

from .. import clock
from ..tariffs.assign import tariff_for
from ..tariffs.model import NoTariff, RatedTariff, version_at
from ..tariffs.rules import days_in_month, prorate, shape

CHARGED_STATES = {"active": "amount", "blocked": "amount", "suspended": "suspended_amount"}


def status_changes(contract):
    """[(date, status)] from the contract's history; the first is its start."""
    history = getattr(contract, "_history", None)
    if not history:
        return [(datetime.date.min, contract.status)]
    changes = [(datetime.date.min, contract._initial_status())]
    for us, (_old, new, _reason, _user) in history.items():
        changes.append((clock.day_of(us), new))
    return changes


def _status_on(changes, day):
    status = changes[0][1]
    for when, new in changes:
        if when > day:
            break
        status = new
    return status


def _service_suspended(service, day):
    on = getattr(service, "suspended_on", None)
    return on(day) if on is not None else service.suspended


def _cut_points(service, changes, start, end):
    points = {start}
    points.update(d for d, _ in changes if start < d < end)
    for day in (service.started, service.ended):
        if day is not None and start < day < end:
            points.add(day)
    suspensions = getattr(service, "_suspensions", None)
    if suspensions:
        lo, hi = start.toordinal() + 1, end.toordinal() - 1
        if lo <= hi:
            points.update(map(datetime.date.fromordinal, suspensions.keys(lo, hi)))
    history = getattr(service, "tariff_history", None)
    tariffs = {service.tariff} if history is None else set(history.values())
    if history is not None:
        points.update(d for d in map(datetime.date.fromordinal, history.keys())
                      if start < d < end)
    for tariff in tariffs:
        if isinstance(tariff, RatedTariff):
            lo, hi = start.toordinal() + 1, end.toordinal() - 1
            if lo <= hi:
                points.update(map(datetime.date.fromordinal, tariff.versions.keys(lo, hi)))
    return sorted(points)


def service_fee(service, contract, kind, start, end):
    """(lines, period_days) of the fee of *service* for a month or day run;
    a line is (tariff, version, state, days, base, fee)."""
    if kind == "month":
        period_days = days_in_month(start.year, start.month)
    else:
        period_days = 1
    changes = status_changes(contract)
    points = _cut_points(service, changes, start, end) + [end]
    groups = {}
    for here, nxt in zip(points, points[1:]):
        if service.started is not None and here < service.started:
            continue
        if service.ended is not None and here >= service.ended:
            continue
        state = _status_on(changes, here)
        if state not in CHARGED_STATES:
            continue                  # draft or terminated: the service's state is moot
        if _service_suspended(service, here):
            state = "suspended"
        tariff = tariff_for(service, here)
        if tariff is None:
            continue
        try:
            version = version_at(tariff, here)
        except NoTariff:
            continue
        fee = version.fee
        if fee is None or fee.period != kind:
            continue
        key = (tariff.name, version.number, state)
        line = groups.get(key)
        days = (nxt - here).days
        if line is None:
            groups[key] = [tariff, version, state, days, here, fee]
        else:
            line[3] += days
    lines = []
    for tariff, version, state, days, first_day, fee in groups.values():
        amount = getattr(fee, CHARGED_STATES[state])
        base = prorate(amount, days, period_days) if kind == "month" else amount * days
        lines.append((tariff, version, state, days, base, first_day))
    return lines, period_days


def price_fee(lines, group, kinds=frozenset()):
    """Discounts and tax of each stretch; returns (base, discount, tax, total).
    *kinds*: the kinds of the contract's active services (bundles)."""
    base = discount = tax = total = 0
    for _tariff, version, _state, _days, line_base, first_day in lines:
        if not line_base:
            continue
        price = shape(line_base, "fee", first_day, group, version.discounts, version.tax, kinds)
        base += price.base
        discount += price.discount
        tax += price.tax
        total += price.total
    return base, discount, tax, total


class FeeMemo:
    """The fees of one run, each computed once per tariff rather than per
    contract.

    Most of a million services are plain in a period: on one tariff with no
    history, running the whole period, on a contract whose status did not
    change.  Their fee depends only on (tariff, state, discount group, kinds
    of active services), so it is worked out the first time and looked up
    after.  Everything else goes the long way (:func:`service_fee`).
    """

    def __init__(self, kind, start, end):
        self.kind, self.start, self.end = kind, start, end
        self._memo = {}
        self.computed = self.hits = self.misses = 0   # plain first seen / plain again / long way

    def _plain_state(self, service, contract):
        """The one state of a plain service for the whole period, or None."""
        if getattr(contract, "_history", None) or getattr(service, "tariff_history", None):
            return None
        if getattr(service, "_suspensions", None):
            return None
        started, ended = service.started, service.ended
        if started is not None and started > self.start:
            return None
        if ended is not None and ended < self.end:
            return None
        state = contract.status
        return "suspended" if service.suspended and state in CHARGED_STATES else state

    def fee(self, service, contract, group, kinds):
        """(lines, period_days, (base, discount, tax, total), record_lines) of
        *service*; *record_lines* is what a FeeRecord keeps of the lines (one
        shared tuple for all the plain services of a tariff: pickled once per
        bucket)."""
        state = self._plain_state(service, contract)
        if state is None:
            self.misses += 1
            lines, period_days = service_fee(service, contract, self.kind, self.start, self.end)
            return lines, period_days, price_fee(lines, group, kinds), record_lines(lines)
        tariff = service.tariff
        # by oid: one tariff is one object in a connection; the memo holds it
        key = (getattr(tariff, "_p_oid", None) or id(tariff), state, group, kinds)
        held = self._memo.get(key)
        if held is None:
            self.computed += 1
            lines, period_days = service_fee(service, contract, self.kind, self.start, self.end)
            held = self._memo[key] = (tariff, lines, period_days,
                                      price_fee(lines, group, kinds), record_lines(lines))
        else:
            self.hits += 1
        return held[1:]


def record_lines(lines):
    """(tariff name, version, state, days, base) per stretch, for a FeeRecord."""
    return tuple((l[0].name, l[1].number, l[2], l[3], l[4]) for l in lines)

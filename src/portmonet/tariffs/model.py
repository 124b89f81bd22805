"""Versioned tariffs.

:class:`RatedTariff` extends the foundation's minimal ``Tariff`` (which the
seed data and older databases hold): it keeps versions by effective date
in a BTree, each version the whole plan in force from that date.  Plain
``Tariff`` objects keep working: :func:`version_at` answers for them with a
version made of their monthly fee alone.
"""
import datetime
import math

from BTrees.IOBTree import IOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import clock
from ..interfaces import ITariff
from ..model.simple import Tariff
from .interfaces import IRatedTariff, ITariffVersion
from .rules import NO_TAX, Fee, PrefixTable, TrafficClasses

KINDS = ("internet", "phone", "tv", "other")


class NoTariff(LookupError):
    """No version of a tariff is in force at a date."""


@implementer(ITariffVersion)
class TariffVersion(Persistent):
    """One plan of a tariff, in force from ``effective`` (a date) until the
    next version.  Its parts are immutable values (see :mod:`.rules`)."""

    __parent__ = None
    number = 0
    fee = None                 # rules.Fee or None
    one_time = ()              # rules.OneTime, ...
    content = ()               # rules.OneTime, ... (pay-per-view by code)
    tax = NO_TAX
    discounts = ()
    periods = ()               # rules.Period, ... (first match wins)
    holidays = frozenset()
    rate_limit = None          # rules.RateLimit
    traffic_classes = TrafficClasses({})
    volume = ()                # rules.VolumeRule, ...
    session = None             # rules.Rate for session time
    zones = ()                 # rules.Zone, ...
    prefixes = PrefixTable(())
    default_zone = None        # zone name for numbers no prefix matches

    FIELDS = ("fee", "one_time", "content", "tax", "discounts", "periods", "holidays",
              "rate_limit", "traffic_classes", "volume", "session", "zones",
              "default_zone")

    def __init__(self, effective, **parts):
        self.effective = effective
        for name, value in parts.items():
            if name not in self.FIELDS:
                raise TypeError(f"a tariff version has no part {name!r}")
            setattr(self, name, value)
        self.prefixes = PrefixTable(self.zones)

    @property
    def __name__(self):
        return self.effective.isoformat()

    @property
    def tariff(self):
        return self.__parent__

    @property
    def label(self):
        return f"{self.__parent__.name if self.__parent__ else '?'} v{self.number}"

    def same_plan(self, other):
        return all(getattr(self, f) == getattr(other, f) for f in self.FIELDS)

    def zone(self, name):
        for zone in self.zones:
            if zone.name == name:
                return zone
        return None

    def one_time_fee(self, code):
        for item in self.one_time + self.content:
            if item.code == code:
                return item
        return None


@implementer(IRatedTariff, ITariff)
class RatedTariff(Tariff):
    """A tariff plan with versions by effective date."""

    timezone = None            # its time-of-day rules' zone; None: the operator's
    _next_number = 0
    walled_garden = None       # a debtor is let into this Filter-Id instead of rejected
    allowed_hours = None       # (first, last) hours a session may start

    def __init__(self, name, title="", kind="internet", currency="RUB", timezone=None):
        super().__init__(name, title, kind=kind, monthly_fee=0, currency=currency)
        self.timezone = timezone
        self.versions = IOBTree()    # date ordinal -> TariffVersion

    # The foundation's attribute, for code that knows only plain tariffs.
    @property
    def monthly_fee(self):
        version = self.version_at(clock.today(), default=None)
        fee = version.fee if version is not None else None
        return fee.amount if fee is not None and fee.period == "month" else 0

    @monthly_fee.setter
    def monthly_fee(self, value):
        # Tariff.__init__ sets it; the versions are what counts here.
        pass

    @property
    def rate_limit(self):
        """The speed tier in force today (the RADIUS server reads this)."""
        version = self.version_at(clock.today(), default=None)
        return version.rate_limit if version is not None else None

    @property
    def price_per_minute(self):
        """Minor units a minute of a time-charged (``session``) tariff costs
        at its dearest period today, or None: the RADIUS server derives
        Session-Timeout from it, so the prepaid money cannot run over."""
        version = self.version_at(clock.today(), default=None)
        rate = version.session if version is not None else None
        if rate is None:
            return None
        dearest = max(rate.prices.values())
        # Whole minor units, rounded up: a timeout must not outlast the money.
        return math.ceil(dearest * 60 if rate.per == "second" else dearest)

    def version_at(self, day, default=NoTariff):
        key = day.toordinal()
        try:
            found = self.versions.maxKey(key)
        except ValueError:
            if default is NoTariff:
                raise NoTariff(f"tariff {self.name!r} has no version in force on {day}") from None
            return default
        return self.versions[found]

    def add_version(self, version, replace=False):
        """Add (or, with *replace*, correct) the version effective on its date.

        Returns "added", "unchanged" or "replaced"; a different plan on a date
        that has one is refused unless *replace*.
        """
        key = version.effective.toordinal()
        held = self.versions.get(key)
        if held is not None:
            if held.same_plan(version):
                return "unchanged"
            if not replace:
                raise ValueError(
                    f"tariff {self.name!r} already has a different version effective "
                    f"{version.effective} (import with --replace to correct it)")
        self._next_number += 1
        version.number = self._next_number
        version.__parent__ = self
        self.versions[key] = version
        return "replaced" if held is not None else "added"


def version_at(tariff, day):
    """The version of any tariff in force on *day* (plain tariffs included)."""
    if isinstance(tariff, RatedTariff):
        return tariff.version_at(day)
    if tariff is None:
        raise NoTariff("no tariff")
    fee = Fee(tariff.monthly_fee) if tariff.monthly_fee else None
    version = TariffVersion(datetime.date.min, fee=fee)
    version.__parent__ = tariff
    return version


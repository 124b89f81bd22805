"""The parts a tariff version is made of, and their arithmetic.

Every part is a small immutable value stored inside its version's pickle
(a version never changes once written: a correction is a new version or an
explicit replacement).  Prices are ``Decimal`` minor units per unit (a
price of "1.50" RUB a minute is ``Decimal(150)`` kopecks); every amount
leaves here as an ``int`` rounded once by :func:`portmonet.money.round_minor`.
"""
import datetime
import ipaddress
from decimal import Decimal

from ..money import round_minor

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9,
         "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
DIRECTIONS = {"in": ("in",), "out": ("out",), "sum": ("in", "out")}


class Frozen:
    """Attributes set once in ``__init__``; equality by value (so an
    import of an unchanged definition is recognised as unchanged)."""

    def __setattr__(self, name, value):
        if name in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.{name} is read-only")
        object.__setattr__(self, name, value)

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.__dict__))))

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items()))
        return f"{type(self).__name__}({fields})"


# -- money shaping: discounts and taxes ---------------------------------------
class Tax(Frozen):
    """VAT at ``rate`` percent, either included in prices or added on top."""

    def __init__(self, rate=Decimal(0), included=True, name="VAT"):
        self.rate = Decimal(rate)
        self.included = bool(included)
        self.name = name

    def apply(self, amount):
        """(total to charge, tax part of it) for a price of *amount*."""
        if not self.rate or not amount:
            return amount, 0
        if self.included:
            return amount, round_minor(Decimal(amount) * self.rate / (100 + self.rate))
        tax = round_minor(Decimal(amount) * self.rate / 100)
        return amount + tax, tax


NO_TAX = Tax()


class Discount(Frozen):
    """A percentage (or, for fees, a fixed amount) off, for a date range
    (inclusive), optionally only for contracts of one group, or only for
    contracts that hold active services of all the ``requires`` kinds (a
    bundle: Internet + TV)."""

    requires = frozenset()

    def __init__(self, name, percent=None, amount=None, applies="all",
                 start=None, end=None, group=None, requires=()):
        self.name = name
        self.percent = None if percent is None else Decimal(percent)
        self.amount = amount
        self.applies = applies
        self.start = start
        self.end = end
        self.group = group
        if requires:
            self.requires = frozenset(requires)

    def matches(self, kind, day, group, kinds=frozenset()):
        if self.applies not in ("all", kind):
            return False
        if self.start is not None and day < self.start:
            return False
        if self.end is not None and day > self.end:
            return False
        if not self.requires <= kinds:
            return False
        return self.group is None or self.group == group

    def off(self, amount):
        if self.percent is not None:
            return round_minor(Decimal(amount) * self.percent / 100)
        return min(self.amount, amount)


class Price(Frozen):
    """What one charge comes to: base, minus discount, plus (or incl.) tax."""

    def __init__(self, base, discount, total, tax, discount_names=()):
        self.base = base
        self.discount = discount
        self.total = total
        self.tax = tax
        self.discount_names = tuple(discount_names)


def shape(base, kind, day, group, discounts, tax, kinds=frozenset()):
    """Apply the discounts that match, then the tax: a :class:`Price`.
    *kinds*: the kinds of the contract's active services (for bundles)."""
    off, names = 0, []
    for discount in discounts:
        if base - off <= 0:
            break
        if discount.matches(kind, day, group, kinds):
            cut = min(discount.off(base - off), base - off)
            if cut:
                off += cut
                names.append(discount.name)
    total, tax_part = tax.apply(base - off)
    return Price(base, off, total, tax_part, names)


# -- periodic and one-time fees ------------------------------------------------
class Fee(Frozen):
    """A periodic (licence) fee: per month (prorated by day) or per day."""

    def __init__(self, amount, period="month", charge="advance", suspended_amount=0):
        self.amount = amount
        self.period = period                    # "month" | "day"
        self.charge = charge                    # "advance" | "arrears"
        self.suspended_amount = suspended_amount  # per period while suspended


class OneTime(Frozen):
    def __init__(self, code, title, amount):
        self.code = code
        self.title = title
        self.amount = amount


def days_in_month(year, month):
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - datetime.date(year, month, 1)).days


def prorate(amount, days, period_days):
    """*amount* for a full period of *period_days*, for *days* of it."""
    if days == period_days:
        return amount
    return round_minor(Decimal(amount) * days / period_days)


# -- time of day and weekday periods ------------------------------------------
class Period(Frozen):
    """A named time zone of the week: ``start``-``end`` (minutes since
    midnight, local time) on ``days``.  A zone that crosses midnight
    (23:00-07:00) belongs to the day it starts on: Friday 23:00 to Saturday
    07:00 is a Friday night.  Holidays match only a zone whose days say
    ``holiday``."""

    def __init__(self, name, start, end, days=frozenset(range(7)), holiday=False):
        self.name = name
        self.start = start
        self.end = end
        self.days = frozenset(days)
        self.holiday = holiday

    def _day_matches(self, day, holidays):
        if day in holidays:
            return self.holiday
        return day.weekday() in self.days

    def contains(self, moment, holidays=frozenset()):
        minute = moment.hour * 60 + moment.minute
        day = moment.date()
        if self.start == self.end:
            return self._day_matches(day, holidays)
        if self.start < self.end:
            return self.start <= minute < self.end and self._day_matches(day, holidays)
        if minute >= self.start:
            return self._day_matches(day, holidays)
        if minute < self.end:
            return self._day_matches(day - datetime.timedelta(days=1), holidays)
        return False


def period_of(periods, moment, holidays):
    """The first period that holds *moment*, else ``"default"``."""
    for period in periods:
        if period.contains(moment, holidays):
            return period.name
    return "default"


# -- per-time prices (telephony, session time) ---------------------------------
class Rate(Frozen):
    """A price per minute or per second with a billing increment
    (``first``/``step`` seconds: 60/60, 1/1, 30/6), a connection fee, free
    seconds (a call not longer than these costs nothing) and a price per
    period (``default`` and e.g. ``night``, ``weekend``)."""

    def __init__(self, prices, per="minute", first=60, step=60, connection_fee=0,
                 free_seconds=0):
        self.prices = dict(prices)
        self.per = per
        self.first = first
        self.step = step
        self.connection_fee = connection_fee
        self.free_seconds = free_seconds

    def billable_seconds(self, seconds):
        if seconds <= 0:
            return 0
        if seconds <= self.first:
            return self.first
        steps = -(-(seconds - self.first) // self.step)
        return self.first + steps * self.step

    def price_for(self, period):
        return self.prices.get(period, self.prices["default"])

    def charge(self, seconds, period):
        """(amount, billed seconds) of a use lasting *seconds* in *period*."""
        if seconds <= 0 or seconds <= self.free_seconds:
            return 0, 0
        billed = self.billable_seconds(seconds)
        price = self.price_for(period)
        per_second = price / 60 if self.per == "minute" else price
        amount = round_minor(per_second * billed)
        if amount or price:
            amount += self.connection_fee
        return amount, billed


class Zone(Frozen):
    """A telephone destination zone: prefixes and the rate that applies."""

    def __init__(self, name, prefixes, rate):
        self.name = name
        self.prefixes = tuple(prefixes)
        self.rate = rate


class PrefixTable(Frozen):
    """Longest-prefix match of digits over the zones' prefixes."""

    def __init__(self, zones):
        table = {}
        for zone in zones:
            for prefix in zone.prefixes:
                table[prefix] = zone.name
        self.table = table
        self.longest = max((len(p) for p in table), default=0)

    def match(self, number):
        for n in range(min(len(number), self.longest), 0, -1):
            name = self.table.get(number[:n])
            if name is not None:
                return name, number[:n]
        return None, None


# -- Internet ------------------------------------------------------------------
class TrafficClasses(Frozen):
    """Traffic classes (local, peering ...) by the remote address's longest
    matching prefix; anything else is ``internet``."""

    def __init__(self, classes):
        self.networks = tuple(
            sorted(((ipaddress.ip_network(cidr), name) for name, cidrs in classes.items()
                    for cidr in cidrs), key=lambda item: -item[0].prefixlen))
        self.names = frozenset(classes) | {"internet"}

    def classify(self, address):
        if not address:
            return "internet"
        ip = ipaddress.ip_address(address)
        for network, name in self.networks:
            if ip.version == network.version and ip in network:
                return name
        return "internet"


class VolumeRule(Frozen):
    """Price per ``unit`` of traffic in ``direction`` for ``classes`` in
    ``period``, after an ``allowance`` (bytes per calendar month) included."""

    def __init__(self, name, price, unit="MB", direction="sum", classes=None,
                 period=None, allowance=0):
        self.name = name
        self.price = Decimal(price)
        self.unit = unit
        self.direction = direction
        self.classes = None if classes is None else frozenset(classes)
        self.period = period
        self.allowance = allowance

    def matches(self, traffic_class, period):
        return ((self.classes is None or traffic_class in self.classes)
                and (self.period is None or self.period == period))

    def amount(self, octets):
        return round_minor(self.price * octets / UNITS[self.unit])


class RateLimit(Frozen):
    """A speed tier: kbit/s down and up, and the NAS string for it
    (``rate_limit`` is what the RADIUS server hands to the NAS)."""

    def __init__(self, down_kbps, up_kbps):
        self.down_kbps = down_kbps
        self.up_kbps = up_kbps

    @property
    def text(self):
        return f"{self.up_kbps}k/{self.down_kbps}k"

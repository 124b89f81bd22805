"""Usage that straddles a boundary: cut it into pieces, price each piece
under its own rule.

A call, a session or a traffic interval may begin under one rule and end
under another: night turns into day, a weekday into the weekend, a new
tariff version (or a tariff change of the service) takes effect at
midnight, a month (and its traffic allowance) ends.  The boundaries are
local times in the tariff's time zone: midnights (where versions, tariffs,
weekdays and months change) and the start and end of every period of the
versions involved.  Consecutive pieces that come under the same rule are
joined again, so most records stay in one piece.

How a piece is priced (docs/rating.md):

* calls and session time: the billing increment, free seconds and the
  connection fee are those of the rate in force at the start and apply to
  the whole use (a call is rounded up once, not once per piece); the
  seconds the increment adds are billed in the last piece; every piece is
  priced at its own period's price of its own version's zone (the
  destination is matched again against each version's prefixes);
* traffic: the octets of each direction are shared out in proportion to
  the time of each piece (the remainder to the last), and each piece is
  priced by its own version's volume rules, counting against the allowance
  of its own month;
* each piece gets its version's discounts and tax, rounded once per piece;
  the record's amount is the sum of its pieces.
"""
import datetime

from ..clock import us_of, zone_of
from ..money import round_minor
from ..tariffs.assign import tariff_for
from ..tariffs.rules import Price, period_of, shape

MAX_SPAN_US = 100 * 86400 * 1_000_000      # longer than this is bad data, not usage


class Piece:
    """[start_us, end_us) of a use under one tariff, version and period."""

    __slots__ = ("start_us", "end_us", "moment", "tariff", "version", "period")

    def __init__(self, start_us, end_us, moment, tariff, version, period):
        self.start_us, self.end_us, self.moment = start_us, end_us, moment
        self.tariff, self.version, self.period = tariff, version, period

    def same_rule(self, other, by_month):
        return (self.tariff is other.tariff and self.version is other.version
                and self.period == other.period
                and (not by_month or self.moment.month == other.moment.month))


def pieces(service, lookups, start_us, end_us, error, who="", by_month=False):
    """The pieces of [start_us, end_us) of *service*'s usage (one piece
    when nothing changes inside).  *error* is the exception to raise,
    *who* names the user in its message."""
    tz = zone_of(service.tariff)

    def at(us):
        moment = datetime.datetime.fromtimestamp(us / 1e6, tz).replace(tzinfo=None)
        day = moment.date()
        tariff = tariff_for(service, day)
        if tariff is None:
            raise error(f"{who or service.__name__} has no tariff on {day}")
        version = lookups.version(tariff, day)
        return moment, tariff, version, period_of(version.periods, moment, version.holidays)

    first = Piece(start_us, end_us, *at(start_us))
    if end_us <= start_us:
        return [first]
    if end_us - start_us > MAX_SPAN_US:
        raise error("bad data: usage longer than 100 days")
    last_day = datetime.datetime.fromtimestamp(end_us / 1e6, tz).date()
    cuts = set()
    day = first.moment.date()
    while day <= last_day:
        cuts.update(c for c in _day_cuts(service, lookups, day, tz) if start_us < c < end_us)
        day += datetime.timedelta(days=1)
    out = [first]
    for cut in sorted(cuts):
        piece = Piece(cut, end_us, *at(cut))
        if piece.same_rule(out[-1], by_month):
            continue
        out[-1].end_us = cut
        out.append(piece)
    return out


def _day_cuts(service, lookups, day, tz):
    """Where rules may change on *day* (µs): midnight and the starts and
    ends of the periods of the version in force; the same for every use of
    that version on that day, so computed once per batch (``lookups``)."""
    tariff = tariff_for(service, day)
    version = lookups.version(tariff, day) if tariff is not None else None
    key = (id(version), day, tz.key)
    cache = lookups.cuts
    found = cache.get(key)
    if found is None:
        minutes = {0}
        for period in version.periods if version is not None else ():
            minutes.update((period.start, period.end))
        found = cache[key] = tuple(sorted(
            us_of(datetime.datetime.combine(day, datetime.time(m // 60, m % 60), tzinfo=tz))
            for m in minutes))
    return found


def shares(total, pieces_):
    """*total* (seconds or octets) shared out over the pieces by their
    length; the rounding remainder goes to the last piece."""
    span = pieces_[-1].end_us - pieces_[0].start_us
    out, given = [], 0
    for piece in pieces_[:-1]:
        share = total * (piece.end_us - pieces_[0].start_us) // span - given
        out.append(share)
        given += share
    out.append(total - given)
    return out


def priced(piece, base, group, kinds):
    """A piece's base amount with its version's discounts and tax."""
    version = piece.version
    return shape(base, "usage", piece.moment.date(), group, version.discounts, version.tax, kinds)


def total_price(prices):
    names = []
    for p in prices:
        names.extend(n for n in p.discount_names if n not in names)
    return Price(sum(p.base for p in prices), sum(p.discount for p in prices),
                 sum(p.total for p in prices), sum(p.tax for p in prices), names)


def per_second_amount(rate, period, seconds):
    """Decimal-exact price of *seconds* at *rate* in *period*, rounded once."""
    price = rate.price_for(period)
    per_second = price / 60 if rate.per == "minute" else price
    return round_minor(per_second * seconds), price


def joined(values):
    out = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return "+".join(out)

"""Pricing one usage record against the tariff in force when it happened.

Pure arithmetic over a service, its tariff version and the record; the only
state it reads and returns is the Internet allowance already used this
month (``used(key) -> bytes``), so the caller decides where that lives.
"""
import datetime
import functools
import zoneinfo

from ..catalog import normalize
from ..tariffs.assign import tariff_for
from ..tariffs.model import NoTariff, tariff_timezone, version_at
from ..tariffs.rules import DIRECTIONS, period_of, shape


class RatingError(Exception):
    """A record that cannot be rated; the message is the reason shown."""


class Quote:
    """What a record costs and why (becomes a RatedRecord once posted)."""

    def __init__(self, service, tariff, version, price, zone="", rule="", period="default",
                 billed=0, counted=()):
        self.service = service
        self.tariff = tariff
        self.version = version
        self.price = price
        self.zone = zone
        self.rule = rule
        self.period = period
        self.billed = billed          # seconds or bytes charged for
        self.counted = tuple(counted)  # ((allowance key, bytes), ...)


def find_service(catalog, record):
    if record.kind in ("traffic", "session"):
        service = catalog.logins.get(record.subject)
        if service is None:
            raise RatingError(f"unknown login {record.subject!r}")
        return service
    if record.kind == "call":
        try:
            number = normalize.phone(record.subject)
        except normalize.InvalidValue as exc:
            raise RatingError(f"bad calling number: {exc}") from None
        service = catalog.lines.get(number)
        if service is None:
            raise RatingError(f"unknown calling number {number}")
        return service
    # tv / content: by login (IPTV) or by contract number (cable, digital)
    service = catalog.logins.get(record.subject)
    if service is not None:
        return service
    contract = catalog.contracts.get(record.subject)
    if contract is None:
        raise RatingError(f"unknown login or contract {record.subject!r}")
    tv = contract.services("tv")
    if not tv:
        raise RatingError(f"contract {contract.number} has no TV service")
    return tv[0]


def active_kinds(contract):
    """Kinds of a contract's active services (bundle discounts ask)."""
    return frozenset(s.kind for s in contract.values() if s.active)


def local_time(tariff, us):
    tz = zoneinfo.ZoneInfo(tariff_timezone(tariff))
    return datetime.datetime.fromtimestamp(us / 1e6, tz).replace(tzinfo=None)


class Lookups:
    """What a batch of records asks again and again, answered once: the
    service of a subject, a contract's active kinds, a tariff's version on
    a day.  Lives for one transaction (a tariff may change between two)."""

    def __init__(self, catalog):
        self.catalog = catalog
        self._services = {}
        self._kinds = {}
        self._versions = {}

    def service(self, record):
        key = (record.kind == "call", record.kind in ("tv", "content"), record.subject)
        found = self._services.get(key)
        if found is None:
            found = self._services[key] = find_service(self.catalog, record)
        return found

    def kinds(self, contract):
        found = self._kinds.get(id(contract))
        if found is None:
            found = self._kinds[id(contract)] = active_kinds(contract)
        return found

    def version(self, tariff, day):
        key = (id(tariff), day)
        found = self._versions.get(key)
        if found is None:
            try:
                found = version_at(tariff, day)
            except NoTariff as exc:
                found = str(exc)
            self._versions[key] = found
        if isinstance(found, str):
            raise RatingError(found)
        return found


def quote(catalog, record, used, lookups=None):
    lookups = lookups or Lookups(catalog)
    service = lookups.service(record)
    contract = service.__parent__
    if contract is None or contract.account is None:
        raise RatingError(f"service of {record.subject!r} has no personal account")
    if service.tariff is None:
        raise RatingError(f"{record.subject!r} has no tariff")
    # The tariff's own time zone says which day and time of day it was.
    moment = local_time(service.tariff, record.start_us)
    tariff = tariff_for(service, moment.date())
    if tariff is None:
        raise RatingError(f"{record.subject!r} has no tariff on {moment.date()}")
    version = lookups.version(tariff, moment.date())
    period = period_of(version.periods, moment, version.holidays)
    price_usage = _PRICERS[record.kind]
    base, parts = price_usage(version, record, period, moment, contract, service, used)
    group = getattr(contract, "discount_group", None)
    price = shape(base, "usage", moment.date(), group, version.discounts, version.tax,
                  lookups.kinds(contract))
    return Quote(service, tariff, version, price, period=period, **parts)


def _seconds(record):
    seconds = record.quantities.get("seconds")
    if seconds is None:
        raise RatingError("bad data: no 'seconds' in the record")
    return seconds


def _call(version, record, period, moment, contract, service, used):
    destination = record.attrs.get("destination")
    try:
        number = normalize.phone(destination)
    except normalize.InvalidValue:
        raise RatingError(f"bad destination number {destination!r}") from None
    zone_name, prefix = version.prefixes.match(number)
    if zone_name is None:
        zone_name = version.default_zone
        if zone_name is None:
            raise RatingError(f"no zone of {version.label} for destination {number}")
    zone = version.zone(zone_name)
    rate = zone.rate
    amount, billed = rate.charge(_seconds(record), period)
    rule = f"{zone.name}{'/' + prefix if prefix else ''} per {rate.per} {rate.first}/{rate.step}"
    return amount, {"zone": zone.name, "rule": rule, "billed": billed}


def _session(version, record, period, moment, contract, service, used):
    seconds = _seconds(record)
    if version.session is None:
        return 0, {"rule": "no time price"}
    amount, billed = version.session.charge(seconds, period)
    rate = version.session
    return amount, {"rule": f"session per {rate.per} {rate.first}/{rate.step}", "billed": billed}


def _traffic(version, record, period, moment, contract, service, used):
    octets = {"in": record.quantities.get("octets_in", 0),
              "out": record.quantities.get("octets_out", 0)}
    if "octets_in" not in record.quantities and "octets_out" not in record.quantities:
        raise RatingError("bad data: no octets_in/octets_out in the record")
    cls = record.attrs.get("class")
    if cls is None:
        try:
            cls = _classify(version.traffic_classes, record.attrs.get("remote"))
        except ValueError:
            raise RatingError(f"bad remote address {record.attrs.get('remote')!r}") from None
    month = moment.strftime("%Y-%m")
    total, names, counted, billed = 0, [], [], 0
    unclaimed = {"in", "out"}
    for rule in version.volume:
        directions = [d for d in DIRECTIONS[rule.direction] if d in unclaimed]
        if not directions or not rule.matches(cls, period):
            continue
        unclaimed -= set(directions)
        volume = sum(octets[d] for d in directions)
        chargeable = volume
        if rule.allowance:
            key = f"{allowance_prefix(contract, service)}{rule.name}/{month}"
            free = max(0, rule.allowance - used(key))
            chargeable = max(0, volume - free)
            counted.append((key, volume))
        total += rule.amount(chargeable)
        billed += chargeable
        names.append(rule.name)
    rule = ",".join(names) or "no volume price"
    return total, {"zone": cls, "rule": rule, "billed": billed, "counted": counted}


@functools.lru_cache(maxsize=65536)
def _classify(classes, address):
    # A few remote addresses recur across millions of flows.
    return classes.classify(address)


def allowance_prefix(contract, service):
    """Allowance keys of a service start with this (they sit together)."""
    return f"{contract.number}/{service.__name__}/"


def _content(version, record, period, moment, contract, service, used):
    code = record.attrs.get("content")
    item = version.one_time_fee(code) if code else None
    if item is None:
        raise RatingError(f"no price for content {code!r} in {version.label}")
    return item.amount, {"rule": f"content {item.code}", "zone": item.title}


_PRICERS = {"call": _call, "session": _session, "traffic": _traffic,
            "tv": _content, "content": _content}

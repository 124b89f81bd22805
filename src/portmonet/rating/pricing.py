"""Pricing one usage record against the tariff in force when it happened.

Pure arithmetic over a service, its tariff version and the record; the only
state it reads and returns is the Internet allowance already used this
month (``used(key) -> bytes``), so the caller decides where that lives.
"""
import datetime
import functools

from ..catalog import normalize
from . import split
from ..clock import zone_of
from ..tariffs.model import NoTariff, version_at
from ..tariffs.rules import DIRECTIONS, shape


class RatingError(Exception):
    """A record that cannot be rated; the message is the reason shown."""


class Quote:
    """What a record costs and why (becomes a RatedRecord once posted)."""

    def __init__(self, service, tariff, version, price, zone="", rule="", period="default",
                 billed=0, counted=(), parts=()):
        self.service = service
        self.tariff = tariff
        self.version = version
        self.price = price
        self.zone = zone
        self.rule = rule
        self.period = period
        self.billed = billed          # seconds or bytes charged for
        self.counted = tuple(counted)  # ((allowance key, bytes), ...)
        # a use priced in pieces: ((start_us, end_us, tariff, version, zone,
        # period, rule, billed, amount), ...); () for one piece
        self.parts = tuple(parts)


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
    return datetime.datetime.fromtimestamp(us / 1e6, zone_of(tariff)).replace(tzinfo=None)


class Lookups:
    """What a batch of records asks again and again, answered once: the
    service of a subject, a contract's active kinds, a tariff's version on
    a day.  Lives for one transaction (a tariff may change between two)."""

    def __init__(self, catalog):
        self.catalog = catalog
        self._services = {}
        self._kinds = {}
        self._versions = {}
        self.cuts = {}            # (version, day, zone) -> where rules may change

    def service(self, record):
        key = (record.kind == "call", record.kind in ("tv", "content"), record.subject)
        found = self._services.get(key)
        if found is None:
            found = self._services[key] = find_service(self.catalog, record)
        return found

    def kinds(self, contract, versions):
        """The contract's active kinds, if a discount of *versions* asks
        for them (a bundle); loading every sibling service is costly."""
        if not any(d.requires for v in versions for d in v.discounts):
            return frozenset()
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
    # The tariff's own time zone says which day and time of day it was;
    # a use that crosses into another rule is priced piece by piece.
    pieces = split.pieces(service, lookups, record.start_us, _end_us(record), RatingError,
                          who=repr(record.subject), by_month=record.kind == "traffic")
    group = getattr(contract, "discount_group", None)
    if len(pieces) > 1:
        return _SPLIT[record.kind](pieces, record, contract, service, used, lookups, group)
    piece = pieces[0]
    moment, version = piece.moment, piece.version
    base, parts = _PRICERS[record.kind](version, record, piece.period, moment, contract,
                                        service, used)
    price = shape(base, "usage", moment.date(), group, version.discounts, version.tax,
                  lookups.kinds(contract, (version,)))
    return Quote(service, piece.tariff, version, price, period=piece.period, **parts)


def _end_us(record):
    """Where the use ends: calls and sessions last their seconds, traffic
    covers its interval; anything else is a moment."""
    if record.kind in ("call", "session"):
        seconds = record.quantities.get("seconds")
        return record.start_us + seconds * 1_000_000 if seconds else record.start_us
    if record.kind == "traffic":
        return max(record.end_us, record.start_us)
    return record.start_us


def _seconds(record):
    seconds = record.quantities.get("seconds")
    if seconds is None:
        raise RatingError("bad data: no 'seconds' in the record")
    return seconds


def _destination(record):
    destination = record.attrs.get("destination")
    try:
        return normalize.phone(destination)
    except normalize.InvalidValue:
        raise RatingError(f"bad destination number {destination!r}") from None


def _zone_of(version, number):
    """(zone, matched prefix, rule text) of a destination in a version."""
    zone_name, prefix = version.prefixes.match(number)
    if zone_name is None:
        zone_name = version.default_zone
        if zone_name is None:
            raise RatingError(f"no zone of {version.label} for destination {number}")
    zone = version.zone(zone_name)
    rate = zone.rate
    rule = f"{zone.name}{'/' + prefix if prefix else ''} per {rate.per} {rate.first}/{rate.step}"
    return zone, rule


def _call(version, record, period, moment, contract, service, used):
    zone, rule = _zone_of(version, _destination(record))
    amount, billed = zone.rate.charge(_seconds(record), period)
    return amount, {"zone": zone.name, "rule": rule, "billed": billed}


def _session(version, record, period, moment, contract, service, used):
    seconds = _seconds(record)
    if version.session is None:
        return 0, {"rule": "no time price"}
    amount, billed = version.session.charge(seconds, period)
    rate = version.session
    return amount, {"rule": f"session per {rate.per} {rate.first}/{rate.step}", "billed": billed}


def _octets(record):
    if "octets_in" not in record.quantities and "octets_out" not in record.quantities:
        raise RatingError("bad data: no octets_in/octets_out in the record")
    return {"in": record.quantities.get("octets_in", 0),
            "out": record.quantities.get("octets_out", 0)}


def _traffic(version, record, period, moment, contract, service, used):
    return _volume(version, _octets(record), record, period, moment, contract, service, used)


def _volume(version, octets, record, period, moment, contract, service, used):
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


# -- usage in several pieces (see rating/split.py) ----------------------------
def _timed_split(pieces, record, rates, rules, zones, contract, lookups, group):
    """Calls and session time: *rates[i]* prices piece i (None: free);
    increment, free seconds and connection fee of the first rate."""
    seconds = _seconds(record)
    first = rates[0]
    if first is not None and (seconds <= 0 or seconds <= first.free_seconds):
        seconds = 0
    billed = first.billable_seconds(seconds) if first is not None else max(seconds, 0)
    secs = split.shares(seconds, pieces)
    secs[-1] += billed - seconds
    bases, any_price = [], False
    for piece, rate, s in zip(pieces, rates, secs):
        amount, price = split.per_second_amount(rate, piece.period, s) if rate else (0, 0)
        any_price = any_price or bool(price)
        bases.append(amount)
    if first is not None and billed and (any(bases) or any_price):
        bases[0] += first.connection_fee
    kinds = lookups.kinds(contract, [p.version for p in pieces])
    prices = [split.priced(p, base, group, kinds) for p, base in zip(pieces, bases)]
    parts = tuple((p.start_us, p.end_us, p.tariff.name, p.version.number, zone, p.period, rule,
                   s, price.total)
                  for p, zone, rule, s, price in zip(pieces, zones, rules, secs, prices))
    return split.total_price(prices), {"zone": split.joined(zones), "rule": " | ".join(rules),
                                       "period": split.joined(p.period for p in pieces),
                                       "billed": billed, "parts": parts}


def _call_split(pieces, record, contract, service, used, lookups, group):
    number = _destination(record)
    found = [_zone_of(p.version, number) for p in pieces]
    price, parts = _timed_split(pieces, record, [z.rate for z, _ in found],
                                [rule for _, rule in found], [z.name for z, _ in found],
                                contract, lookups, group)
    return Quote(service, pieces[0].tariff, pieces[0].version, price, **parts)


def _session_split(pieces, record, contract, service, used, lookups, group):
    rates = [p.version.session for p in pieces]
    rules = [f"session per {r.per} {r.first}/{r.step}" if r else "no time price" for r in rates]
    price, parts = _timed_split(pieces, record, rates, rules, [""] * len(pieces),
                                contract, lookups, group)
    return Quote(service, pieces[0].tariff, pieces[0].version, price, **parts)


def _traffic_split(pieces, record, contract, service, used, lookups, group):
    octets = _octets(record)
    shares = {d: split.shares(octets[d], pieces) for d in octets}
    here = {}

    def used_here(key):          # earlier pieces of this record count too
        return used(key) + here.get(key, 0)

    kinds = lookups.kinds(contract, [p.version for p in pieces])
    prices, parts, counted, billed = [], [], [], 0
    for i, piece in enumerate(pieces):
        mine = {d: shares[d][i] for d in octets}
        base, info = _volume(piece.version, mine, record, piece.period, piece.moment, contract,
                             service, used_here)
        for key, volume in info["counted"]:
            here[key] = here.get(key, 0) + volume
        counted.extend(info["counted"])
        billed += info["billed"]
        price = split.priced(piece, base, group, kinds)
        prices.append(price)
        parts.append((piece.start_us, piece.end_us, piece.tariff.name, piece.version.number,
                      info["zone"], piece.period, info["rule"], info["billed"], price.total))
    return Quote(service, pieces[0].tariff, pieces[0].version, split.total_price(prices),
                 zone=split.joined(p[4] for p in parts), rule=" | ".join(p[6] for p in parts),
                 period=split.joined(p.period for p in pieces), billed=billed, counted=counted,
                 parts=tuple(parts))


_SPLIT = {"call": _call_split, "session": _session_split, "traffic": _traffic_split}

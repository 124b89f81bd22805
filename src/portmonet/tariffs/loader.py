"""Tariffs written as data: YAML, TOML or JSON, checked before anything is
stored.  See ``docs/tariffs.md`` for the layout.

:func:`parse_document` turns text into a list of :class:`TariffSpec` or
raises :class:`TariffDefinitionError` with every problem found, each with
the path of the bad value (``tariffs[1] 'home' versions[0] zones[2].prefixes``).
:func:`install` then writes them in one transaction (all or nothing).
"""
import datetime
import ipaddress
import json
import re
import tomllib
from decimal import Decimal, InvalidOperation

from .. import clock
from ..money import MoneyError, exponent, to_minor
from . import rules
from ..model.services import SERVICE_KINDS
from .model import KINDS, RatedTariff, TariffVersion

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_SPEED = re.compile(r"^(\d+)([kKmMgG]?)$")
_VOLUME = re.compile(r"^\s*(\d+)\s*([KMG]i?B|B)\s*$")
DAY_WORDS = {
    "all": set(range(7)), "workdays": set(range(5)), "weekdays": set(range(5)),
    "weekend": {5, 6}, **{name: {i} for i, name in enumerate(rules.WEEKDAYS)},
}


class TariffDefinitionError(ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors[:5]) + (" ..." if len(self.errors) > 5 else ""))


class _Bad(Exception):
    pass


# -- reading the file --------------------------------------------------------
def _yaml_load(text):
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def decimal(loader, node):
        value = loader.construct_scalar(node)
        try:
            return Decimal(value.replace("_", ""))
        except InvalidOperation:
            raise yaml.constructor.ConstructorError(
                None, None, f"{value!r} is not a number", node.start_mark) from None

    # Numbers with a point become exact Decimals, never floats.
    Loader.add_constructor("tag:yaml.org,2002:float", decimal)
    # Dates stay text here so that a bad one is reported with its place.
    Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)
    return yaml.load(text, Loader=Loader)


def load_text(text, fmt):
    """Parse *text* as 'yaml', 'toml' or 'json' (floats read as Decimal)."""
    try:
        if fmt == "json":
            return json.loads(text, parse_float=Decimal)
        if fmt == "toml":
            return tomllib.loads(text, parse_float=Decimal)
        if fmt in ("yaml", "yml"):
            return _yaml_load(text)
    except Exception as exc:  # the parsers' own messages say where
        raise TariffDefinitionError([f"cannot read {fmt.upper()}: {exc}"]) from None
    raise TariffDefinitionError([f"unknown format {fmt!r}: use .yaml, .toml or .json"])


def format_of(path):
    ext = path.rsplit(".", 1)[-1].lower()
    return "yaml" if ext == "yml" else ext


# -- checking one value at a time -------------------------------------------
class Reader:
    """Reads typed values out of a mapping, noting errors with their path."""

    def __init__(self, errors, path, data, currency="RUB"):
        self.errors = errors
        self.path = path
        self.data = data
        self.currency = currency
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, got {type(data).__name__}")

    def fail(self, message, key=None):
        where = f"{self.path}.{key}" if key else self.path
        self.errors.append(f"{where}: {message}")
        raise _Bad

    def child(self, key, data):
        return Reader(self.errors, f"{self.path}.{key}", data, self.currency)

    def check_keys(self, allowed):
        if isinstance(self.data, dict):
            unknown = sorted(set(self.data) - set(allowed))
            if unknown:   # noted, and the known fields are still checked
                self.errors.append(f"{self.path}: unknown field(s) {', '.join(map(str, unknown))}; "
                                   f"allowed: {', '.join(allowed)}")

    def raw(self, key, default=_Bad):
        if not isinstance(self.data, dict) or key not in self.data or self.data[key] is None:
            if default is _Bad:
                self.fail("is required", key)
            return default
        return self.data[key]

    def text(self, key, default=_Bad, pattern=None):
        value = self.raw(key, default)
        if value is default and default is not _Bad:
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail("must be a non-empty string", key)
        if pattern is not None and not pattern.match(value):
            self.fail(f"{value!r} is not a valid name (letters, digits, . _ -)", key)
        return value.strip()

    def choice(self, key, options, default=_Bad):
        value = self.raw(key, default)
        if value not in options:
            self.fail(f"{value!r} is not one of {', '.join(options)}", key)
        return value

    def flag(self, key, default=False):
        value = self.raw(key, default)
        if not isinstance(value, bool):
            self.fail("must be true or false", key)
        return value

    def count(self, key, default=_Bad, low=0):
        value = self.raw(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            self.fail(f"must be a whole number >= {low}", key)
        return value

    def date(self, key, default=_Bad):
        value = self.raw(key, default)
        if value is default and default is not _Bad:
            return value
        return self.as_date(value, key)

    def as_date(self, value, key):
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", key)

    def _number(self, value, key):
        if isinstance(value, bool) or isinstance(value, float):
            self.fail("write amounts as text or exact numbers, not floats", key)
        if isinstance(value, (int, Decimal)):
            return Decimal(value)
        try:
            return Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            self.fail(f"{value!r} is not an amount", key)

    def amount(self, key, default=_Bad):
        """Money in major units -> int minor units, exactly."""
        value = self.raw(key, default)
        if value is default and default is not _Bad:
            return value
        number = self._number(value, key)
        if number < 0:
            self.fail("must not be negative", key)
        try:
            return to_minor(number, self.currency)
        except MoneyError as exc:
            self.fail(str(exc), key)

    def price(self, key, default=_Bad, value=None):
        """A unit price in major units -> Decimal minor units (may be fractional)."""
        value = self.raw(key, default) if value is None else value
        if value is default and default is not _Bad:
            return value
        number = self._number(value, key)
        if number < 0 or not number.is_finite():
            self.fail("must be a non-negative amount", key)
        return number.scaleb(exponent(self.currency))

    def percent(self, key, default=_Bad):
        value = self.raw(key, default)
        if value is default and default is not _Bad:
            return value
        number = self._number(value, key)
        if not 0 <= number <= 100:
            self.fail("must be a percentage from 0 to 100", key)
        return number

    def items(self, key):
        value = self.raw(key, [])
        if not isinstance(value, list):
            self.fail("must be a list", key)
        return value


def _each(reader, key, parse):
    """Parse every item of a list, collecting each item's errors."""
    out = []
    for i, item in enumerate(reader.items(key)):
        try:
            out.append(parse(reader.child(f"{key}[{i}]", item)))
        except _Bad:
            pass
    return out


def _attempt(parse, *args):
    try:
        return parse(*args)
    except _Bad:
        return None


# -- the parts of a version --------------------------------------------------
def _fee(r):
    r.check_keys(("amount", "period", "charge", "suspended"))
    return rules.Fee(r.amount("amount"), r.choice("period", ("month", "day"), "month"),
                     r.choice("charge", ("advance", "arrears"), "advance"),
                     r.amount("suspended", 0))


def _one_time(r):
    r.check_keys(("code", "title", "amount"))
    code = r.text("code", pattern=_NAME)
    return rules.OneTime(code, r.text("title", code), r.amount("amount"))


def _tax(r):
    r.check_keys(("rate", "included", "name"))
    return rules.Tax(r.percent("rate"), r.flag("included", True), r.text("name", "VAT"))


def _discount(r):
    r.check_keys(("name", "percent", "amount", "applies", "from", "to", "group", "requires"))
    name = r.text("name", pattern=_NAME)
    percent, amount = r.percent("percent", None), r.amount("amount", None)
    if (percent is None) == (amount is None):
        r.fail("give exactly one of percent or amount")
    applies = r.choice("applies", ("all", "fee", "usage"), "all")
    if amount is not None and applies != "fee":
        r.fail("a fixed-amount discount applies to fees only (applies: fee)")
    start, end = r.date("from", None), r.date("to", None)
    if start and end and end < start:
        r.fail(f"ends ({end}) before it starts ({start})", "to")
    group = r.raw("group", None)
    requires = r.items("requires")
    for kind in requires:
        if kind not in SERVICE_KINDS:
            r.fail(f"{kind!r} is not a service kind ({', '.join(SERVICE_KINDS)})", "requires")
    return rules.Discount(name, percent, amount, applies, start, end,
                          None if group is None else str(group), requires)


def _minutes(r, key):
    value = r.text(key)
    m = _HHMM.match(value)
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        r.fail(f"{value!r} is not a time of day (HH:MM)", key)
    return int(m.group(1)) * 60 + int(m.group(2))


def _period(r):
    r.check_keys(("name", "from", "to", "days"))
    name = r.text("name", pattern=_NAME)
    if name == "default":
        r.fail("'default' is the name of the time outside every period", "name")
    start, end = _minutes(r, "from") % 1440, _minutes(r, "to") % 1440
    days, holiday = set(), False
    for word in r.items("days") or ["all"]:
        if word == "holiday":
            holiday = True
        elif word in DAY_WORDS:
            days |= DAY_WORDS[word]
        else:
            r.fail(f"{word!r} is not a day ({', '.join(list(DAY_WORDS) + ['holiday'])})", "days")
    return rules.Period(name, start, end, days, holiday)


def _rate_limit(r, value):
    if isinstance(value, str):
        down, _, up = value.partition("/")
        return rules.RateLimit(_speed(r, down), _speed(r, up or down))
    sub = r.child("rate_limit", value)
    sub.check_keys(("down", "up"))
    return rules.RateLimit(_speed(sub, sub.raw("down")), _speed(sub, sub.raw("up")))


def _speed(r, value):
    m = _SPEED.match(str(value).strip())
    if not m:
        r.fail(f"{value!r} is not a speed (e.g. 102400 kbit/s, 100M)", "rate_limit")
    scale = {"": 1, "k": 1, "m": 1000, "g": 1000_000}[m.group(2).lower()]
    return int(m.group(1)) * scale


def _classes(r, value):
    if not isinstance(value, dict):
        r.fail("must map class names to lists of prefixes", "traffic_classes")
    seen = {}
    for name, cidrs in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            r.fail(f"{name!r} is not a class name", "traffic_classes")
        if not isinstance(cidrs, list):
            r.fail(f"{name}: must be a list of prefixes", "traffic_classes")
        for cidr in cidrs:
            try:
                net = ipaddress.ip_network(str(cidr), strict=True)
            except ValueError as exc:
                r.fail(f"{name}: {exc}", "traffic_classes")
            if net in seen and seen[net] != name:
                r.fail(f"prefix {net} is in both {seen[net]} and {name}", "traffic_classes")
            seen[net] = name
    return rules.TrafficClasses(value)


def _allowance(r):
    value = r.raw("allowance", 0)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = _VOLUME.match(str(value))
    if not m:
        r.fail(f"{value!r} is not a volume (bytes, or e.g. '100 GB')", "allowance")
    return int(m.group(1)) * rules.UNITS[m.group(2)]


def _volume(r, classes, periods):
    r.check_keys(("name", "price", "unit", "direction", "classes", "period", "allowance"))
    chosen = r.items("classes") or None
    for name in chosen or ():
        if name not in classes.names:
            r.fail(f"unknown traffic class {name!r} (known: {', '.join(sorted(classes.names))})",
                   "classes")
    period = r.raw("period", None)
    if period is not None and period not in periods:
        r.fail(f"unknown period {period!r}", "period")
    return rules.VolumeRule(r.text("name", pattern=_NAME), r.price("price"),
                            r.choice("unit", tuple(rules.UNITS), "MB"),
                            r.choice("direction", tuple(rules.DIRECTIONS), "sum"),
                            chosen, period, _allowance(r))


RATE_KEYS = ("price", "per", "increment", "connection_fee", "free_seconds", "prices")


def _rate(r, periods):
    per = r.choice("per", ("minute", "second"), "minute")
    increment = str(r.raw("increment", "60/60" if per == "minute" else "1/1"))
    first, _, step = increment.partition("/")
    if not (first.isdigit() and step.isdigit() and int(first) > 0 and int(step) > 0):
        r.fail(f"{increment!r} is not an increment like 60/60, 1/1 or 30/6", "increment")
    prices = {"default": r.price("price")}
    extra = r.raw("prices", {})
    if not isinstance(extra, dict):
        r.fail("must map period names to prices", "prices")
    for name, value in extra.items():
        if name not in periods:
            r.fail(f"unknown period {name!r} (declared: {', '.join(sorted(periods)) or 'none'})",
                   "prices")
        prices[name] = r.price(f"prices.{name}", value=value)
    return rules.Rate(prices, per, int(first), int(step), r.amount("connection_fee", 0),
                      r.count("free_seconds", 0))


def _session(r, periods):
    r.check_keys(RATE_KEYS)
    return _rate(r, periods)


def _zone(r, periods):
    r.check_keys(("name", "prefixes") + RATE_KEYS)
    name = r.text("name", pattern=_NAME)
    prefixes = [str(p).strip().lstrip("+") for p in r.items("prefixes")]
    if not prefixes:
        r.fail("needs at least one prefix", "prefixes")
    for p in prefixes:
        if not p.isdigit() or len(p) > 15:
            r.fail(f"{p!r} is not a digit prefix", "prefixes")
    return rules.Zone(name, prefixes, _rate(r, periods))


VERSION_KEYS = ("effective", "fee", "one_time", "content", "tax", "discounts", "periods",
                "holidays", "rate_limit", "traffic_classes", "volume", "session", "zones",
                "default_zone")


def _version(r):
    r.check_keys(VERSION_KEYS)
    effective = r.date("effective")
    parts = {}
    if r.raw("fee", None) is not None:
        parts["fee"] = _attempt(_fee, r.child("fee", r.raw("fee")))
    parts["one_time"] = tuple(_each(r, "one_time", _one_time))
    parts["content"] = tuple(_each(r, "content", _one_time))
    codes = [item.code for item in parts["one_time"] + parts["content"]]
    if len(codes) != len(set(codes)):
        r.errors.append(f"{r.path}: one-time and content codes must be unique")
    if r.raw("tax", None) is not None:
        parts["tax"] = _attempt(_tax, r.child("tax", r.raw("tax")))
    parts["discounts"] = tuple(_each(r, "discounts", _discount))
    parts["periods"] = tuple(_each(r, "periods", _period))
    names = {p.name for p in parts["periods"]}
    if len(names) != len(parts["periods"]):
        r.errors.append(f"{r.path}.periods: period names must be unique")
    parts["holidays"] = frozenset(
        d for d in (_attempt(r.as_date, v, "holidays") for v in r.items("holidays")) if d)
    if r.raw("rate_limit", None) is not None:
        parts["rate_limit"] = _attempt(_rate_limit, r, r.raw("rate_limit"))
    classes = _attempt(_classes, r, r.raw("traffic_classes", {})) or rules.TrafficClasses({})
    parts["traffic_classes"] = classes
    parts["volume"] = tuple(_each(r, "volume", lambda c: _volume(c, classes, names)))
    if r.raw("session", None) is not None:
        parts["session"] = _attempt(_session, r.child("session", r.raw("session")), names)
    zones = _each(r, "zones", lambda c: _zone(c, names))
    seen = {}
    for zone in zones:
        for prefix in zone.prefixes:
            if prefix in seen:
                r.errors.append(f"{r.path}.zones: prefix {prefix} is in both "
                                f"{seen[prefix]} and {zone.name}")
            seen[prefix] = zone.name
    if len({z.name for z in zones}) != len(zones):
        r.errors.append(f"{r.path}.zones: zone names must be unique")
    parts["zones"] = tuple(zones)
    default_zone = r.raw("default_zone", None)
    if default_zone is not None and default_zone not in {z.name for z in zones}:
        r.errors.append(f"{r.path}.default_zone: no zone named {default_zone!r}")
    parts["default_zone"] = default_zone
    return effective, {k: v for k, v in parts.items() if v is not None}


class TariffSpec:
    """A checked tariff definition, not yet stored."""

    def __init__(self, name, title, kind, currency, timezone, versions, access=None):
        self.name, self.title, self.kind = name, title, kind
        self.currency, self.timezone, self.versions = currency, timezone, versions
        # Network access settings the RADIUS policy reads off the tariff:
        # walled_garden (a Filter-Id / address-list name for debtors) and
        # allowed_hours ((first, last) local hours, may cross midnight).
        self.access = access or {}


def _tariff(r):
    r.check_keys(("name", "title", "kind", "currency", "timezone", "versions",
                  "walled_garden", "allowed_hours"))
    name = r.text("name", pattern=_NAME)
    r.path = f"{r.path} {name!r}"
    kind = r.choice("kind", KINDS, "internet")
    currency = r.text("currency", "RUB")
    try:
        exponent(currency)
    except MoneyError as exc:
        r.fail(str(exc), "currency")
    r.currency = currency
    tz = _timezone(r)
    before = len(r.errors)
    versions = _each(r, "versions", _version)
    if not r.items("versions"):
        r.fail("a tariff needs at least one version", "versions")
    dates = [effective for effective, _ in versions]
    if len(dates) != len(set(dates)):
        r.fail("two versions have the same effective date", "versions")
    access = access_settings(r)
    if len(r.errors) > before:
        raise _Bad
    return TariffSpec(name, r.text("title", name), kind, currency, tz, versions, access)


def _timezone(r):
    """The tariff's own zone, or None (absent or empty): the operator's."""
    tz = r.raw("timezone", None)
    if tz is None or (isinstance(tz, str) and not tz.strip()):
        return None
    tz = r.text("timezone")
    try:
        clock.parse_zone(tz)
    except ValueError as exc:
        r.fail(str(exc), "timezone")
    return tz


def access_settings(r):
    """A tariff's network access settings (``walled_garden``,
    ``allowed_hours``); a bad one is noted on *r* and read as None."""
    return {"walled_garden": _attempt(r.text, "walled_garden", None, _NAME),
            "allowed_hours": _attempt(_hours, r)}


def _hours(r):
    """``allowed_hours: 8-22`` (or ``[8, 22]``): the hours a login may start
    a session, inclusive; ``22-6`` crosses midnight."""
    value = r.raw("allowed_hours", None)
    if value is None:
        return None
    if isinstance(value, str):
        first, sep, last = value.partition("-")
        value = [first.strip(), last.strip()] if sep else [value]
    try:
        first, last = (int(v) for v in value)
    except (TypeError, ValueError):
        r.fail(f"{value!r} is not FIRST-LAST hours (e.g. 8-22)", "allowed_hours")
    if not (0 <= first <= 23 and 0 <= last <= 23):
        r.fail("hours are 0..23", "allowed_hours")
    return (first, last)


def parse_document(data):
    """A loaded document -> [TariffSpec]; raises TariffDefinitionError."""
    errors = []
    if isinstance(data, dict) and "tariffs" in data:
        items = data["tariffs"]
    else:
        items = data
    if not isinstance(items, list) or not items:
        raise TariffDefinitionError(["the file must hold a list 'tariffs' of tariff definitions"])
    specs = []
    for i, item in enumerate(items):
        try:
            specs.append(_tariff(Reader(errors, f"tariffs[{i}]", item)))
        except _Bad:
            pass
    names = [s.name for s in specs]
    for name in {n for n in names if names.count(n) > 1}:
        errors.append(f"tariff {name!r} is defined twice")
    if errors:
        raise TariffDefinitionError(errors)
    return specs


def install(root, specs, replace=False):
    """Store checked tariffs; returns [(tariff name, effective, outcome)].

    Raises ValueError (and the caller aborts) when a stored tariff differs in
    kind or is a plain tariff, or a version differs without *replace*.
    """
    folder = root["tariffs"]
    report = []
    for spec in specs:
        tariff = folder.get(spec.name)
        if tariff is None:
            tariff = folder.add(spec.name, RatedTariff(spec.name, spec.title, spec.kind,
                                                       spec.currency, spec.timezone))
        elif not isinstance(tariff, RatedTariff):
            raise ValueError(f"tariff {spec.name!r} is a plain tariff of the foundation; "
                             f"import it under a new name")
        elif tariff.kind != spec.kind or tariff.currency != spec.currency:
            raise ValueError(f"tariff {spec.name!r} is a {tariff.kind} tariff in "
                             f"{tariff.currency}; its kind and currency cannot change")
        else:
            tariff.title, tariff.timezone = spec.title, spec.timezone
        for key, value in spec.access.items():
            if value != getattr(tariff, key, None):
                setattr(tariff, key, value)
        for effective, parts in spec.versions:
            outcome = tariff.add_version(TariffVersion(effective, **parts), replace=replace)
            report.append((spec.name, effective, outcome))
    return report


def load_file(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse_document(load_text(text, format_of(path)))

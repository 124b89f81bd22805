"""The tariff forms of the web workplace.

A version is edited as a handful of fields, a few text areas with one rule
per line (a zone, a volume price, a period) and rows of fields (one-time
fees, content prices, discounts); :func:`version_document` turns them into
the same mapping a YAML tariff file holds, and the loader's checks
(:mod:`.loader`) decide what is valid, so a tariff typed in the browser and
one imported from a file obey the same rules and messages.
:func:`version_fields` writes a stored version back into the fields (a new
version starts as a copy of the latest one), so every part of a version
round-trips: saved unchanged, the copy is the same plan.
"""
import datetime
import re
from decimal import Decimal

from wtforms import (BooleanField, FieldList, FormField, SelectField, SelectMultipleField,
                     StringField, TextAreaField, widgets)

from .. import clock
from ..model.services import SERVICE_KINDS
from ..money import CURRENCY_EXPONENTS, exponent
from ..web.forms import BaseForm, V, choices
from . import loader, rules
from .model import KINDS

LINE_FIELDS = ("periods", "traffic_classes", "volume", "session", "zones")
ROW_FIELDS = ("one_time", "content", "discounts")
MAX_ROWS = 100
BLANK_ROWS = 2          # empty rows offered under the filled ones


TIMEZONE_LABEL = "Time zone of its hours (e.g. Europe/Moscow; empty: the operator's)"


def _timezone(form, field):
    try:
        clock.parse_zone(field.data)
    except ValueError as exc:
        raise V.ValidationError(str(exc))


def _iso_date(form, field):
    try:
        field.date = datetime.date.fromisoformat(field.data or "")
    except ValueError:
        raise V.ValidationError("a date YYYY-MM-DD")


class TariffCreateForm(BaseForm):
    name = StringField("Name (letters, digits, . _ -)", [
        V.InputRequired(), V.Length(max=64), V.Regexp(loader._NAME.pattern,
                                                      message="letters, digits, . _ - only")])
    title = StringField("Title", [V.Optional(), V.Length(max=200)])
    kind = SelectField("Kind", choices=choices((k, k) for k in KINDS))
    currency = SelectField("Currency", choices=choices((c, c) for c in CURRENCY_EXPONENTS),
                           default="RUB")
    timezone = StringField(TIMEZONE_LABEL, [V.Optional(), V.Length(max=64), _timezone])


class TariffEditForm(BaseForm):
    """A tariff's own settings (its kind and currency never change)."""
    title = StringField("Title", [V.InputRequired(), V.Length(max=200)])
    timezone = StringField(TIMEZONE_LABEL, [V.Optional(), V.Length(max=64)])
    walled_garden = StringField("Walled garden for debtors (a Filter-Id / address list; "
                                "empty: debtors are refused)", [V.Optional(), V.Length(max=64)])
    allowed_hours = StringField("Hours a session may start (e.g. 8-22, 22-6; empty: any)",
                                [V.Optional(), V.Length(max=10)])


def tariff_settings(form):
    """The edit form's values checked by the loader's own rules:
    {title, timezone, walled_garden, allowed_hours}, or None with the
    messages on the fields."""
    doc = {"title": form.title.data, "timezone": (form.timezone.data or "").strip(),
           "walled_garden": (form.walled_garden.data or "").strip() or None,
           "allowed_hours": (form.allowed_hours.data or "").strip() or None}
    errors = []
    r = loader.Reader(errors, "tariff", doc)
    settings = {}
    try:
        settings["timezone"] = loader._timezone(r)
    except loader._Bad:
        pass
    settings.update(loader.access_settings(r))
    settings["title"] = doc["title"].strip()
    for error in errors:
        where, _, message = error.partition(": ")
        form.add_error(where.rpartition(".")[2], message)
    return None if errors else settings


def tariff_fields(tariff):
    hours = tariff.allowed_hours
    return {"title": tariff.title, "timezone": tariff.timezone or "",
            "walled_garden": tariff.walled_garden or "",
            "allowed_hours": f"{hours[0]}-{hours[1]}" if hours else ""}


class RowForm(BaseForm):
    """One row of a list of rules; a row left all empty is no rule.
    ``KEYS`` maps the loader's keys to the row's field names."""
    KEYS = {}

    def is_blank(self):
        return not any((f.data or "").strip() if isinstance(f.data, str) else f.data
                       for f in self)

    def field_for(self, key):
        name = self.KEYS.get(key, key)
        return self[name] if name in self._fields else None


class OneTimeRow(RowForm):
    """A one-time fee (connection, installation, equipment) or a content
    (pay-per-view) price: its code is what a usage record names."""
    code = StringField("Code", [V.Optional(), V.Length(max=64)])
    title = StringField("Title", [V.Optional(), V.Length(max=200)])
    amount = StringField("Amount", [V.Optional(), V.Length(max=20)])


class DiscountRow(RowForm):
    """A discount or promotion: percent or fixed (fees only), for dates,
    for a group of contracts, for contracts holding all of some kinds."""
    KEYS = {"from": "start", "to": "end"}
    name = StringField("Name", [V.Optional(), V.Length(max=64)])
    percent = StringField("Percent", [V.Optional(), V.Length(max=12)])
    amount = StringField("or fixed amount", [V.Optional(), V.Length(max=20)])
    applies = SelectField("On", choices=choices((a, a) for a in ("all", "fee", "usage")))
    start = StringField("From (YYYY-MM-DD)", [V.Optional(), V.Length(max=10)])
    end = StringField("To (inclusive)", [V.Optional(), V.Length(max=10)])
    group = StringField("Only group", [V.Optional(), V.Length(max=64)])
    requires = SelectMultipleField("Only with services", choices=choices(
        (k, k) for k in SERVICE_KINDS), widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput())

    def is_blank(self):
        # the select always has a value: a row is blank without the others
        return not any((self[f].data or "").strip() for f in
                       ("name", "percent", "amount", "start", "end", "group")) \
            and not self.requires.data


def _rows(form_class, label):
    return FieldList(FormField(form_class), label, max_entries=MAX_ROWS)


class VersionForm(BaseForm):
    effective = StringField("Effective from (YYYY-MM-DD)", [V.InputRequired(), _iso_date])
    fee_amount = StringField("Periodic fee (empty: none)", [V.Optional(), V.Length(max=20)])
    fee_period = SelectField("Fee per", choices=choices((p, p) for p in ("month", "day")))
    fee_charge = SelectField("Fee charged", choices=choices((c, c) for c in ("advance", "arrears")))
    fee_suspended = StringField("Fee while suspended", [V.Optional(), V.Length(max=20)])
    tax_rate = StringField("VAT % (empty: none)", [V.Optional(), V.Length(max=8)])
    tax_included = BooleanField("VAT included in prices", default=True)
    tax_name = StringField("Tax name", [V.Optional(), V.Length(max=40)], default="VAT")
    rate_limit = StringField("Speed (down/up, e.g. 100M/50M)", [V.Optional(), V.Length(max=40)])
    periods = TextAreaField("Periods: name HH:MM-HH:MM [days]", [V.Length(max=4000)])
    traffic_classes = TextAreaField("Traffic classes: name prefix [prefix ...]", [V.Length(max=20000)])
    volume = TextAreaField("Volume prices: name price [unit=GB] [direction=in|out|sum] "
                           "[classes=a,b] [period=p] [allowance=10GB]", [V.Length(max=10000)])
    session = StringField("Session time price: price [per=minute|second] [increment=60/60]",
                          [V.Optional(), V.Length(max=200)])
    zones = TextAreaField("Telephone zones: name price prefix,prefix [per=minute|second] "
                          "[increment=60/60] [connection_fee=0.30] [free_seconds=3] [period=price]",
                          [V.Length(max=100000)])
    default_zone = StringField("Zone of numbers no prefix matches (empty: none)",
                               [V.Optional(), V.Length(max=64)])
    holidays = TextAreaField("Holidays (YYYY-MM-DD, one a line): periods with days 'holiday' "
                             "apply on them", [V.Length(max=4000)])
    one_time = _rows(OneTimeRow, "One-time fees (connection, installation, equipment)")
    content = _rows(OneTimeRow, "Content / pay-per-view prices")
    discounts = _rows(DiscountRow, "Discounts and promotions (percent, or a fixed amount "
                                   "on fees)")

    def more_rows(self, blank=BLANK_ROWS):
        """Offer *blank* empty rows under the filled ones of every list."""
        for name in ROW_FIELDS:
            rows = self[name]
            while (sum(1 for e in rows.entries if e.form.is_blank()) < blank
                   and len(rows.entries) < MAX_ROWS):
                rows.append_entry()


# -- fields -> the loader's document ---------------------------------------
class LineError(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def _lines(text):
    """(line number, words) of the non-empty lines (``#`` starts a comment)."""
    out = []
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append((number, line.split()))
    return out


def _split(field, number, words, positional):
    """*positional* leading words, then ``key=value`` options."""
    if len(words) < positional:
        raise LineError(field, f"line {number}: expected at least {positional} words")
    options = {}
    for word in words[positional:]:
        key, sep, value = word.partition("=")
        if not sep or not key or not value:
            raise LineError(field, f"line {number}: {word!r} is not key=value")
        if key in options:
            raise LineError(field, f"line {number}: {key} given twice")
        options[key] = value
    return words[:positional], options


def _period(number, words):
    (name, span), days = words[:2], words[2:]
    start, sep, end = span.partition("-")
    if not sep:
        raise LineError("periods", f"line {number}: {span!r} is not HH:MM-HH:MM")
    words = [w for d in days for w in d.split(",") if w]
    return {"name": name, "from": start, "to": end, "days": words or ["all"]}


def _volume(number, words):
    (name, price), options = _split("volume", number, words, 2)
    item = {"name": name, "price": price}
    for key, value in options.items():
        item[key] = value.split(",") if key == "classes" else value
    return item


def _rate(item, options):
    """Rate options into *item*; any other key is a period's price."""
    prices = {}
    for key, value in options.items():
        if key in ("per", "increment", "connection_fee"):
            item[key] = value
        elif key == "free_seconds":
            item[key] = int(value) if value.isdigit() else value
        else:
            prices[key] = value
    if prices:
        item["prices"] = prices
    return item


def _zone(number, words):
    (name, price, prefixes), options = _split("zones", number, words, 3)
    return _rate({"name": name, "price": price,
                  "prefixes": [p for p in prefixes.split(",") if p]}, options)


def version_document(form):
    """The form's fields as a tariff file's version mapping, and for each
    list the line numbers of its items (to put messages on lines)."""
    doc = {"effective": form.effective.data}
    if form.fee_amount.data:
        doc["fee"] = {"amount": form.fee_amount.data, "period": form.fee_period.data,
                      "charge": form.fee_charge.data}
        if form.fee_suspended.data:
            doc["fee"]["suspended"] = form.fee_suspended.data
    if form.tax_rate.data:
        doc["tax"] = {"rate": form.tax_rate.data, "included": bool(form.tax_included.data)}
        if form.tax_name.data and form.tax_name.data.strip() != "VAT":
            doc["tax"]["name"] = form.tax_name.data
    if form.rate_limit.data:
        doc["rate_limit"] = form.rate_limit.data.strip()
    lines = {}
    periods = [(n, w) for n, w in _lines(form.periods.data)]
    for n, w in periods:
        if len(w) < 2:
            raise LineError("periods", f"line {n}: expected a name and HH:MM-HH:MM")
    doc["periods"] = [_period(n, w) for n, w in periods]
    lines["periods"] = [n for n, _ in periods]
    classes = {}
    for n, w in _lines(form.traffic_classes.data):
        if len(w) < 2:
            raise LineError("traffic_classes", f"line {n}: expected a name and prefixes")
        if w[0] in classes:
            raise LineError("traffic_classes", f"line {n}: class {w[0]} given twice")
        classes[w[0]] = [p for word in w[1:] for p in word.split(",") if p]
    doc["traffic_classes"] = classes
    volume = _lines(form.volume.data)
    doc["volume"] = [_volume(n, w) for n, w in volume]
    lines["volume"] = [n for n, _ in volume]
    if form.session.data:
        (price,), options = _split("session", 1, form.session.data.split(), 1)
        doc["session"] = _rate({"price": price}, options)
    zones = _lines(form.zones.data)
    doc["zones"] = [_zone(n, w) for n, w in zones]
    lines["zones"] = [n for n, _ in zones]
    if form.default_zone.data:
        doc["default_zone"] = form.default_zone.data.strip()
    doc["holidays"] = [w for w in re.split(r"[\s,;]+", form.holidays.data or "") if w]
    for name in ROW_FIELDS:
        doc[name], lines[name] = [], []
        for index, entry in enumerate(form[name].entries):
            if not entry.form.is_blank():
                doc[name].append(_row_item(entry.form))
                lines[name].append(index)
    return doc, lines


def _row_item(row):
    """A row's non-empty fields under the loader's keys."""
    keys = {name: key for key, name in row.KEYS.items()}
    item = {}
    for field in row:
        value = field.data
        if isinstance(value, str):
            value = value.strip()
        if value:
            item[keys.get(field.short_name, field.short_name)] = value
    return item


_FIELD_OF = {"fee": "fee_amount", "tax": "tax_rate", "rate_limit": "rate_limit",
             "periods": "periods", "traffic_classes": "traffic_classes", "volume": "volume",
             "session": "session", "zones": "zones", "default_zone": "default_zone",
             "effective": "effective", "holidays": "holidays"}
_SUB_FIELD_OF = {("fee", "suspended"): "fee_suspended", ("tax", "name"): "tax_name"}
_PATH = re.compile(r"^version\.([a-z_]+)(?:\[(\d+)\])?\.?([^:]*):\s*(.*)$")


def _row_error(form, part, index, key, message):
    """A loader message about row *index* of list *part*: on the row's field
    it names, else on the row."""
    rows = form[part]
    row = rows.entries[index].form
    field = row.field_for(key.split(".")[0]) if key else None
    if field is not None:
        field.errors = list(field.errors) + [message]
    else:
        row.form_errors = list(row.form_errors) + [message]
    rows.errors = [e for e in rows.errors if isinstance(e, str)] + [e.errors for e in rows.entries]


def _list_error(form, part, message):
    form[part].errors = list(form[part].errors) + [message]


def place_errors(form, errors, lines):
    """Put the loader's messages (``version.zones[2].prefixes: ...``) on
    the fields they are about, saying which line."""
    for error in errors:
        if error.startswith("version: one-time and content codes"):
            _list_error(form, "one_time", error.partition(": ")[2])
            continue
        m = _PATH.match(error)
        if not m:
            form.add_error("effective", error)
            continue
        part, index, key, message = m.groups()
        if part in ROW_FIELDS:
            if index is not None and int(index) < len(lines.get(part, ())):
                _row_error(form, part, lines[part][int(index)], key, message)
            else:
                _list_error(form, part, f"{key + ': ' if key else ''}{message}")
            continue
        field = _SUB_FIELD_OF.get((part, key), _FIELD_OF.get(part, "effective"))
        where = ""
        if index is not None and part in lines and int(index) < len(lines[part]):
            where = f"line {lines[part][int(index)]}: "
        form.add_error(field, f"{where}{key + ': ' if key else ''}{message}")


def parse_version(form, currency):
    """(effective date, parts) of a valid form; else None, with the
    messages put on the form's fields."""
    try:
        doc, lines = version_document(form)
    except LineError as exc:
        form.add_error(exc.field, str(exc))
        return None
    errors = []
    try:
        effective, parts = loader._version(loader.Reader(errors, "version", doc, currency))
    except loader._Bad:
        parts = None
    if errors or parts is None:
        place_errors(form, errors or ["version: not valid"], lines)
        return None
    return effective, parts


# -- a stored version -> fields ----------------------------------------------
def _major(minor, currency):
    """Minor units (int or Decimal) as the major-unit text an operator types."""
    value = Decimal(minor).scaleb(-exponent(currency))
    whole, _, frac = format(value.normalize(), "f").partition(".")
    frac = frac.ljust(exponent(currency), "0")
    return f"{whole}.{frac}" if frac else whole


def _minutes(value):
    return f"{value // 60:02d}:{value % 60:02d}"


_DAY_NAMES = {frozenset(range(7)): "all", frozenset(range(5)): "workdays",
              frozenset({5, 6}): "weekend"}


def _days(period):
    words = [_DAY_NAMES.get(period.days)] if period.days in _DAY_NAMES else \
        [rules.WEEKDAYS[d] for d in sorted(period.days)]
    if period.holiday:
        words.append("holiday")
    return ",".join(w for w in words if w)


def _volume_size(octets):
    for unit in ("GB", "MB", "KB"):
        if octets and octets % rules.UNITS[unit] == 0:
            return f"{octets // rules.UNITS[unit]}{unit}"
    return str(octets)


def _rate_options(rate, currency):
    words = []
    if rate.per != "minute":
        words.append(f"per={rate.per}")
    default_increment = (60, 60) if rate.per == "minute" else (1, 1)
    if (rate.first, rate.step) != default_increment:
        words.append(f"increment={rate.first}/{rate.step}")
    if rate.connection_fee:
        words.append(f"connection_fee={_major(rate.connection_fee, currency)}")
    if rate.free_seconds:
        words.append(f"free_seconds={rate.free_seconds}")
    for period, price in rate.prices.items():
        if period != "default":
            words.append(f"{period}={_major(price, currency)}")
    return words


def version_fields(version, currency):
    """A stored version as the form's field values."""
    data = {}
    if version.fee is not None:
        data.update(fee_amount=_major(version.fee.amount, currency), fee_period=version.fee.period,
                    fee_charge=version.fee.charge)
        if version.fee.suspended_amount:
            data["fee_suspended"] = _major(version.fee.suspended_amount, currency)
    if version.tax.rate:
        data.update(tax_rate=format(version.tax.rate.normalize(), "f"),
                    tax_included=version.tax.included, tax_name=version.tax.name)
    else:
        data["tax_included"] = True
    if version.rate_limit is not None:
        data["rate_limit"] = f"{version.rate_limit.down_kbps}/{version.rate_limit.up_kbps}"
    data["periods"] = "\n".join(
        f"{p.name} {_minutes(p.start)}-{_minutes(p.end)} {_days(p)}" for p in version.periods)
    data["traffic_classes"] = "\n".join(f"{name} {' '.join(nets)}"
                                        for name, nets in classes_of(version))
    volume = []
    for rule in version.volume:
        words = [rule.name, _major(rule.price, currency), f"unit={rule.unit}"]
        if rule.direction != "sum":
            words.append(f"direction={rule.direction}")
        if rule.classes:
            words.append(f"classes={','.join(sorted(rule.classes))}")
        if rule.period:
            words.append(f"period={rule.period}")
        if rule.allowance:
            words.append(f"allowance={_volume_size(rule.allowance)}")
        volume.append(" ".join(words))
    data["volume"] = "\n".join(volume)
    if version.session is not None:
        data["session"] = " ".join([_major(version.session.price_for("default"), currency)]
                                   + _rate_options(version.session, currency))
    data["zones"] = "\n".join(
        " ".join([zone.name, _major(zone.rate.price_for("default"), currency),
                  ",".join(zone.prefixes)] + _rate_options(zone.rate, currency))
        for zone in version.zones)
    if version.default_zone:
        data["default_zone"] = version.default_zone
    data["holidays"] = "\n".join(d.isoformat() for d in sorted(version.holidays))
    for name in ("one_time", "content"):
        data[name] = [{"code": o.code, "title": o.title, "amount": _major(o.amount, currency)}
                      for o in getattr(version, name)]
    data["discounts"] = [_discount_row(d, currency) for d in version.discounts]
    return data


def _discount_row(discount, currency):
    return {"name": discount.name,
            "percent": "" if discount.percent is None else format(discount.percent.normalize(), "f"),
            "amount": "" if discount.amount is None else _major(discount.amount, currency),
            "applies": discount.applies,
            "start": discount.start.isoformat() if discount.start else "",
            "end": discount.end.isoformat() if discount.end else "",
            "group": discount.group or "", "requires": sorted(discount.requires)}


# -- for the tariff page ------------------------------------------------------
major = _major
volume_size = _volume_size
period_days = _days


def classes_of(version):
    by_class = {}
    for network, name in version.traffic_classes.networks:
        by_class.setdefault(name, []).append(str(network))
    return sorted(by_class.items())


def rate_text(rate, currency):
    prices = ", ".join(f"{_major(price, currency)}" + ("" if period == "default" else f" ({period})")
                       for period, price in rate.prices.items())
    extra = f", connection {_major(rate.connection_fee, currency)}" if rate.connection_fee else ""
    free = f", first {rate.free_seconds} s free" if rate.free_seconds else ""
    return f"{prices} per {rate.per}, increment {rate.first}/{rate.step}{extra}{free}"


def discount_text(discount, currency):
    """A discount as one line of the tariff page."""
    off = (f"{format(discount.percent.normalize(), 'f')}%" if discount.percent is not None
           else _major(discount.amount, currency))
    words = [f"{off} off {discount.applies if discount.applies != 'all' else 'everything'}"]
    if discount.start or discount.end:
        words.append(f"from {discount.start or 'the start'} to {discount.end or 'no end'}")
    if discount.group:
        words.append(f"for group {discount.group}")
    if discount.requires:
        words.append(f"with {' + '.join(sorted(discount.requires))}")
    return ", ".join(words)

"""Money as integer minor units; the one place where amounts are parsed,
rounded and formatted.

A float never reaches this module's results: amounts come in as ``str``,
``int`` or ``Decimal`` and leave as ``int`` minor units.
"""
import functools
import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

# ISO 4217 code -> number of minor-unit digits (exponent).  The currencies an
# operator in our markets bills in; extend as needed.
CURRENCY_EXPONENTS = {
    "RUB": 2, "USD": 2, "EUR": 2, "KZT": 2, "BYN": 2, "UAH": 2, "UZS": 2,
    "AMD": 2, "GEL": 2, "AZN": 2, "KGS": 2, "TJS": 2, "MDL": 2, "GBP": 2,
    "CNY": 2, "TRY": 2, "JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3,
}
DEFAULT_CURRENCY = "RUB"

# Billing rounds half away from zero (what cashiers and invoices expect);
# this constant is the single rounding rule of Portmonet.
ROUNDING = ROUND_HALF_UP


# No single amount Portmonet handles comes near this (10^13 roubles); a
# larger one is a typing mistake or an attack, not money.
MAX_MINOR = 10 ** 15


_TYPED = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


class MoneyError(ValueError):
    """An amount or currency that cannot be accepted."""


def exponent(currency):
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def check_currency(currency):
    exponent(currency)
    return currency


def round_minor(value, currency=DEFAULT_CURRENCY):
    """Round a Decimal amount in *minor* units to a whole number of minor units."""
    if isinstance(value, float):
        raise MoneyError("floats are not accepted for money")
    if not isinstance(value, (int, Decimal)):
        raise MoneyError(f"not an amount: {value!r}")
    exponent(currency)
    try:
        minor = int(Decimal(value).quantize(Decimal(1), rounding=ROUNDING))
    except InvalidOperation:
        raise MoneyError(f"amount out of range: {value}") from None
    if abs(minor) > MAX_MINOR:
        raise MoneyError(f"amount out of range: {value}")
    return minor


def to_minor(major, currency=DEFAULT_CURRENCY, exact=True):
    """Parse an amount in major units ("12.34", Decimal, int) into minor units.

    With ``exact`` (the default, for what people type: payments, balances)
    more decimal places than the currency has is an error, not a rounding.
    """
    if isinstance(major, float):
        raise MoneyError("floats are not accepted for money")
    if isinstance(major, str):
        text = major.strip().replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")     # Russian decimal comma
        # ASCII digits only: Decimal() would also take "1e3", "Infinity"
        # and non-ASCII digits.
        if len(text) > 40 or not _TYPED.fullmatch(text):
            raise MoneyError(f"not an amount: {text[:40]!r}")
        major = Decimal(text)
    elif not isinstance(major, (int, Decimal)):
        raise MoneyError(f"not an amount: {major!r}")
    major = Decimal(major)
    if not major.is_finite():
        raise MoneyError(f"not an amount: {major}")
    exp = exponent(currency)
    scaled = major.scaleb(exp)
    if exact and scaled != scaled.to_integral_value():
        raise MoneyError(f"{major} has more than {exp} decimal places for {currency}")
    return round_minor(scaled, currency)


@functools.lru_cache(maxsize=64)
def _canonical_grammar(exp, decimal, group):
    whole = (rf"(?:0|[1-9][0-9]{{0,2}}(?:{re.escape(group)}[0-9]{{3}})*)" if group
             else r"(?:0|[1-9][0-9]*)")
    fraction = rf"(?:{re.escape(decimal)}[0-9]{{1,{exp}}})?" if exp else ""
    return re.compile(whole + fraction, re.ASCII)


def parse_canonical(text, currency=DEFAULT_CURRENCY, decimal=".", group=""):
    """Minor units from the one canonical spelling of a non-negative amount
    that a machine protocol (payment terminal, callback, bank file) sends:
    ASCII digits without leading zeros, at most one *decimal* separator
    followed by 1 to the currency's number of decimals, and, only when the
    format declares a *group* (thousands) separator, groups of exactly
    three digits.  No sign, exponent, surrounding or inner space, other
    separator, non-ASCII digit or other type: a :class:`MoneyError` says
    what was refused.  So "150", "150.0" and "150.00" are one amount, and
    "1e3", "1 000", "150,00" (where the dot is the separator), "0150",
    "\u0661\u0665\u0660" are refused.
    """
    if not isinstance(text, str):
        raise MoneyError(f"an amount is a decimal string, not {type(text).__name__}")
    exp = exponent(currency)
    if len(text) > 40 or not _canonical_grammar(exp, decimal, group).fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise MoneyError(f"{shown!r} is not an amount of the form 1234{decimal}"
                         f"{'5' * exp if exp else ''} in {currency}")
    plain = text.replace(group, "") if group else text
    return to_minor(Decimal(plain.replace(decimal, ".")), currency)


def parse_typed(text, currency=DEFAULT_CURRENCY):
    """An amount a cashier or a subscriber typed into a payment form: the
    canonical spelling (:func:`parse_canonical`) with the space a browser
    form may leave around it trimmed and either a dot or a comma as the
    decimal separator ("150,50" is what a Russian keyboard gives)."""
    if not isinstance(text, str):
        raise MoneyError("an amount is text")
    text = text.strip()
    return parse_canonical(text, currency, "," if "," in text and "." not in text else ".")


def to_major(minor, currency=DEFAULT_CURRENCY):
    """Minor units -> Decimal in major units (exact)."""
    if not isinstance(minor, int):
        raise MoneyError(f"minor units must be int, not {type(minor).__name__}")
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor, currency=DEFAULT_CURRENCY, with_code=False):
    """'1234.50' (or '1234.50 RUB') from 123450 kopecks."""
    exp = exponent(currency)
    text = f"{to_major(minor, currency):.{exp}f}"
    return f"{text} {currency}" if with_code else text

from decimal import Decimal

import pytest

from portmonet.money import MoneyError, format_amount, round_minor, to_major, to_minor


@pytest.mark.parametrize("text,currency,minor", [
    ("12.34", "RUB", 1234), ("12,5", "RUB", 1250), ("1 000.00", "RUB", 100000),
    ("-0.01", "RUB", -1), ("7", "JPY", 7), ("1.234", "KWD", 1234), (Decimal("0.10"), "USD", 10),
    (3, "RUB", 300),
])
def test_to_minor(text, currency, minor):
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize("bad", ["12.345", "abc", "", "NaN", "Infinity", "1e", "12..3",
                                 "9" * 30, "1e40", "-1e40", "10000000000000.01"])
def test_to_minor_rejects(bad):
    with pytest.raises(MoneyError):
        to_minor(bad)


def test_floats_never_accepted():
    with pytest.raises(MoneyError):
        to_minor(12.34)
    with pytest.raises(MoneyError):
        round_minor(1.5)


def test_unknown_currency():
    with pytest.raises(MoneyError):
        to_minor("1", "XXX")


def test_round_half_up_is_the_one_rule():
    assert round_minor(Decimal("2.5")) == 3
    assert round_minor(Decimal("-2.5")) == -3
    assert round_minor(Decimal("2.4999")) == 2
    assert to_minor("12.345", exact=False) == 1235


def test_format_and_back():
    assert format_amount(123450) == "1234.50"
    assert format_amount(-5, "RUB", with_code=True) == "-0.05 RUB"
    assert format_amount(7, "JPY") == "7"
    assert to_major(123450) == Decimal("1234.50")
    with pytest.raises(MoneyError):
        to_major(1.0)

"""Prepaid cards: generation, dealers, activation, brute-force lockout."""
import datetime

import pytest

from portmonet import clock
from portmonet.ops.check import check_books
from portmonet.payments import cards as cardmod
from portmonet.payments.cards import CardError, Locked, export_csv

from .conftest import add_subscriber

NEXT_YEAR = clock.today() + datetime.timedelta(days=365)


@pytest.fixture
def batch(root, tm):
    cards = root["payments"].cards
    batch, pins = cards.generate("A", 50000, 20, NEXT_YEAR, user="test")
    cards.issue("A", "dealer1")
    account = add_subscriber(root, "Volkov").account
    tm.commit()
    return cards, batch, dict(pins), account


def test_generation_stores_no_clear_pin(batch):
    cards, batch_, pins, _ = batch
    assert len(pins) == 20 == len(cards.by_serial)
    serial, pin = next(iter(pins.items()))
    assert len(serial) == cardmod.SERIAL_DIGITS and len(pin) == cardmod.PIN_DIGITS
    card = cards.by_serial[serial]
    assert pin.encode() not in card.pin_digest and len(card.pin_digest) == 32
    assert len(set(pins.values())) == 20
    printed = export_csv(batch_, list(pins.items()))
    assert pin in printed and "500.00" in printed
    inventory = export_csv(batch_)
    assert pin not in inventory and "issued,dealer1" in inventory


def test_activation_credits_once(root, tm, batch):
    cards, _, pins, account = batch
    serial, pin = next(iter(pins.items()))
    posting = cards.activate(root, serial, pin, account, ["account:x", "ip:1"], "office")
    assert account.balance == 50000 and posting.cause == f"card:A:{serial}"
    with pytest.raises(CardError, match="activated"):
        cards.activate(root, serial, pin, account, ["account:x"], "office")
    tm.commit()
    assert account.balance == 50000 and cards.activated() == 1
    assert check_books(root, root._p_jar).ok


def test_brute_force_locks_out(root, tm, batch):
    cards, _, pins, account = batch
    serial, pin = next(iter(pins.items()))
    actors = ["account:" + account.number, "ip:203.0.113.9"]
    for guess in range(cardmod.MAX_FAILURES):
        with pytest.raises(CardError):
            cards.activate(root, serial, f"{guess:012d}", account, actors)
        tm.commit()                     # failures are counted even though it failed
    with pytest.raises(Locked):
        cards.activate(root, serial, pin, account, actors)       # even the right PIN
    with pytest.raises(Locked):         # the same address trying another account
        cards.activate(root, serial, pin, account, ["account:other", "ip:203.0.113.9"])
    assert account.balance == 0
    # Another payer with the right PIN is not locked out.
    other = add_subscriber(root, "Zaitsev").account
    cards.activate(root, serial, pin, other, ["account:" + other.number, "ip:198.51.100.1"])
    assert other.balance == 50000


def test_many_wrong_pins_on_one_card_block_it(root, tm, batch):
    cards, _, pins, account = batch
    serial, pin = next(iter(pins.items()))
    for n in range(cardmod.CARD_MAX_FAILURES):
        with pytest.raises(CardError):
            cards.activate(root, serial, "0" * 12, account, [f"ip:10.0.0.{n}"])
    assert cards.by_serial[serial].status == "blocked"
    with pytest.raises(CardError, match="blocked"):
        cards.activate(root, serial, pin, account, ["ip:10.1.1.1"])


def test_dealer_scope_and_statuses(root, tm, batch):
    cards, _, pins, account = batch
    other, other_pins = cards.generate("B", 10000, 2, NEXT_YEAR)
    serial = next(iter(pins))
    assert [b.series for b in cards.batches_of("dealer1")] == ["A"]
    assert cards.batches_of("dealer2") == []
    with pytest.raises(CardError):
        cards.sell(serial, "dealer2")
    assert cards.sell(serial, "dealer1").status == "sold"
    b_serial, b_pin = other_pins[0]
    with pytest.raises(CardError, match="generated"):      # not issued: still in the safe
        cards.activate(root, b_serial, b_pin, account, ["ip:1"])
    cards.block(next(s for s in pins if s != serial))
    with pytest.raises(CardError):
        cards.issue("A", "dealer2")


def test_expired_card(root, tm):
    cards = root["payments"].cards
    batch, pins = cards.generate("OLD", 100, 1, datetime.date(2020, 1, 1))
    cards.issue("OLD", "d")
    account = add_subscriber(root, "Popov").account
    with pytest.raises(CardError, match="expired"):
        cards.activate(root, pins[0][0], pins[0][1], account, ["ip:1"])
    assert cards.by_serial[pins[0][0]].status == "expired"

"""Prepaid (scratch) cards: batches, dealers, activation with lockout.

Serials and PINs come from :mod:`secrets`.  A PIN is stored only as
HMAC-SHA256 under the batch's own random key, and that key is kept
encrypted with the configured secret keys: a copy of the database alone
does not let anyone test PINs offline, and checking a PIN costs
microseconds (argon2 would make printing a batch of 100,000 cards take
hours).  The clear PINs exist once, in the export written when the batch
is generated.

Statuses: generated -> issued (to a dealer) -> sold -> activated; any card
not yet activated can be blocked; a card past its expiry date is expired.
"""
import csv
import hashlib
import hmac
import io
import secrets

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import clock, crypto
from ..money import format_amount
from ..model.folder import Folder
from .canonical import NotCanonical, digits
from .clock import now_us
from .credit import credit
from .interfaces import ICards

STATUSES = ("generated", "issued", "sold", "activated", "blocked", "expired")
ACTIVATABLE = ("issued", "sold")
SERIAL_DIGITS = 12
PIN_DIGITS = 12
MAX_FAILURES = 5                 # wrong tries by one payer/address ...
WINDOW_US = 15 * 60 * 1_000_000  # ... within this time ...
LOCK_US = 30 * 60 * 1_000_000    # ... lock them out this long
CARD_MAX_FAILURES = 10           # wrong PINs on one card (from anywhere) block it


class CardError(ValueError):
    pass


class Locked(CardError):
    pass


class Card(Persistent):
    status = "generated"
    dealer = None
    sold_us = 0
    activated_us = 0
    account_no = ""
    failures = 0

    def __init__(self, serial, pin_digest):
        self.serial = serial
        self.pin_digest = pin_digest

    @property
    def batch(self):
        return self.__parent__

    __parent__ = None


class CardBatch(Persistent):
    __name__ = None
    __parent__ = None
    dealer = None
    currency = "RUB"

    def __init__(self, series, nominal, expires, user="", currency="RUB"):
        if not isinstance(nominal, int) or nominal <= 0:
            raise CardError("a card nominal is a positive int of minor units")
        self.series = series
        self.nominal = nominal
        self.expires = expires
        self.currency = currency
        self.created_us = now_us()
        self.created_by = user
        self._key = crypto.encrypt(secrets.token_hex(32))
        self.cards = OOBTree()
        self.count = 0

    @property
    def title(self):
        return f"Cards {self.series}: {format_amount(self.nominal, self.currency)} x {self.count}"

    def _hmac_key(self):
        key = getattr(self, "_v_hmac_key", None)
        if key is None:
            key = self._v_hmac_key = bytes.fromhex(crypto.decrypt(self._key))
        return key

    def digest(self, serial, pin):
        return hmac.new(self._hmac_key(), f"{serial}:{pin}".encode(), hashlib.sha256).digest()

    def expired(self, today=None):
        return self.expires is not None and (today or clock.today()) > self.expires


@implementer(ICards)
class Cards(Folder):
    """``/payments/cards``: batches by series, a serial index, the lockout book."""

    title = "Prepaid cards"

    def __init__(self):
        super().__init__()
        self.by_serial = OOBTree()     # serial -> Card
        self.failures = OOBTree()      # actor -> (count, first_us, locked_until_us)
        self.activated = Length()

    # -- batches -----------------------------------------------------------
    def generate(self, series, nominal, count, expires, user="", currency="RUB"):
        """Make a batch; returns it and [(serial, pin)] — the only time the
        PINs are seen in clear."""
        if series in self:
            raise CardError(f"series {series!r} exists")
        if not 1 <= count <= 1_000_000:
            raise CardError("a batch holds 1 to 1,000,000 cards")
        batch = CardBatch(series, nominal, expires, user, currency)
        self.add(series, batch)
        made = []
        for _ in range(count):
            serial = _random_digits(SERIAL_DIGITS)
            while serial in self.by_serial:
                serial = _random_digits(SERIAL_DIGITS)
            pin = _random_digits(PIN_DIGITS)
            card = Card(serial, batch.digest(serial, pin))
            card.__parent__ = batch
            batch.cards[serial] = card
            self.by_serial[serial] = card
            made.append((serial, pin))
        batch.count = count
        return batch, made

    def issue(self, series, dealer):
        """Hand a batch to a dealer (staff login with the dealer role)."""
        batch = self[series]
        if batch.dealer not in (None, dealer):
            raise CardError(f"batch {series} is issued to {batch.dealer}")
        batch.dealer = dealer
        for card in batch.cards.values():
            if card.status == "generated":
                card.status = "issued"
                card.dealer = dealer
        return batch

    def batches_of(self, dealer):
        """What a dealer may see: only the batches issued to them."""
        return [b for b in self.values() if b.dealer == dealer]

    def sell(self, serial, dealer):
        card = self.by_serial.get(serial)
        if card is None or card.dealer != dealer:
            raise CardError(f"card {serial} is not one of {dealer}'s cards")
        if card.status != "issued":
            raise CardError(f"card {serial} is {card.status}")
        card.status = "sold"
        card.sold_us = now_us()
        return card

    def block(self, serial):
        card = self.by_serial[serial]
        if card.status == "activated":
            raise CardError(f"card {serial} is already activated")
        card.status = "blocked"
        return card

    # -- activation ----------------------------------------------------------
    def locked(self, actor, now=None):
        held = self.failures.get(actor)
        return held is not None and held[2] > (now or now_us())

    def _failed(self, actor, now):
        count, first, _ = self.failures.get(actor, (0, now, 0))
        if now - first > WINDOW_US:
            count, first = 0, now
        count += 1
        self.failures[actor] = (count, first, now + LOCK_US if count >= MAX_FAILURES else 0)

    def activate(self, root, serial, pin, account, actors, user=""):
        """Put the card's nominal on *account*; returns the posting.

        *actors* are who is trying (the payer's account, the client address):
        each wrong try is counted against every one of them, and any of them
        locked out stops the try.  Raises CardError (or Locked); the caller
        commits either way, so that failures are counted.
        """
        now = now_us()
        actors = [actors] if isinstance(actors, str) else list(actors)
        if any(self.locked(actor, now) for actor in actors):
            raise Locked("too many wrong card numbers or PINs: try again later")
        try:        # the printed form only: 12 ASCII digits each, as given
            digits(serial, "serial", SERIAL_DIGITS)
            digits(pin, "pin", PIN_DIGITS)
        except NotCanonical as exc:
            raise CardError(f"the card number and the PIN are {SERIAL_DIGITS} digits each "
                            f"({exc.field})") from None
        card = self.by_serial.get(serial)
        if card is None or not hmac.compare_digest(card.batch.digest(serial, pin), card.pin_digest):
            for actor in actors:
                self._failed(actor, now)
            if card is not None:
                card.failures += 1
                if card.failures >= CARD_MAX_FAILURES and card.status in ACTIVATABLE:
                    card.status = "blocked"
            raise CardError("wrong card number or PIN")
        batch = card.batch
        if card.status not in ACTIVATABLE:
            raise CardError(f"this card is {card.status}")
        if batch.expired():
            card.status = "expired"
            raise CardError("this card has expired")
        if account.currency != batch.currency:
            raise CardError(f"the card is in {batch.currency}")
        posting, _ = credit(root, account, batch.nominal, "card", batch.series, serial,
                            f"prepaid card {serial}", user)
        card.status = "activated"
        card.activated_us = now
        card.account_no = account.number
        self.activated.change(1)
        for actor in actors:
            if actor in self.failures:
                del self.failures[actor]
        return posting


def _random_digits(n):
    return "".join(secrets.choice("0123456789") for _ in range(n))


def export_csv(batch, pins=None):
    """CSV for the printer (with *pins*, only right after generation) or for
    an inventory (statuses, no PINs)."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["serial"] + (["pin"] if pins else []) + ["nominal", "currency", "expires",
                                                      "status", "dealer"]
    writer.writerow(header)
    pin_of = dict(pins or ())
    for serial, card in batch.cards.items():
        row = [serial] + ([pin_of[serial]] if pins else [])
        row += [format_amount(batch.nominal, batch.currency), batch.currency,
                batch.expires.isoformat() if batch.expires else "", card.status, card.dealer or ""]
        writer.writerow(row)
    return out.getvalue()

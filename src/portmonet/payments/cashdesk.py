"""The cash desk: shifts, receipts, refunds and corrections.

A cashier opens a shift, takes payments (each a receipt in the shift and a
``cash:<cashier>:<receipt>`` payment), and closes the shift with its
totals.  A refund (cash paid back) or a correction needs a reason and the
right role, and is a new posting, never an edit.  A receipt number is the
token of the form that took it, so a double-submitted form pays once.
"""
import secrets

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .clock import day_bounds, day_of, now_us
from .credit import credit
from .interfaces import ICashDesk
from .permissions import require

_TOKEN_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


class CashDeskError(ValueError):
    pass


class Shift(Persistent):
    """One cashier's shift; only that cashier writes to it."""

    closed_us = 0
    payments_count = 0
    payments_sum = 0
    refunds_count = 0
    refunds_sum = 0

    def __init__(self, key, cashier, opened_us):
        self.key = key
        self.cashier = cashier
        self.opened_us = opened_us
        # receipt no -> (kind, account_no, amount, cause, posting key, reason, time_us)
        self.receipts = OOBTree()

    @property
    def is_open(self):
        return not self.closed_us

    def totals(self):
        return {"cashier": self.cashier, "opened_us": self.opened_us, "closed_us": self.closed_us,
                "payments": self.payments_count, "payments_sum": self.payments_sum,
                "refunds": self.refunds_count, "refunds_sum": self.refunds_sum,
                "cash": self.payments_sum - self.refunds_sum}


@implementer(ICashDesk)
class CashDesk(Persistent):
    __name__ = "cashdesk"
    __parent__ = None
    title = "Cash desk"

    def __init__(self):
        self.shifts = LOBTree()        # time key -> Shift
        self.open_shifts = OOBTree()   # cashier login -> shift key

    def current_shift(self, login):
        key = self.open_shifts.get(login)
        return self.shifts[key] if key is not None else None

    def open_shift(self, staff):
        require(staff, "take_payment")
        if staff.login in self.open_shifts:
            raise CashDeskError(f"{staff.login} already has an open shift")
        now = now_us()
        key = (now << 8) | secrets.randbits(8)
        shift = Shift(key, staff.login, now)
        shift.__parent__ = self
        self.shifts[key] = shift
        self.open_shifts[staff.login] = key
        return shift

    def close_shift(self, staff):
        shift = self.current_shift(staff.login)
        if shift is None:
            raise CashDeskError(f"{staff.login} has no open shift")
        shift.closed_us = now_us()
        del self.open_shifts[staff.login]
        return shift.totals()

    def shifts_of_day(self, day):
        start, end = day_bounds(day)
        return list(self.shifts.values(start << 8, (end << 8) - 1))

    def day_totals(self, day):
        """Per cashier, the shifts opened that day summed."""
        out = {}
        for shift in self.shifts_of_day(day):
            t = shift.totals()
            held = out.setdefault(shift.cashier, {"shifts": 0, "payments": 0, "payments_sum": 0,
                                                  "refunds": 0, "refunds_sum": 0, "cash": 0})
            held["shifts"] += 1
            for k in ("payments", "payments_sum", "refunds", "refunds_sum", "cash"):
                held[k] += t[k]
        return out

    def _shift_for(self, staff):
        shift = self.current_shift(staff.login)
        if shift is None:
            raise CashDeskError("open a shift first")
        return shift


def _token(token):
    token = (token or "").strip() or secrets.token_hex(8)
    if len(token) > 40 or not set(token) <= _TOKEN_CHARS:
        raise CashDeskError("bad receipt token")
    return token


def _receipt_slot(root, staff, token, amount, what):
    """The cashier's open shift, the receipt token, and the receipt already
    kept under it (a repeated request) or None once *amount* is checked."""
    shift = root["payments"].cashdesk._shift_for(staff)
    token = _token(token)
    earlier = shift.receipts.get(token)
    if earlier is None and (not isinstance(amount, int) or amount <= 0):
        raise CashDeskError(f"a {what} is a positive amount")
    return shift, token, earlier


def take_payment(root, staff, account, amount, token=None, text=""):
    """Cash in; returns (receipt no, receipt).  The same token pays once."""
    require(staff, "take_payment")
    shift, token, earlier = _receipt_slot(root, staff, token, amount, "payment")
    if earlier is not None:
        return token, earlier
    posting, _ = credit(root, account, amount, "cash", staff.login, token,
                        text or f"cash desk, shift of {staff.login}", staff.login)
    return token, _keep_receipt(shift, token, "payment", account, amount, posting)


def _keep_receipt(shift, token, kind, account, amount, posting, reason=""):
    """Keep the receipt under its token and add it to the shift's totals."""
    receipt = (kind, account.number, amount, posting.cause, posting.key, reason, posting.time)
    shift.receipts[token] = receipt
    setattr(shift, f"{kind}s_count", getattr(shift, f"{kind}s_count") + 1)
    setattr(shift, f"{kind}s_sum", getattr(shift, f"{kind}s_sum") + amount)
    return receipt


def refund(root, staff, account, amount, reason, token=None):
    """Cash paid back from the drawer: a refund posting, at most the balance."""
    require(staff, "refund")
    reason = (reason or "").strip()
    if not reason:
        raise CashDeskError("a refund needs a reason")
    shift, token, earlier = _receipt_slot(root, staff, token, amount, "refund")
    if earlier is not None:
        return token, earlier
    # Decide on the current balance: a stale one must make the commit fail.
    account.decide_on_balance()
    if account.balance < amount:
        raise CashDeskError(f"the balance is {account.balance}: cannot refund {amount}")
    posting, _ = credit(root, account, -amount, "cash", staff.login, token,
                        f"refund: {reason}", staff.login, kind="refund")
    return token, _keep_receipt(shift, token, "refund", account, amount, posting, reason)


def correct(root, staff, account, amount, reason, token=None):
    """A correction posting (either sign); no cash moves, so no shift."""
    require(staff, "correct")
    reason = (reason or "").strip()
    if not reason:
        raise CashDeskError("a correction needs a reason")
    if not isinstance(amount, int) or amount == 0:
        raise CashDeskError("a correction is a non-zero amount")
    token = _token(token)
    posting, _ = account.post(amount, "correction", f"correction:{staff.login}:{token}",
                              text=f"correction: {reason}", user=staff.login)
    return posting


def receipt_day(receipt):
    return day_of(receipt[6])

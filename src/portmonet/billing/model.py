"""``/billing``: run progress, fee records, invoices, debt and promises.

Everything large is kept inline in BTrees (fee records and invoices are
immutable once written).  The invoice counter lives on the folder and is
only advanced by the billing run, in the transaction that draws the
invoice, so numbers have no gaps: an aborted batch gives its numbers back.
"""
import datetime

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .interfaces import IBilling


class Frozen:
    """An immutable record stored inline (fee record, invoice, promise)."""

    __slots__ = ()

    def __init__(self, **values):
        for name in self.__slots__:
            object.__setattr__(self, name, values.get(name))

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self):
        return (_rebuild, (type(self), tuple(getattr(self, n) for n in self.__slots__)))

    def replace(self, **changes):
        values = {n: getattr(self, n) for n in self.__slots__}
        values.update(changes)
        return type(self)(**values)


def _rebuild(cls, values):
    obj = cls.__new__(cls)
    for name, value in zip(cls.__slots__, values):
        object.__setattr__(obj, name, value)
    return obj


class FeeRecord(Frozen):
    """How a periodic fee was computed: ``lines`` are (tariff, version,
    state, days, base) per stretch of the period."""
    __slots__ = ("cause", "contract", "account", "service", "service_kind", "period",
                 "tariff", "version", "days", "period_days", "lines", "base", "discount",
                 "tax", "amount")


class Invoice(Frozen):
    __slots__ = ("number", "period", "account", "contract", "subscriber", "name", "address",
                 "currency", "issued_us", "opening", "closing", "charges", "payments",
                 "other", "tax", "lines", "usage")

    @property
    def label(self):
        return f"INV-{self.number:08d}"


class Promise(Frozen):
    """A promised payment: temporary credit of ``amount`` until ``until``."""
    __slots__ = ("contract", "amount", "taken", "until", "active")


class RunState(Persistent):
    """Progress of the billing run of one period (resumable)."""

    done_through = None        # the last subscriber id finished
    finished_us = 0
    contracts = 0
    fees = 0
    invoices = 0
    blocked = 0

    def __init__(self, period, started_us):
        self.period = period
        self.started_us = started_us


@implementer(IBilling)
class Billing(Persistent):
    """``root["billing"]``."""

    __name__ = "billing"
    __parent__ = None
    title = "Billing"
    next_invoice = 1

    def __init__(self):
        self.runs = OOBTree()          # period -> RunState
        self.fees = OOBTree()          # fee cause -> FeeRecord
        self.invoices = OOBTree()      # (period, account number) -> Invoice
        self.invoice_numbers = LOBTree()   # number -> (period, account number)
        self.debt = OOBTree()          # contract number -> date ordinal it fell below
        self.blocked = OOBTree()       # contract number -> µs it was blocked for debt
        self.promises = OOBTree()      # contract number -> Promise (the last one)

    def run_state(self, period, now_us):
        state = self.runs.get(period)
        if state is None:
            state = self.runs[period] = RunState(period, now_us)
        return state

    def draw_invoice(self, **values):
        """Store an invoice under the next number (once per period and account)."""
        key = (values["period"], values["account"])
        held = self.invoices.get(key)
        if held is not None:
            return held, False
        number = self.next_invoice
        self.next_invoice = number + 1
        invoice = Invoice(number=number, **values)
        self.invoices[key] = invoice
        self.invoice_numbers[number] = key
        return invoice, True

    def invoice(self, number):
        key = self.invoice_numbers.get(number)
        return self.invoices[key] if key is not None else None


def parse_period(text):
    """'2024-02' -> ('month', 2024-02-01, 2024-03-01); '2024-02-15' -> ('day', d, d+1)."""
    try:
        if len(text) == 7:
            start = datetime.date.fromisoformat(text + "-01")
            end = datetime.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
            return "month", start, end
        start = datetime.date.fromisoformat(text)
        return "day", start, start + datetime.timedelta(days=1)
    except ValueError:
        raise ValueError(f"period {text!r}: YYYY-MM or YYYY-MM-DD expected") from None


def day_us(day):
    return int(datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc)
               .timestamp() * 1_000_000)

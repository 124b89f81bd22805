"""The contract (agreement): status with history, services, a personal account."""

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import clock, events
from ..interfaces import IContract
from ..ledger.account import Account, now_us
from .folder import Folder
from .indexing import Indexed
from .lineage import find_root

STATUSES = ("draft", "active", "suspended", "blocked", "terminated")

# Which status may follow which; 'terminated' is final.
TRANSITIONS = {
    "draft": {"active", "terminated"},
    "active": {"suspended", "blocked", "terminated"},
    "suspended": {"active", "blocked", "terminated"},
    "blocked": {"active", "suspended", "terminated"},
    "terminated": set(),
}


class StatusError(ValueError):
    pass


class StatusCounts(Persistent):
    """``root.contract_counts``: contracts per status, for the dashboard.

    One ``BTrees.Length`` per status, all made up front, so a change of
    status or a new contract only changes two counters whose concurrent
    changes merge (no ConflictError between writers, no tree write).
    Made and recounted by the core evolve step; ``portmonet check``
    compares it with a recount.
    """
    __name__ = "contract_counts"
    __parent__ = None

    def __init__(self):
        self.counts = OOBTree({status: Length() for status in STATUSES})

    def change(self, status, delta):
        self.counts[status].change(delta)

    def get(self, status):
        return self.counts[status]()

    def as_dict(self):
        return {status: held() for status, held in self.counts.items()}

    def set(self, counted):
        """Replace every counter by *counted* (status -> n), e.g. a recount."""
        for status in STATUSES:
            held = self.counts[status]
            held.change(counted.get(status, 0) - held())


def _counts(contract):
    root = find_root(contract)
    return getattr(root, "contract_counts", None) if root is not None else None


def luhn_digit(digits):
    """Check digit so a mistyped account number is caught at the cash desk."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def account_number(subscriber_id, seq):
    body = f"{subscriber_id:07d}{seq:02d}"
    return body + luhn_digit(body)


def valid_account_number(number):
    return number.isdigit() and len(number) >= 2 and luhn_digit(number[:-1]) == number[-1]


@implementer(IContract)
class Contract(Indexed, Folder):
    """A folder of services, with the personal account at ``account``.

    The status history is a LOBTree made on the first change of status; a
    contract that never changed status (most of a million) carries none.
    """

    title = "Contract"
    small_max = 8
    number = None
    signed = None            # date
    ends = None              # date or None
    status = "draft"
    created_us = 0
    created_by = ""
    _history = None
    # Auto-payment: pay this contract's fees from another account (e.g. the
    # subscriber's wallet) on the due day of the month.
    autopay_enabled = False
    autopay_source = None    # account number
    autopay_day = 1
    autopay_limit = 0        # minor units per payment, 0 = no limit
    # Billing: the group tariff discounts may be limited to (None: no group),
    # and the days a debt may last before the contract is blocked.
    discount_group = None
    grace_days = 0

    def __init__(self, number, signed=None, status="active", currency="RUB",
                 credit_limit=0, account_no=None, user=""):
        super().__init__()
        self.number = self._normalize_number(number)
        self.signed = signed or clock.today()
        if status not in STATUSES:
            raise StatusError(f"unknown status {status!r}")
        self.status = status
        self.created_us = now_us()
        self.created_by = user
        self.account = Account(account_no, currency, credit_limit) if account_no else None
        if self.account is not None:
            self.account.__parent__ = self

    @staticmethod
    def _normalize_number(value):
        value = str(value).strip()
        if not value or len(value) > 32 or "/" in value or value.startswith("@"):
            raise ValueError(f"contract number {value!r}: 1-32 characters, no '/'")
        return value

    def __getitem__(self, name):
        if name == "account" and self.account is not None:
            return self.account
        return super().__getitem__(name)

    @property
    def subscriber(self):
        return self.__parent__

    def _index_entries(self):
        return {("contracts", self.number, self)}

    def _on_added(self):
        super()._on_added()
        counts = _counts(self)
        if counts is not None:
            counts.change(self.status, 1)

    def _on_removed(self):
        super()._on_removed()
        counts = _counts(self)
        if counts is not None:
            counts.change(self.status, -1)

    def _children(self):
        children = list(self.values())
        if self.account is not None:
            children.append(self.account)
        return children

    def add_service(self, service):
        seq = len(self) + 1
        name = f"{service.kind}-{seq}"
        while name in self:
            seq += 1
            name = f"{service.kind}-{seq}"
        added = self.add(name, service)
        events.notify(events.ServiceActivated(find_root(self), service))
        return added

    def services(self, kind=None):
        return [s for s in self.values() if kind is None or s.kind == kind]

    # -- status -----------------------------------------------------------
    def set_status(self, status, reason="", user="", when_us=None):
        if status not in STATUSES:
            raise StatusError(f"unknown status {status!r}")
        if status == self.status:
            return False
        if status not in TRANSITIONS[self.status]:
            raise StatusError(f"a {self.status} contract cannot become {status}")
        if self._history is None:
            self._history = LOBTree()
        when_us = now_us() if when_us is None else when_us
        while when_us in self._history:
            when_us += 1
        self._history[when_us] = (self.status, status, reason, user)
        counts = _counts(self)
        if counts is not None:
            counts.change(self.status, -1)
            counts.change(status, 1)
        old, self.status = self.status, status
        events.notify(events.ContractStatusChanged(self, old, status, reason, user))
        return True

    def status_history(self):
        """[(datetime, from, to, reason, user)], oldest first, creation included."""
        at = clock.local
        rows = [(at(self.created_us), None, self._initial_status(), "created", self.created_by)]
        for us, (old, new, reason, user) in (self._history or {}).items():
            rows.append((at(us), old, new, reason, user))
        return rows

    def _initial_status(self):
        if self._history:
            return self._history[self._history.minKey()][0]
        return self.status

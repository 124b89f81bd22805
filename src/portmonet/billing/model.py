"""``/billing``: run progress, fee records, invoices, debt and promises.

Everything large is kept inline in BTrees (fee records and invoices are
immutable once written).  Invoices are drawn without a number (by several
worker processes at once, each over its own subscribers); a numbering pass
after the workers gives the period's unnumbered invoices the next numbers in
(period, account) order, each batch of numbers in the transaction that
advances the counter on the folder: an aborted batch gives its numbers back,
so the numbers have no gaps and two passes never hand out one number twice
(they conflict on the counter).
"""
import datetime
import heapq
import itertools
import pickle

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import clock, events
from ..ledger.account import CAUSE_OWNERS
from ..model.lineage import find_root
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
        # the values as one pickled string: a bucket of records then pickles
        # as a few objects per record (ZODB's pickler calls back into Python
        # for every object it writes)
        values = tuple(getattr(self, n) for n in self.__slots__)
        return (_unpack, (type(self), pickle.dumps(values, protocol=4)))

    def replace(self, **changes):
        values = {n: getattr(self, n) for n in self.__slots__}
        values.update(changes)
        return type(self)(**values)


def _unpack(cls, packed):
    return _rebuild(cls, pickle.loads(packed))


def _rebuild(cls, values):        # records written before they were packed
    obj = cls.__new__(cls)
    for name, value in zip(cls.__slots__, values):
        object.__setattr__(obj, name, value)
    for name in cls.__slots__[len(values):]:
        object.__setattr__(obj, name, None)    # a slot added since it was written
    return obj


class FeeRecord(Frozen):
    """How a periodic fee was computed: ``lines`` are (tariff, version,
    state, days, base) per stretch of the period.  ``posting``: the key of
    its charge on the account's ledger (None for fees posted before billing
    owned its causes: those are in the cause index)."""
    __slots__ = ("cause", "contract", "account", "service", "service_kind", "period",
                 "tariff", "version", "days", "period_days", "lines", "base", "discount",
                 "tax", "amount", "posting")


class FeeTree(OOBTree):
    """The fee records of one period, keyed in subscriber order
    (:func:`fee_key`): each worker of a run bills its own range of
    subscribers, so it appends to its own buckets and never splits a node
    the other is splitting."""


class DrawnTree(OOBTree):
    """The invoices one shard of a run drew (account number -> Invoice, not
    numbered yet), until the numbering pass moves them, numbered, into
    ``Billing.invoices``: the workers never write one tree (the same reason
    as FeeTree), and the pass writes each invoice once."""


def fee_key(subscriber_id, contract_number, service_name):
    """Sorts like (subscriber id, contract, service); the id's length comes
    first so that ids of any size sort as numbers."""
    sid = str(subscriber_id)
    return f"{len(sid):02d}{sid}:{contract_number}:{service_name}"


def _tree_keys(container, period):
    if container is None:
        return []
    return list(container.keys((period, _LOWEST), (period, _HIGHEST)))


def _tree_for(container, period, sid):
    """The tree of *container* ((period, lowest id) -> tree) holding *sid*."""
    if container is None:
        return None
    try:
        key = container.maxKey((period, sid))
    except ValueError:
        return None
    return container[key] if key[0] == period else None


def subscriber_id(contract):
    subscriber = contract.__parent__
    sid = getattr(subscriber, "id", None)
    return subscriber.__name__ if sid is None else sid


_LOWEST, _HIGHEST = -2 ** 63, 2 ** 63 - 1      # bounds of subscriber ids


def parse_fee_cause(cause):
    """'fee:<contract>:<service>:<period>' -> (contract, service, period), or None."""
    if not cause.startswith("fee:"):
        return None
    rest, sep, period = cause[4:].rpartition(":")
    contract, sep2, service = rest.partition(":")
    if not sep or not sep2 or not contract or not service or not period:
        return None
    return contract, service, period


class Invoice(Frozen):
    __slots__ = ("number", "period", "account", "contract", "subscriber", "name", "address",
                 "currency", "issued_us", "opening", "closing", "charges", "payments",
                 "other", "tax", "lines", "usage", "_packed")
    FIELDS = __slots__[:-1]

    # Everything but the number is pickled as one string (``_packed``): a
    # bucket of invoices then pickles as a few objects per invoice (ZODB's
    # pickler calls back into Python for every object it writes), and an
    # invoice read from the database unpacks it only when a field is read,
    # so the numbering pass reads, numbers and writes invoices without
    # unpacking them.

    def __getattr__(self, name):
        # only called for a field not set yet: one read from the database
        packed = object.__getattribute__(self, "_packed") if name in Invoice.FIELDS else None
        if packed is None:
            raise AttributeError(name)
        for field, value in zip(Invoice.FIELDS[1:], pickle.loads(packed)):
            object.__setattr__(self, field, value)
        return object.__getattribute__(self, name)

    def _pack(self):
        packed = self._packed
        if packed is None:
            packed = pickle.dumps(tuple(getattr(self, n) for n in Invoice.FIELDS[1:]),
                                  protocol=4)
        return packed

    def __reduce__(self):
        return (_invoice, (self.number, self._pack()))

    def replace(self, **changes):
        if set(changes) == {"number"}:
            return _invoice(changes["number"], self._pack())
        values = {n: getattr(self, n) for n in Invoice.FIELDS}
        values.update(changes)
        return Invoice(**values)

    @property
    def label(self):
        if self.number is None:
            return f"INV-{self.period}-{self.account}"     # drawn, not numbered yet
        return f"INV-{self.number:08d}"


def _invoice(number, packed):
    invoice = Invoice.__new__(Invoice)
    object.__setattr__(invoice, "number", number)
    object.__setattr__(invoice, "_packed", packed)
    return invoice


class Promise(Frozen):
    """A promised payment: temporary credit of ``amount`` until ``until``."""
    __slots__ = ("contract", "amount", "taken", "until", "active")


class ShardState(Persistent):
    """Progress of one shard of a run: the subscribers with ids in
    [lo, hi) (None: open end).  Only the worker billing the shard writes
    it, so workers never conflict on their progress."""

    done_through = None        # the last subscriber id finished
    finished = False
    contracts = fees = invoices = blocked = warned = autopaid = 0

    def __init__(self, index, count, lo, hi):
        self.index, self.count, self.lo, self.hi = index, count, lo, hi

    @property
    def name(self):
        return f"{self.index}/{self.count}"


class RunState(Persistent):
    """Progress of the billing run of one period (resumable): the shards
    planned when it started, each with its own progress, then the
    numbering pass's cursor."""

    done_through = None        # (runs before shards: the last subscriber id finished)
    finished_us = 0
    contracts = 0
    fees = 0
    invoices = 0
    blocked = 0
    shards = ()                # tuple of ShardState, fixed when the run is planned
    numbered_through = None    # the last invoice key the numbering pass went past
    numbered = 0

    def __init__(self, period, started_us):
        self.period = period
        self.started_us = started_us

    def plan(self, bounds, started_us):
        """Start over at *started_us* with one shard per (lo, hi) in *bounds*."""
        self.started_us = started_us
        count = len(bounds)
        self.shards = tuple(ShardState(i, count, lo, hi) for i, (lo, hi) in enumerate(bounds))
        self.numbered_through = None
        self.finished_us = 0

    def total(self, name):
        return sum(getattr(s, name) for s in self.shards)


@implementer(IBilling)
class Billing(Persistent):
    """``root["billing"]``."""

    __name__ = "billing"
    __parent__ = None
    title = "Billing"
    next_invoice = 1
    fee_periods = None         # (period, subscriber id) -> FeeTree (evolve or a run's start)
    # periods whose fee records are in ``fees`` (runs before fee_periods);
    # None: not evolved yet, so any period may be there
    legacy_fee_periods = None
    drawn = None               # (period, lowest subscriber id) -> DrawnTree, while a run is on

    def __init__(self):
        self.runs = OOBTree()          # period -> RunState
        self.fees = OOBTree()          # fee cause -> FeeRecord (before fee_periods; read only)
        self.fee_periods = OOBTree()   # (period, lowest subscriber id) -> FeeTree
        self.legacy_fee_periods = ()
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

    # -- fee records ------------------------------------------------------
    # ``fee_periods`` holds the FeeTrees of each period, one per shard of the
    # run that made them, keyed (period, lowest subscriber id): a worker
    # appends to its own tree, so two workers never split one node (splits
    # rewrite the parent node, which ZODB cannot merge).  A period's trees
    # are made once (by the first plan); a later plan with other shards
    # writes into them too: the tree of a subscriber never changes.

    def plan_trees(self, period, lows):
        """Make *period*'s fee trees and trees of drawn invoices, one from
        each subscriber id in *lows* (None: the lowest), unless it has some."""
        for name in ("fee_periods", "drawn"):
            if getattr(self, name) is None:
                setattr(self, name, OOBTree())
            container = getattr(self, name)
            if _tree_keys(container, period):
                continue
            kind = FeeTree if name == "fee_periods" else DrawnTree
            for lo in lows:
                container[(period, _LOWEST if lo is None else lo)] = kind()

    def fee_tree(self, period, sid, create=False):
        """The FeeTree holding the fees of subscriber *sid* in *period*."""
        return self._shard_tree("fee_periods", period, sid, create)

    def _shard_tree(self, name, period, sid, create):
        """The tree of container *name* holding subscriber *sid* in
        *period*; with *create*, made (one for all) if the period has none."""
        tree = _tree_for(getattr(self, name), period, sid)
        if tree is None and create:
            self.plan_trees(period, [None])
            tree = _tree_for(getattr(self, name), period, sid)
        return tree

    def fee(self, contract, service_name, period):
        """The fee record of a service of *contract* (the object) for *period*."""
        sid = subscriber_id(contract)
        tree = self.fee_tree(period, sid)
        if tree is not None:
            record = tree.get(fee_key(sid, contract.number, service_name))
            if record is not None:
                return record
        if self._legacy(period):
            return self.fees.get(f"fee:{contract.number}:{service_name}:{period}")
        return None

    def _legacy(self, period):
        legacy = self.legacy_fee_periods
        return period in legacy if legacy is not None else bool(self.fees)

    def add_fee(self, contract, record):
        sid = subscriber_id(contract)
        tree = self.fee_tree(record.period, sid, create=True)
        tree[fee_key(sid, contract.number, record.service)] = record

    def find_fee(self, cause, contract=None):
        """The fee record of a ``fee:`` cause, or None; *contract*: the
        contract it names, if at hand (else found in the catalog)."""
        parsed = parse_fee_cause(cause)
        if parsed is None:
            return None
        number, service, period = parsed
        if contract is None or contract.number != number:
            from ..model.lineage import find_catalog
            catalog = find_catalog(self)
            contract = catalog.contracts.get(number) if catalog is not None else None
        if contract is None or getattr(contract, "__parent__", None) is None:
            return self.fees.get(cause)
        return self.fee(contract, service, period)

    def fee_records(self, period=None):
        """Every fee record (of *period*): old ones first, then by period."""
        if period is None or self._legacy(period):
            for cause, record in self.fees.items():
                if period is None or record.period == period:
                    yield record
        if self.fee_periods is None:
            return
        if period is None:
            trees = self.fee_periods.values()
        else:
            trees = self.fee_periods.values((period, _LOWEST), (period, _HIGHEST))
        for tree in trees:
            yield from tree.values()

    def draw_invoice(self, **values):
        """Store an invoice, not numbered yet (once per period and account),
        in the tree of drawn invoices of its subscriber's shard."""
        period, account = values["period"], values["account"]
        held = self.find_invoice(period, account, values["subscriber"])
        if held is not None:
            return held, False
        invoice = Invoice(number=None, **values)
        self._shard_tree("drawn", period, values["subscriber"], True)[account] = invoice
        return invoice, True

    def find_invoice(self, period, account, sid):
        """The invoice of *account* (of subscriber *sid*) for *period*,
        numbered or drawn, or None."""
        held = self.invoices.get((period, account))
        if held is None:
            tree = _tree_for(self.drawn, period, sid)
            held = tree.get(account) if tree is not None else None
        return held

    def drawn_trees(self, period):
        return [self.drawn[k] for k in _tree_keys(self.drawn, period)]

    def drawn_items(self, period, after=None):
        """((period, account), invoice) not numbered yet of *period*, in
        account order, past the key *after*: those drawn by workers, and
        any an older release left unnumbered in ``invoices``."""
        lo = after if after is not None else (period, "")
        excl = after is not None
        streams = [((k, inv) for k, inv in self.invoices.items(lo, (period, "\uffff"),
                                                               excludemin=excl)
                    if inv.number is None)]
        for tree in self.drawn_trees(period):
            streams.append((((period, account), inv) for account, inv
                            in tree.items(lo[1], "\uffff", excludemin=excl)))
        return heapq.merge(*streams, key=_first)

    def number_invoices(self, period, after=None, limit=5000):
        """Number the invoices of *period* without a number among the next
        *limit* past the key *after*, in account order, and keep them in
        ``invoices``; returns (numbered, the last key gone past, or None
        when the period is done: its trees of drawn invoices are dropped)."""
        chunk = list(itertools.islice(self.drawn_items(period, after), limit + 1))
        more = len(chunk) > limit
        chunk = chunk[:limit]
        number = self.next_invoice
        root = find_root(self)
        for key, invoice in chunk:
            issued = self.invoices[key] = invoice.replace(number=number)
            self.invoice_numbers[number] = key
            number += 1
            events.notify(events.InvoiceIssued(root, issued, "portmonet bill"))
        numbered = number - self.next_invoice
        self.next_invoice = number
        if not more:
            for key in _tree_keys(self.drawn, period):
                del self.drawn[key]
        return numbered, (chunk[-1][0] if more else None)

    def invoice(self, number):
        key = self.invoice_numbers.get(number)
        return self.invoices[key] if key is not None else None


def _first(item):
    return item[0]


def parse_period(text):
    """'2024-02' -> ('month', 2024-02-01, 2024-03-01); '2024-02-15' -> ('day', d, d+1)."""
    try:
        if len(text) == 7:
            start = datetime.date.fromisoformat(text + "-01")
            end = clock.next_month(start)
            return "month", start, end
        start = datetime.date.fromisoformat(text)
        return "day", start, start + datetime.timedelta(days=1)
    except ValueError:
        raise ValueError(f"period {text!r}: YYYY-MM or YYYY-MM-DD expected") from None


def leaf_buckets(tree, lo, hi):
    """The buckets of the BTree *tree* that may hold keys in [lo, hi], in
    key order; the inner nodes are read level by level (each level one
    pipelined round of loads), so a bulk pass can prefetch the buckets it
    is about to read instead of loading them one by one."""
    from ..ops.bulk import prefetch
    kind = type(tree)
    level = [tree]
    while True:
        conn = tree._p_jar
        if conn is not None:
            prefetch(conn, level)
        children = []
        for node in level:
            state = node.__getstate__()
            if state is None or len(state) < 2:
                continue                 # empty, or one bucket inline in the tree
            items = state[0]             # (child0, key1, child1, ..., keyN, childN)
            for i in range(0, len(items), 2):
                low = items[i - 1] if i else None
                high = items[i + 1] if i + 1 < len(items) else None
                if (high is not None and high <= lo) or (low is not None and low > hi):
                    continue
                children.append(items[i])
        if not children or not isinstance(children[0], kind):
            return children
        level = children


class FeeCauses:
    """The ledger's way to a periodic fee's charge, which is not in the
    cause index: ``fee:<contract>:<service>:<period>`` -> the fee record
    (in the period's FeeTree, in subscriber order) -> (account, posting
    key).  Fees posted before (records without ``posting``) are in the
    cause index, which the ledger asks first."""

    prefix = "fee:"
    name = "fee"          # ``portmonet check`` sums its postings apart

    def owns(self, cause):
        return cause.startswith(self.prefix)

    def where(self, account, cause):
        from ..model.lineage import find_root
        root = find_root(account)
        billing = root.get("billing") if root is not None else None
        if billing is None:
            return None
        contract = getattr(account, "__parent__", None)
        record = billing.find_fee(cause, contract if hasattr(contract, "number") else None)
        if record is None or record.posting is None:
            return None
        return record.account, record.posting


if not any(isinstance(o, FeeCauses) for o in CAUSE_OWNERS):
    CAUSE_OWNERS.append(FeeCauses())

"""Bank statements: matching incoming payments to accounts, and the
suspense queue of those that match nothing.

A line matches, in this order, an account number in the purpose text, a
contract number in it, the payer's tax id (INN) remembered from an earlier
payment an accountant assigned, or the one subscriber with that tax id
(the catalog's ``tax_ids`` index).  Each line posts once
(``bank:<bank>:<ref>``); a line already posted or already waiting is
skipped, so a statement can be imported twice.
"""
import logging
import re

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import db as dbmod
from ..model.contract import valid_account_number
from ..model.root import get_root
from ..txn import describe
from .clock import now_us
from .credit import DuplicateMismatch, credit
from .interfaces import IBank
from .lookup import contract_account
from .trees import prefetch_keys

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"(?<![\d/])\d{6,20}(?![\d/])")
_TOKEN = re.compile(r"[0-9A-Za-zА-Яа-я][0-9A-Za-zА-Яа-я\-]{0,31}")


class SuspenseItem(Persistent):
    status = "waiting"        # waiting, assigned
    account_no = ""
    assigned_by = ""
    assigned_us = 0

    def __init__(self, bank, line, received_us):
        self.bank = bank
        self.line = tuple(line)
        self.received_us = received_us

    @property
    def ref(self):
        return self.line[0]


@implementer(IBank)
class Bank(Persistent):
    __name__ = "bank"
    __parent__ = None
    title = "Bank statements"

    def __init__(self):
        self.suspense = OOBTree()      # (bank, ref) -> SuspenseItem
        self.waiting = Length()
        self.payers = OOBTree()        # payer tax id -> account number
        self.imports = LOBTree()       # time -> (bank, file, lines, posted, suspended, skipped, user)

    def waiting_items(self, limit=200):
        out = []
        for item in self.suspense.values():
            if item.status == "waiting":
                out.append(item)
                if len(out) >= limit:
                    break
        return out


def match(root, line):
    """The account a statement line is for, or None."""
    catalog = root.catalog
    purpose = line.purpose or ""
    found = {a.number: a for a in (contract_account(catalog.accounts.get(d))
                                   for d in _DIGITS.findall(purpose)
                                   if valid_account_number(d)) if a is not None}
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        return None                   # ambiguous: a person decides
    contracts = {c.number: c for c in (catalog.contracts.get(t) for t in _TOKEN.findall(purpose))
                 if c is not None and c.account is not None}
    if len(contracts) == 1:
        return next(iter(contracts.values())).account
    if len(contracts) > 1:
        return None
    if line.payer_tax_id:
        number = root["payments"].bank.payers.get(line.payer_tax_id)
        if number:
            return contract_account(catalog.accounts.get(number))
        return by_tax_id(root, line.payer_tax_id)
    return None


def by_tax_id(root, tax_id):
    """The one personal account of the one subscriber whose tax id (INN)
    this is, from the catalog's index; None when there are none or several."""
    index = getattr(root.catalog, "tax_ids", None)
    ids = list(index.ids(tax_id)) if index is not None else []
    if len(ids) != 1:
        return None
    subscriber = root["subscribers"].get(ids[0])
    if subscriber is None or subscriber.tax_id != tax_id:
        return None
    accounts = [c.account for c in subscriber.contracts()
                if c.account is not None and c.status != "terminated"]
    return accounts[0] if len(accounts) == 1 else None


def _ghosts(conn, objects):
    ghosts = [o for o in objects if o is not None and getattr(o, "_p_changed", 0) is None]
    if ghosts:
        conn.prefetch(ghosts)


def _candidates(line):
    return [d for d in _DIGITS.findall(line.purpose or "") if valid_account_number(d)]


def prefetch_known(root, bank_name, lines):
    """Start loading the buckets of the cause and suspense indexes that
    hold *lines*' references (asynchronous: issued for the next batch
    before this one commits, so the ZEO server reads them meanwhile)."""
    conn = root._p_jar
    if conn is not None and lines:
        prefetch_keys(conn, root.catalog.causes, [f"bank:{bank_name}:{line.ref}" for line in lines])
        prefetch_keys(conn, root["payments"].bank.suspense, [(bank_name, line.ref) for line in lines])


def prefetch(root, lines):
    """Load what the new lines of a batch will read — the catalog's buckets
    of the account numbers (or, for a line naming none, the contract
    numbers and the payer's tax id) they name, the learned payers, then
    the accounts, their contracts and subscribers — in a few ZEO round
    trips for the whole batch instead of several per line: at a million
    subscribers nearly every line's account is elsewhere in the indexes."""
    conn = root._p_jar
    if conn is None or not lines:
        return
    catalog, bank = root.catalog, root["payments"].bank
    numbers, tokens, unnamed = [], [], []
    for line in lines:
        found = _candidates(line)
        if found:
            numbers += found
        else:
            tokens += _TOKEN.findall(line.purpose or "")
            unnamed.append(line.payer_tax_id)
    prefetch_keys(conn, catalog.accounts.tree, numbers)
    prefetch_keys(conn, catalog.contracts.tree, tokens)
    prefetch_keys(conn, bank.payers, [line.payer_tax_id for line in lines if line.payer_tax_id])
    tax_ids = getattr(catalog, "tax_ids", None)
    if tax_ids is not None:
        prefetch_keys(conn, tax_ids.tree, [t for t in unnamed if t])
    accounts = [catalog.accounts.get(d) for d in numbers]
    contracts = [catalog.contracts.get(t) for t in tokens]
    _ghosts(conn, accounts + contracts)
    contracts = [a.__parent__ for a in accounts if a is not None] + \
        [c for c in contracts if c is not None]
    _ghosts(conn, contracts + [getattr(c, "account", None) for c in contracts])
    _ghosts(conn, [getattr(c, "__parent__", None) for c in contracts])


def book_lines(root, bank_name, lines, user):
    """Post or queue each line (in the caller's transaction); returns counts."""
    bank = root["payments"].bank
    causes = root.catalog.causes
    new = new_lines(root, bank_name, lines)
    counts = {"posted": 0, "suspense": 0, "skipped": len(lines) - len(new)}
    prefetch(root, new)
    for line in new:
        if f"bank:{bank_name}:{line.ref}" in causes or (bank_name, line.ref) in bank.suspense:
            counts["skipped"] += 1          # the same line twice in one file
            continue
        account = match(root, line)
        # A terminated contract's money waits for a person (usually a refund).
        if account is not None and account.currency == line.currency \
                and account.__parent__.status != "terminated":
            text = f"bank {bank_name} {line.date}: {line.payer} {line.purpose}"[:300]
            try:
                credit(root, account, line.amount, "bank", bank_name, line.ref, text, user)
            except DuplicateMismatch:
                counts["skipped"] += 1
                continue
            # Remember the payer (a write only when it is news: every write
            # dirties a bucket of a tree keyed at random).
            if line.payer_tax_id and bank.payers.get(line.payer_tax_id) != account.number:
                bank.payers[line.payer_tax_id] = account.number
            counts["posted"] += 1
        else:
            bank.suspense[(bank_name, line.ref)] = SuspenseItem(bank_name, line, now_us())
            bank.waiting.change(1)
            counts["suspense"] += 1
    return counts


# The import's connection keeps the indexes' inner nodes and a batch's
# buckets between batches (the default 400-object cache would reload them).
IMPORT_CACHE = 200_000


def new_lines(root, bank_name, lines):
    """The lines neither posted nor waiting in suspense yet."""
    causes, suspense = root.catalog.causes, root["payments"].bank.suspense
    prefetch_known(root, bank_name, lines)
    return [line for line in lines if f"bank:{bank_name}:{line.ref}" not in causes
            and (bank_name, line.ref) not in suspense]


def import_statement(db, bank_name, lines, user, source="", batch=1000, progress=None):
    """Book a parsed statement in transactions of *batch* lines (each retried
    on conflict).  Every line posts under its own cause
    (``bank:<bank>:<ref>``), so a batch that is repeated — after a conflict,
    or by importing the file again after the process was killed — skips
    what is already booked and books the rest: a resumed import posts every
    line exactly once.  ``progress(n)`` is called after each committed batch."""
    total = {"posted": 0, "suspense": 0, "skipped": 0, "lines": len(lines)}
    with dbmod.connection(db) as (conn, tm):
        conn._cache.cache_size = max(conn._cache.cache_size, IMPORT_CACHE)
        for start in range(0, len(lines), batch):
            chunk = lines[start:start + batch]
            for attempt in tm.attempts(5):
                with attempt as txn:
                    describe(txn, user, f"bank statement {source} "
                                        f"lines {start + 1}-{start + len(chunk)}")
                    root = get_root(conn.root())
                    counts = book_lines(root, bank_name, chunk, user)
                    # The next batch's index buckets load while this one commits.
                    prefetch_known(root, bank_name, lines[start + batch:start + 2 * batch])
            for k, v in counts.items():
                total[k] += v
            if progress is not None:
                progress(len(chunk))

    def note(root):
        imports = root["payments"].bank.imports
        key = now_us()
        while key in imports:
            key += 1
        imports[key] = (bank_name, source, total["lines"], total["posted"],
                        total["suspense"], total["skipped"], user)
    dbmod.transact(db, note, user, f"bank statement {source} imported")
    log.info("bank %s %s: %s", bank_name, source, total)
    return total


def assign(root, bank_name, ref, account_text, user, remember_payer=True):
    """An accountant's decision: the waiting line is for this account."""
    from .lookup import payable_account
    bank = root["payments"].bank
    item = bank.suspense.get((bank_name, ref))
    if item is None:
        raise KeyError(f"no suspense item {bank_name}/{ref}")
    if item.status != "waiting":
        raise ValueError(f"suspense item {ref} was already assigned to {item.account_no}")
    account = payable_account(root, account_text)
    if account is None:
        raise ValueError(f"no account {account_text!r}")
    from .bankfiles import BankLine
    line = BankLine(*item.line)
    if account.currency != line.currency:
        raise ValueError(f"account {account.number} is in {account.currency}, not {line.currency}")
    posting, _ = credit(root, account, line.amount, "bank", bank_name, line.ref,
                        f"bank {bank_name} {line.date}: {line.payer} {line.purpose} "
                        f"(assigned by {user})"[:300], user)
    item.status = "assigned"
    item.account_no = account.number
    item.assigned_by = user
    item.assigned_us = now_us()
    bank.waiting.change(-1)
    if remember_payer and line.payer_tax_id:
        bank.payers[line.payer_tax_id] = account.number
    return posting

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
from .clock import now_us
from .credit import DuplicateMismatch, credit
from .interfaces import IBank
from .lookup import contract_account

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


def _prefetch(root, lines):
    """Load the accounts a batch names, then their contracts, ledgers and
    subscribers, in a few round trips instead of several per line."""
    conn = root._p_jar
    if conn is None:
        return
    accounts = [a for a in (root.catalog.accounts.get(d) for line in lines
                            for d in _DIGITS.findall(line.purpose or "")
                            if valid_account_number(d)) if a is not None]
    conn.prefetch(accounts)
    contracts = [a.__parent__ for a in accounts]
    conn.prefetch(contracts + [a.ledger for a in accounts])
    conn.prefetch([getattr(c, "__parent__", None) for c in contracts
                   if getattr(c, "__parent__", None) is not None])


def book_lines(root, bank_name, lines, user):
    """Post or queue each line (in the caller's transaction); returns counts."""
    bank = root["payments"].bank
    causes = root.catalog.causes
    new = [line for line in lines if f"bank:{bank_name}:{line.ref}" not in causes
           and (bank_name, line.ref) not in bank.suspense]
    counts = {"posted": 0, "suspense": 0, "skipped": len(lines) - len(new)}
    _prefetch(root, new)
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


def import_statement(db, bank_name, lines, user, source="", batch=1000):
    """Book a parsed statement in transactions of *batch* lines (each retried
    on conflict; a repeated batch skips what it already booked)."""
    total = {"posted": 0, "suspense": 0, "skipped": 0, "lines": len(lines)}
    for start in range(0, len(lines), batch):
        chunk = lines[start:start + batch]
        counts = dbmod.transact(db, lambda root: book_lines(root, bank_name, chunk, user),
                                user, f"bank statement {source} lines {start + 1}-{start + len(chunk)}")
        for k, v in counts.items():
            total[k] += v

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

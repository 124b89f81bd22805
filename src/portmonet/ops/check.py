"""``portmonet check``: prove the books.

* every account's balance equals the sum of its postings;
* every posting's cause is in the cause index and points back at it, and the
  index holds nothing else, so no cause is posted twice; causes that their
  feature keeps once itself (``ledger.account.CAUSE_OWNERS``: usage charges)
  are summed apart, for that feature's check (``report.owned``, or
  ``report.owned_by[owner.name]`` for an owner with a name);
* the contracts-per-status counters (``root.contract_counts``) equal a
  count made on the same walk (each contract's account leads to it);
* checks that later features register (payments received = booked ...).
"""
import hashlib
from collections import Counter

from .bulk import walk

# Further checks: callables (root, conn, report) registered by features.
EXTRA_CHECKS = []


class Report:
    def __init__(self, limit=1000):
        self.problems = []
        self.limit = limit
        self.counts = {}
        self.owned = None        # set by check_ledgers: sums of owned causes
        self.owned_by = {}       # ... of the owners with a ``name``, each apart

    def problem(self, text):
        if len(self.problems) < self.limit:
            self.problems.append(text)
        self.counts["problems"] = self.counts.get("problems", 0) + 1

    def count(self, name, n=1):
        self.counts[name] = self.counts.get(name, 0) + n

    @property
    def ok(self):
        return not self.counts.get("problems")


def _fingerprint(cause, number, key):
    data = f"{cause}\0{number}\0{key}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class _Multiset:
    """Order-free digest of (cause, account, key) triples: a count and a sum
    of 64-bit fingerprints.  Two equal digests mean equal multisets (but for
    a 2^-64 chance), in constant memory and one sequential pass each."""

    def __init__(self):
        self.count = 0
        self.total = 0

    def add(self, cause, number, key):
        self.count += 1
        self.total = (self.total + _fingerprint(cause, number, key)) & 0xFFFFFFFFFFFFFFFF

    def __eq__(self, other):
        return (self.count, self.total) == (other.count, other.total)

    def plus(self, other):
        both = _Multiset()
        both.count = self.count + other.count
        both.total = (self.total + other.total) & 0xFFFFFFFFFFFFFFFF
        return both


def charge_mismatch(accounts, where, amount, cause):
    """Why the posting at *where* (account number, posting key) is not a
    charge of *amount* with *cause*; None when it is (for the features that
    check their own records against the ledger)."""
    try:
        posting = accounts.get(where[0]).posting(where[1])
    except (AttributeError, KeyError):
        return f"no posting {where[1]} on account {where[0]}"
    if posting.amount != -amount or posting.cause != cause:
        return (f"recorded {amount} as {cause!r}, charged {-posting.amount} "
                f"as {posting.cause!r}")
    return None


def check_ledgers(root, conn, report, progress=None):
    """Balances against postings per account; postings against the cause
    index as a whole.

    Looking every cause up in the index would be a random read per posting
    (a ZEO round trip once the index outgrows the cache); instead both sides
    are read in order and compared as multisets.  Only when they differ is
    the index searched posting by posting to name the culprits."""
    from ..interfaces import IContract
    from ..ledger.account import CAUSE_OWNERS, owner_of
    causes = root.catalog.causes
    posted = _Multiset()
    # owned causes: postings, and those of them in the index (from before)
    owned_posted, owned_indexed = _Multiset(), _Multiset()
    report.owned = {"postings": owned_posted, "indexed": owned_indexed}

    def owned_sums(owner):
        name = getattr(owner, "name", None)
        if name is None:
            return report.owned
        if name not in report.owned_by:
            report.owned_by[name] = {"postings": _Multiset(), "indexed": _Multiset()}
        return report.owned_by[name]
    for owner in CAUSE_OWNERS:
        owned_sums(owner)
    statuses = Counter()
    accounts = root.catalog.accounts.tree.values()
    for account in walk(conn, accounts, then=_ledger_and_holder):
        holder = account.__parent__
        if IContract.providedBy(holder):     # not a wallet: one account per contract
            statuses[holder.status] += 1
        total = 0
        for posting in account.postings():
            total += posting.amount
            cause = posting.cause
            owner = owner_of(cause)
            (owned_sums(owner)["postings"] if owner else posted).add(
                cause, account.number, posting.key)
        if total != account.balance:
            report.problem(f"account {account.number}: balance {account.balance} "
                           f"but postings sum to {total}")
        report.count("accounts")
        if progress is not None:
            progress(1)
    report.count("postings", posted.count + owned_posted.count)
    indexed = _Multiset()
    for cause, (number, key) in causes.items():
        owner = owner_of(cause)
        (owned_sums(owner)["indexed"] if owner else indexed).add(cause, number, key)
    if indexed != posted:
        find_cause_problems(root, conn, report)
    compare_contract_counts(root, statuses, report)


def _ledger_and_holder(account):
    """What the walk prefetches with an account: its ledger tree and the
    contract (or wallet) holding it."""
    out = [account.__parent__]
    if account._tree is not None:
        out.append(account._tree)
    return out


def compare_contract_counts(root, counted, report):
    from ..model.contract import STATUSES
    counts = getattr(root, "contract_counts", None)
    if counts is None:
        report.problem("contract status counters missing (run `portmonet evolve`)")
        return
    kept = counts.as_dict()
    for status in STATUSES:
        n = counted.get(status, 0)
        report.count(f"contracts {status}", n)
        if kept.get(status) != n:
            report.problem(f"contracts {status}: counter says {kept.get(status)}, "
                           f"a recount finds {n}")


def find_cause_problems(root, conn, report):
    """The slow, precise pass: which postings and index entries disagree."""
    from ..ledger.account import owner_of
    causes = root.catalog.causes
    accounts = root.catalog.accounts
    for account in walk(conn, accounts.tree.values()):
        for posting in account.postings():
            where = causes.get(posting.cause)
            owner = owner_of(posting.cause) if where is None else None
            if owner is not None:
                where = owner.where(account, posting.cause)
            if where != (account.number, posting.key):
                report.problem(
                    f"account {account.number}: posting {posting.key} cause {posting.cause!r} "
                    f"is indexed as {where!r} (posted twice or not indexed)")
    for cause, (number, key) in causes.items():
        account = accounts.get(number)
        try:
            account.posting(key)
        except (AttributeError, KeyError):
            report.problem(f"cause {cause!r} is indexed as ({number!r}, {key}) "
                           f"but there is no such posting")


def check_books(root, conn, progress=None):
    report = Report()
    check_ledgers(root, conn, report, progress)
    for extra in EXTRA_CHECKS:
        extra(root, conn, report)
    return report

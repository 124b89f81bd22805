"""``portmonet check``: prove the books.

* every account's balance equals the sum of its postings;
* every posting's cause is in the cause index and points back at it, and the
  index holds nothing else, so no cause is posted twice;
* checks that later features register (payments received = booked ...).
"""
from .bulk import walk

# Further checks: callables (root, conn, report) registered by features.
EXTRA_CHECKS = []


class Report:
    def __init__(self, limit=1000):
        self.problems = []
        self.limit = limit
        self.counts = {}

    def problem(self, text):
        if len(self.problems) < self.limit:
            self.problems.append(text)
        self.counts["problems"] = self.counts.get("problems", 0) + 1

    def count(self, name, n=1):
        self.counts[name] = self.counts.get(name, 0) + n

    @property
    def ok(self):
        return not self.counts.get("problems")


def check_ledgers(root, conn, report, progress=None):
    causes = root.catalog.causes
    accounts = root.catalog.accounts.tree.values()
    for account in walk(conn, accounts, then=lambda a: (a._tree,) if a._tree is not None else ()):
        total = 0
        for posting in account.postings():
            total += posting.amount
            report.count("postings")
            where = causes.get(posting.cause)
            if where != (account.number, posting.key):
                report.problem(
                    f"account {account.number}: posting {posting.key} cause {posting.cause!r} "
                    f"is indexed as {where!r} (posted twice or not indexed)")
        if total != account.balance:
            report.problem(f"account {account.number}: balance {account.balance} "
                           f"but postings sum to {total}")
        report.count("accounts")
        if progress is not None:
            progress(1)
    indexed = len(causes)
    if indexed != report.counts.get("postings", 0):
        report.problem(f"cause index holds {indexed} causes for "
                       f"{report.counts.get('postings', 0)} postings")


def check_books(root, conn, progress=None):
    report = Report()
    check_ledgers(root, conn, report, progress)
    for extra in EXTRA_CHECKS:
        extra(root, conn, report)
    return report

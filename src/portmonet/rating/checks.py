"""The rating part of ``portmonet check``: every rated charge is on the
ledger with its amount, every usage charge has its rated record, and no
rated record is still queued.

Usage charges (``usage:<source id>``) are not in the cause index (the rated
record names its posting), so "posted once" is proven by sums: the usage
postings found on the ledgers equal the rated records' postings plus the
index entries of charges posted before the lanes (``report.owned``)."""
from ..ops.check import EXTRA_CHECKS, _Multiset, charge_mismatch
from .model import cause_of


def check_rating(root, conn, report):
    state = root.get("rating")
    if state is None:
        return
    causes = root.catalog.causes
    accounts = root.catalog.accounts
    vouched = _Multiset()
    for key, rated in state.rated_items():
        report.count("rated")
        if rated.posting is not None:
            vouched.add(cause_of(rated.source_id), rated.account, rated.posting)
        if not rated.amount:
            continue
        if rated.generation == 0 and rated.posting is not None:
            where = (rated.account, rated.posting)
        else:
            where = causes.get(rated.cause)
        if where is None:
            report.problem(f"rated {rated.source_id}: charge {rated.cause!r} not on the ledger")
            continue
        why = charge_mismatch(accounts, where, rated.amount, rated.cause)
        if why:
            report.problem(f"rated {rated.source_id}: {why}")
    owned = report.owned
    if owned is not None and owned["postings"] != owned["indexed"].plus(vouched):
        report.problem(f"usage charges on the ledgers ({owned['postings'].count}) are not the "
                       f"rated records' charges ({vouched.count}) and the indexed ones "
                       f"({owned['indexed'].count}): a charge posted twice or without its record")
    for cause in causes.keys("usage:", "usage;", excludemax=True):
        if "#" not in cause and state.find(cause[len("usage:"):]) is None:
            report.problem(f"charge {cause!r} has no rated record")
    queued = 0
    for key, record in root.usage.items():
        queued += 1
        found = state.find(record.source_id)
        if found is not None and found.key == key:
            report.problem(f"usage {record.source_id} is rated but still queued")
    report.count("queued", queued)
    parked = sum(1 for _ in state.parked_items())
    if parked != state.error_count():
        report.problem("rating error count differs from the error queue")
    if sum(1 for _ in state.rated_items()) != state.rated_count():
        report.problem("rated count differs from the rated records")
    report.count("rating_errors", parked)


if check_rating not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_rating)

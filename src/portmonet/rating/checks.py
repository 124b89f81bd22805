"""The rating part of ``portmonet check``: every rated charge is on the
ledger with its amount, every usage charge has its rated record, and no
rated record is still queued."""
from ..ops.check import EXTRA_CHECKS


def check_rating(root, conn, report):
    state = root.get("rating")
    if state is None:
        return
    causes = root.catalog.causes
    accounts = root.catalog.accounts
    for rated in state.rated.values():
        report.count("rated")
        if not rated.amount:
            continue
        where = causes.get(rated.cause)
        if where is None:
            report.problem(f"rated {rated.source_id}: charge {rated.cause!r} not on the ledger")
            continue
        posting = accounts.get(where[0]).ledger[where[1]]
        if posting.amount != -rated.amount:
            report.problem(f"rated {rated.source_id}: {rated.amount} rated but "
                           f"{-posting.amount} charged")
    for cause in causes.keys("usage:", "usage;", excludemax=True):
        if "#" not in cause and state.find(cause[len("usage:"):]) is None:
            report.problem(f"charge {cause!r} has no rated record")
    for key, record in root.usage.pending.items():
        if key in state.rated:
            report.problem(f"usage {record.source_id} is rated but still queued")
    if len(state.errors) != state.error_count():
        report.problem("rating error count differs from the error queue")
    report.count("rating_errors", len(state.errors))


if check_rating not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_rating)

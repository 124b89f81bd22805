"""Reports for accountants, from the ledger (rows of plain values).

Each report returns ``(header, rows)``; :func:`write_csv` and
:func:`write_table` put them in a file or on the screen.  Amounts are
minor units in the data and formatted major units in the output.
"""
import csv
import datetime

from ..money import format_amount
from ..ops.bulk import walk


def _explain(root, billing, posting, account=None):
    """(service kind, tariff) a charge belongs to (*account*: the one it is on)."""
    cause = posting.cause
    if cause.startswith("fee:"):
        record = billing.find_fee(cause, getattr(account, "__parent__", None))
        if record is not None:
            return record.service_kind, record.tariff
        return "fee", "?"
    if cause.startswith("usage:"):
        rating = root.get("rating")
        rated = rating.find(cause[len("usage:"):].split("#", 1)[0]) if rating else None
        if rated is not None:
            return rated.kind, rated.tariff
        return "usage", "?"
    if cause.startswith("once:"):
        return "once", "-"
    return posting.kind, "-"


def charges(root, conn, start_us, end_us):
    """Charged and paid per service and tariff in [start, end)."""
    billing = root["billing"]
    groups = {}
    paid = refunded = 0
    for account in walk(conn, root.catalog.accounts.tree.values(), then=lambda a: (a.ledger_tree,)):
        for p in account.postings(start_us, end_us):
            if p.kind == "payment":
                paid += p.amount
            elif p.kind == "refund":
                refunded -= p.amount
            elif p.kind == "charge" or p.cause.startswith("usage:"):
                key = _explain(root, billing, p, account)
                n, total = groups.get(key, (0, 0))
                groups[key] = (n + 1, total - p.amount)
    rows = [(kind, tariff, n, total) for (kind, tariff), (n, total) in sorted(groups.items())]
    rows.append(("payments", "-", "", paid))
    rows.append(("refunds", "-", "", refunded))
    return ("service", "tariff", "postings", "amount"), rows


def revenue_by_tariff(root, conn, start_us, end_us):
    _, rows = charges(root, conn, start_us, end_us)
    by_tariff = {}
    for kind, tariff, n, total in rows:
        if kind in ("payments", "refunds"):
            continue
        by_tariff[tariff] = by_tariff.get(tariff, 0) + total
    return ("tariff", "charged"), sorted(by_tariff.items())


def debtors(root, conn):
    """Accounts below zero: who, how much, the limit, the status, since when."""
    billing = root["billing"]
    rows = []
    for account in walk(conn, root.catalog.accounts.tree.values()):
        if account.balance >= 0:
            continue
        contract = account.__parent__
        since = billing.debt.get(contract.number)
        rows.append((contract.number, account.number, contract.__parent__.name, account.balance,
                     account.credit_limit, contract.status,
                     datetime.date.fromordinal(since).isoformat() if since else ""))
    rows.sort(key=lambda r: r[3])
    return ("contract", "account", "name", "balance", "credit_limit", "status", "below_since"), rows


MONEY_COLUMNS = {"amount", "charged", "balance", "credit_limit"}


def _formatted(header, rows, currency):
    money = [i for i, name in enumerate(header) if name in MONEY_COLUMNS]
    for row in rows:
        row = list(row)
        for i in money:
            if isinstance(row[i], int):
                row[i] = format_amount(row[i], currency)
        yield row


def write_csv(out, header, rows, currency="RUB"):
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(_formatted(header, rows, currency))


def write_table(echo, header, rows, currency="RUB"):
    rows = [[str(v) for v in row] for row in _formatted(header, rows, currency)]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    echo("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        echo("  ".join(v.ljust(w) for v, w in zip(row, widths)))

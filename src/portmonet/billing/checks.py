"""The billing part of ``portmonet check``: every fee record's charge is
on the ledger with its amount, the fee charges on the ledgers are exactly
the records' ones (fee causes are owned by billing, not in the cause index:
proven by sums, as rating does for usage), invoice numbers run without gaps, each
numbered invoice is the one its number names, and no finished run left an
invoice without a number (a run under way may: its numbering pass comes
after its workers)."""
from ..ops.check import EXTRA_CHECKS, _Multiset, charge_mismatch


def check_billing(root, conn, report):
    billing = root.get("billing")
    if billing is None:
        return
    causes = root.catalog.causes
    accounts = root.catalog.accounts
    vouched = _Multiset()            # the owned fee charges the records name
    for record in billing.fee_records():
        report.count("fees")
        cause = record.cause
        if record.posting is not None:
            vouched.add(cause, record.account, record.posting)
            where = (record.account, record.posting)
        else:
            where = causes.get(cause)    # posted before billing owned its causes
        if where is None:
            report.problem(f"fee {cause!r} recorded but not on the ledger")
            continue
        why = charge_mismatch(accounts, where, record.amount, cause)
        if why:
            report.problem(f"fee {cause!r}: {why}")
    owned = report.owned_by.get("fee")
    if owned is not None and owned["postings"] != owned["indexed"].plus(vouched):
        report.problem(f"fee charges on the ledgers ({owned['postings'].count}) are not the "
                       f"fee records' charges ({vouched.count}) and the indexed ones "
                       f"({owned['indexed'].count}): a fee charged twice or without its record")
    for cause in causes.keys("fee:", "fee;", excludemax=True):
        if billing.find_fee(cause) is None:
            report.problem(f"fee {cause!r} posted without its fee record")
    numbers = billing.invoice_numbers
    expected = billing.next_invoice - 1
    if len(numbers) != expected or (expected and (numbers.minKey() != 1 or numbers.maxKey() != expected)):
        report.problem(f"invoice numbers are not 1..{expected} without gaps")
    runs = billing.runs
    unnumbered = numbered = 0
    for key, invoice in billing.invoices.items():
        if invoice.number is None:
            unnumbered += 1
            run = runs.get(key[0])
            if run is None or run.finished_us:
                report.problem(f"invoice {key!r} drawn by a finished run but not numbered")
        else:
            numbered += 1
            if numbers.get(invoice.number) != key:
                report.problem(f"invoice {key!r}: number {invoice.number} names another")
    for (period, _lo), tree in (billing.drawn.items() if billing.drawn is not None else ()):
        run = runs.get(period)
        for account in tree.keys():
            unnumbered += 1
            if run is None or run.finished_us:
                report.problem(f"invoice {(period, account)!r} drawn by a finished run "
                               f"but not numbered")
    if numbered != len(numbers):
        report.problem("invoices and invoice numbers differ")
    report.count("invoices", len(numbers))
    if unnumbered:
        report.count("invoices_not_numbered_yet", unnumbered)


if check_billing not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_billing)

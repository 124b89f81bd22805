"""The billing part of ``portmonet check``: every fee record's charge is
on the ledger with its amount, invoice numbers run without gaps, each
numbered invoice is the one its number names, and no finished run left an
invoice without a number (a run under way may: its numbering pass comes
after its workers)."""
from ..ops.check import EXTRA_CHECKS


def check_billing(root, conn, report):
    billing = root.get("billing")
    if billing is None:
        return
    causes = root.catalog.causes
    accounts = root.catalog.accounts
    for cause, record in billing.fees.items():
        report.count("fees")
        where = causes.get(cause)
        if where is None:
            report.problem(f"fee {cause!r} recorded but not on the ledger")
        elif accounts.get(where[0]).ledger[where[1]].amount != -record.amount:
            report.problem(f"fee {cause!r}: recorded {record.amount}, posted otherwise")
    for cause in causes.keys("fee:", "fee;", excludemax=True):
        if cause not in billing.fees:
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
    if numbered != len(numbers):
        report.problem("invoices and invoice numbers differ")
    report.count("invoices", len(numbers))
    if unnumbered:
        report.count("invoices_not_numbered_yet", unnumbered)


if check_billing not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_billing)

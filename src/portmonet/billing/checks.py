"""The billing part of ``portmonet check``: every fee record's charge is
on the ledger with its amount, and invoice numbers run without gaps."""
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
    if len(billing.invoices) != len(numbers):
        report.problem("invoices and invoice numbers differ")
    report.count("invoices", len(numbers))


if check_billing not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_billing)

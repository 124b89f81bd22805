"""The dashboard's part of ``portmonet check``: the contracts-per-status
counters (``root.contract_counts``) equal a recount."""
from ..ops.check import EXTRA_CHECKS


def check_contract_counts(root, conn, report):
    from ..evolve.core import count_contracts
    counts = getattr(root, "contract_counts", None)
    if counts is None:
        report.problem("contract status counters missing (run `portmonet evolve`)")
        return
    counted = count_contracts(root)
    kept = counts.as_dict()
    for status, n in counted.items():
        report.count(f"contracts {status}", n)
        if kept.get(status) != n:
            report.problem(f"contracts {status}: counter says {kept.get(status)}, "
                           f"a recount finds {n}")


if check_contract_counts not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_contract_counts)

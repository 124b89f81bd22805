"""Install the billing feature's folder."""
from ..evolve import step
from . import checks  # noqa: F401  (registers the books check)
from BTrees.OOBTree import OOBTree

from .model import Billing


@step("2026-11-25-billing-01-billing-folder")
def add_billing(root):
    if "billing" not in root:
        root.add("billing", Billing())


@step("2026-11-26-billing-02-fee-periods")
def fee_periods(root):
    """Fee records go to a tree per period in subscriber order (billing owns
    fee causes).  Those of the runs so far stay where they are, in ``fees``
    by cause (their charges are in the cause index): only the periods run
    so far are looked up there.  Nothing is moved, so this is instant."""
    billing = root.get("billing")
    if billing is None:
        return
    if billing.fee_periods is None:
        billing.fee_periods = OOBTree()
    if billing.legacy_fee_periods is None:
        billing.legacy_fee_periods = tuple(billing.runs.keys()) if billing.fees else ()

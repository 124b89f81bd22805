"""Install the billing feature's folder."""
from ..evolve import step
from . import checks  # noqa: F401  (registers the books check)
from .model import Billing


@step("2026-11-25-billing-01-billing-folder")
def add_billing(root):
    if "billing" not in root:
        root.add("billing", Billing())

"""Evolve steps of the payments feature (run at install and by ``portmonet evolve``)."""
from ..evolve import step
from . import checks  # noqa: F401  (registers the books check)


@step("2026-11-25-payments-01-folder")
def add_payments_folder(root):
    """``/payments`` with its journal, register, bank, cash desk, cards, wallets."""
    from .folder import Payments
    if "payments" not in root:
        root.add("payments", Payments())
    else:
        root["payments"].install_parts()

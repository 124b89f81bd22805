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


@step("2026-11-25-payments-02-append-trees")
def append_trees(root):
    """The trees every payment appends to, with small parent nodes
    (:mod:`portmonet.payments.trees`); their contents are copied."""
    from .agents import Agent
    from .trees import AppendLOBTree, AppendOOBTree, AppendOOTreeSet, rebuilt
    payments = root["payments"]
    journal, register = payments.journal, payments.register
    journal.entries = rebuilt(journal.entries, AppendLOBTree)
    journal.by_ext = rebuilt(journal.by_ext, AppendOOTreeSet)
    register.rows = rebuilt(register.rows, AppendOOBTree)
    for agent in payments.values():
        if isinstance(agent, Agent):
            agent.txns = rebuilt(agent.txns, AppendOOBTree)


@step("2026-11-25-payments-03-tax-id-index")
def tax_id_index(root):
    """The catalog's payer tax id (INN) index, so a bank line with the
    payer's INN finds the subscriber without a scan; filled from the
    subscribers that have one (a prefetched walk, once)."""
    from ..catalog import MULTI, MultiIndex
    from ..ops.bulk import walk
    catalog = root.catalog
    if getattr(catalog, "tax_ids", None) is not None:
        return
    index = catalog.tax_ids = MultiIndex(MULTI["tax_ids"])
    conn = root._p_jar
    subscribers = root["subscribers"].values()
    for subscriber in (walk(conn, subscribers) if conn is not None else subscribers):
        if subscriber.tax_id:
            index.add(subscriber.tax_id, subscriber.id)

"""What the billing feature shows on the core's pages: the debtors on the
dashboard, and on the card and the office home a contract's invoices (newest three; paged on ``@@invoices?contract=``),
each a link to its PDF (billing's ``@@invoice`` for staff, the office's
own ``@@office-invoice``, which checks the owner, for the subscriber)."""
from ..interfaces import ISubscriber
from ..web.helpers import prefetch_keys
from ..web.i18n import _
from ..web.figures import bounded_len
from ..web.panels import CARD, OFFICE, contract_tables
from ..web.views.dashboard import count_text

HIGH = "\U0010ffff"
CARD_INVOICES = 3


def invoices(root, account_number, before_period=None, limit=12):
    """(invoices of one account newest period first, cursor or None).

    Invoices are kept by (period, account): one lookup per billed period,
    newest first, never a scan of other accounts' invoices."""
    billing = root.get("billing") if hasattr(root, "get") else None
    if billing is None:
        return [], None
    runs = billing.runs
    periods = []
    period = _last_key(runs) if before_period is None else _below(runs, before_period)
    while period is not None and len(periods) < 120:
        periods.append(period)
        period = _below(runs, period)
    # Usually every period has an invoice: fetch the first page's buckets at once.
    prefetch_keys([(billing.invoices, (p, account_number)) for p in periods[:limit + 1]])
    rows = []
    for period in periods:
        inv = billing.invoices.get((period, account_number))
        if inv is not None:
            if len(rows) >= limit:
                return rows, rows[-1].period
            rows.append(inv)
    return rows, None


def _last_key(tree):
    try:
        return tree.maxKey()
    except ValueError:
        return None


def _below(tree, text):
    """The greatest key of *tree* strictly below the string *text*."""
    if not text:
        return None
    try:
        return tree.maxKey(text[:-1] + chr(ord(text[-1]) - 1) + HIGH)
    except ValueError:
        return None


def invoice_url(request, subscriber, office):
    """The PDF of an invoice: billing's view for staff, the office's own
    (which checks the owner) for the subscriber."""
    if office:
        return lambda inv: request.resource_url(subscriber, "@@office-invoice",
                                                query={"number": inv.number})
    billing = request.root.get("billing")
    return lambda inv: request.resource_url(billing, "@@invoice", query={"number": inv.number})


def invoices_panel(subscriber, request, slot):
    if request.root.get("billing") is None:
        return None

    def read(contract, limit, before):
        return invoices(request.root, contract.account.number,
                        before_period=(before or "")[:10] or None,
                        limit=limit if slot.page else CARD_INVOICES)
    values = contract_tables(subscriber, request, slot, read)
    if values is not None:
        values["invoice_url"] = invoice_url(request, subscriber, slot.office)
    return values


def debtors_figure(root):
    """Billing keeps no counter of its debt list (yet): a bounded count."""
    billing = root.get("billing")
    return count_text(bounded_len(billing.debt.keys())) if billing is not None else None


def includeme(config):
    config.add_figure("operations", "debtors", _("Debtors"), debtors_figure, order=30)
    config.add_panel("invoices", invoices_panel, context=ISubscriber, where=(CARD, OFFICE),
                     order=30, title=_("Invoices"),
                     renderer="portmonet:billing/templates/invoices_panel.pt")

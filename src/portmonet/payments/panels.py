"""The payments feature's block on the card and the office home: a
contract's newest payments, from its ledger (every channel posts there),
with a link to all of them."""
from ..interfaces import ISubscriber
from ..web.i18n import _
from ..web.panels import CARD, OFFICE, contract_tables
from ..web.views.contract import newest

MAX_SCAN = 300           # ledger postings read for one block at most


def payments_panel(subscriber, request, slot):
    def read(contract, limit, before):
        rows, _more = newest(contract.account.ledger, limit, kind="payment", max_scan=MAX_SCAN)
        return rows, None           # "All payments" is the ledger, filtered
    return contract_tables(subscriber, request, slot, read)


def includeme(config):
    config.add_panel("payments", payments_panel, context=ISubscriber, where=(CARD, OFFICE),
                     order=40, title=_("Payments"), page=False,
                     renderer="portmonet:payments/templates/payments_panel.pt")

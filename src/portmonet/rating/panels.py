"""What the rating feature shows on the core's pages: a contract's rated
telephone calls on the card and the office home (until the telephony
feature takes them over), paged on ``@@calls?contract=``; the rating
errors on the dashboard."""
from ..interfaces import ISubscriber
from ..web.i18n import _
from ..web.panels import CARD, OFFICE, contract_tables


def calls(root, account, before_key=None, limit=20, max_scan=500):
    """(rated telephone calls of *account* newest first, cursor or None).

    The rater posts one charge per rated record with the cause
    ``usage:<source id>``; the account's ledger is already ordered by time,
    so its newest usage charges lead to the rated records (``rating.find``)
    without scanning the rating's tree of every subscriber's records."""
    rating = root.get("rating") if hasattr(root, "get") else None
    tree = account.ledger
    rows = []
    hi = None if before_key is None else before_key - 1
    try:
        key = tree.maxKey(hi) if hi is not None else tree.maxKey()
    except ValueError:
        return rows, None
    last = None
    for _step in range(max_scan):
        if key is None:
            break
        posting = tree[key]
        if posting.kind == "charge" and posting.cause.startswith("usage:") and rating is not None:
            rated = rating.find(posting.cause[6:].split("#r")[0])
            if rated is not None and rated.kind == "call":
                if len(rows) >= limit:
                    return rows, last
                rows.append({"posting": posting, "rated": rated, "record": rated.record})
                last = key
        try:
            key = tree.maxKey(key - 1)
        except ValueError:
            key = None
    # Stopped by max_scan with more ledger left: offer the next stretch.
    return rows, (key + 1 if key is not None else None)


def _cursor(text):
    return int(text) if text and text.isdigit() and len(text) < 19 else None


def calls_panel(subscriber, request, slot):
    def read(contract, limit, before):
        return calls(request.root, contract.account, before_key=_cursor(before), limit=limit)
    # Only a contract with a telephone line has calls: the others cost nothing.
    return contract_tables(subscriber, request, slot, read,
                           only=lambda c: any(True for _ in c.services("phone")))


def errors_figure(root):
    rating = root.get("rating")
    return rating.error_count() if rating is not None else None


def includeme(config):
    config.add_figure("figures", "rating-errors", _("Rating errors"), errors_figure, order=60)
    config.add_panel("calls", calls_panel, context=ISubscriber, where=(CARD, OFFICE), order=20,
                     title=_("Calls"), renderer="portmonet:rating/templates/calls_panel.pt")

"""Workflow's blocks: a subscriber's requests on the card and, with the
moves that are theirs, in the office."""
from ..clock import now_us
from ..interfaces import ISubscriber
from ..web.i18n import _
from ..web.panels import CARD, OFFICE
from .definition import SUBSCRIBER

TEMPLATES = "portmonet:workflow/templates/"


def requests_of(root, subscriber, limit):
    """The subscriber's requests and those about their contracts, newest first."""
    folder = root.get("workflows") if hasattr(root, "get") else None
    if folder is None:
        return None
    found = folder.requests.of_subject(f"subscriber:{subscriber.id}", limit)
    for contract in subscriber.contracts():
        found += folder.requests.of_subject(f"contract:{contract.number}", limit)
    found.sort(key=lambda r: r.__name__, reverse=True)
    return found[:limit]


def requests_panel(subscriber, request, slot):
    rows = requests_of(request.root, subscriber, slot.limit)
    if rows is None:
        return None
    moves = {r.__name__: [t for t in r.definition.transitions_from(r.state)
                          if SUBSCRIBER in t.roles] for r in rows} if slot.office else {}
    return {"rows": rows, "moves": moves, "now": now_us()}


def includeme(config):
    config.add_panel("requests", requests_panel, context=ISubscriber, where=(CARD, OFFICE),
                     order=40, title=_("Requests"), renderer=TEMPLATES + "requests_panel.pt")

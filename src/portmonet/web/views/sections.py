"""One section of a subscriber, page by page: sessions, calls, invoices.

Each view is registered twice: for staff (``view``) and, under an
``office-`` name, for the subscriber's own office session (``office``),
so the office and the card show the same rows from the same code.  The
invoice PDF of the office checks that the invoice is this subscriber's.
"""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ...interfaces import ISubscriber
from .. import sections
from ..i18n import _

SECTION = "portmonet:web/templates/section.pt"
PAGE = 20


def _int(request, name):
    text = request.GET.get(name, "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def _contract(context, request):
    contract = context.get(request.GET.get("contract", ""))
    if contract is None or getattr(contract, "account", None) is None:
        raise HTTPNotFound()
    return contract


def _office(request):
    return request.view_name.startswith("office-")


def _next(request, **query):
    keep = {k: v for k, v in request.GET.items() if k not in query}
    return request.resource_url(request.context, request.view_name, query=dict(keep, **query))


def invoice_url(request, subscriber, office):
    """The PDF of an invoice: billing's view for staff, the office's own
    (which checks the owner) for the subscriber."""
    if office:
        return lambda inv: request.resource_url(subscriber, "@@office-invoice",
                                                query={"number": inv.number})
    billing = request.root.get("billing")
    return lambda inv: request.resource_url(billing, "@@invoice", query={"number": inv.number})


@view_config(context=ISubscriber, name="sessions", renderer=SECTION, permission="view")
@view_config(context=ISubscriber, name="office-sessions", renderer=SECTION, permission="office")
def sessions_page(context, request):
    online, rows, cursor = sections.subscriber_sessions(
        request.root, context, before_us=_int(request, "before"), limit=PAGE)
    if request.GET.get("before"):
        online = []              # shown on the first page only
    return {"page_title": _("Sessions"), "s": context, "section": "sessions",
            "sessions": online + rows, "more": _next(request, before=cursor) if cursor else None}


@view_config(context=ISubscriber, name="calls", renderer=SECTION, permission="view")
@view_config(context=ISubscriber, name="office-calls", renderer=SECTION, permission="office")
def calls_page(context, request):
    contract = _contract(context, request)
    rows, cursor = sections.calls(request.root, contract.account,
                                  before_key=_int(request, "before"), limit=PAGE)
    return {"page_title": _("Calls"), "s": context, "section": "calls", "calls": rows,
            "more": _next(request, before=cursor) if cursor else None}


@view_config(context=ISubscriber, name="invoices", renderer=SECTION, permission="view")
@view_config(context=ISubscriber, name="office-invoices", renderer=SECTION, permission="office")
def invoices_page(context, request):
    contract = _contract(context, request)
    before = request.GET.get("before", "")[:10] or None
    rows, cursor = sections.invoices(request.root, contract.account.number,
                                     before_period=before, limit=PAGE)
    return {"page_title": _("Invoices"), "s": context, "section": "invoices", "invoices": rows,
            "invoice_url": invoice_url(request, context, _office(request)),
            "more": _next(request, before=cursor) if cursor else None}


@view_config(context=ISubscriber, name="office-invoice", permission="office")
def office_invoice(context, request):
    """An invoice PDF, only if it is of one of this subscriber's accounts."""
    billing = request.root.get("billing")
    number = _int(request, "number")
    inv = billing.invoice(number) if billing is not None and number is not None else None
    mine = {c.account.number for c in context.contracts() if c.account is not None}
    if inv is None or inv.account not in mine:
        raise HTTPNotFound()
    from ...billing import render
    return Response(render.pdf(inv), content_type="application/pdf",
                    content_disposition=f'inline; filename="{inv.label}.pdf"')

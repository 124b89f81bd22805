"""The first page an operator sees, and the search box."""

from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import clock
from ..i18n import _
from ...interfaces import IRoot
from ...money import format_amount
from ..figures import CAP, COUNTED, KNOWN, LABELS, OPTIONAL, bar_plot, bounded_len, svg
from ..forms import SearchForm
from ..helpers import prefetch, prefetch_keys
from ..search import MAX_PAGE, search_page

PAGE_SIZE = 20


def online_count(root, cap):
    """Sessions online over every NAS (each keeps its open ones in
    ``online``), counting at most *cap*: (n, exact?)."""
    n = 0
    for device in root["equipment"].values():
        online = getattr(device, "online", None)
        if online is not None:
            for _key in online.keys():
                n += 1
                if n >= cap:
                    return n, False
    return n, True


def _count(pair):
    n, exact = pair
    return f"{n:,}" if exact else f"{n:,}+"


def _figures(root):
    """Figures that cost O(1): counters kept by the model, queue lengths."""
    figures = [(_("Subscribers"), len(root["subscribers"])),
               (_("Tariffs"), len(root["tariffs"])),
               (_("Equipment"), len(root["equipment"])),
               (_("Staff users"), len(root["staff"]))]
    usage = getattr(root, "usage", None)
    if usage is not None and hasattr(usage, "__len__"):
        figures.append((_("Usage records waiting"), len(usage)))
    rating = root.get("rating")
    if rating is not None:
        figures.append((_("Rating errors"), rating.error_count()))
    return figures


def _operations(root):
    """What an operator acts on: online sessions, today's payments, debtors,
    open tasks.  A gauge a feature keeps (``figures.adjust``) is read in
    O(1); otherwise a count of at most ``figures.CAP`` keys, shown as "N+"
    beyond it (memoised per process, see ``dashboard``)."""
    out = []
    day_figures = getattr(root, "day_figures", None)
    radius = getattr(root, "radius", None)
    online = day_figures.gauge("online_sessions") if day_figures is not None else None
    if online is not None:
        out.append(("online", _("Sessions online"), f"{online:,}"))
    elif radius is not None:
        out.append(("online", _("Sessions online"), _count(online_count(root, CAP))))
    # Today's payments: every payment channel records "payments" where it
    # books (payments.credit), the web cash desk "cashdesk_payments".
    count, amount = 0, 0
    if day_figures is not None:
        today = clock.today()
        for name in ("payments", "cashdesk_payments"):
            _day, n, total = day_figures.series(name, days=1, today=today)[0]
            count, amount = count + n, amount + total
    out.append(("payments-today", _("Payments today"), f"{count:,} / {format_amount(amount)}"))
    billing = root.get("billing")
    if billing is not None:
        # Billing keeps no counter of its debt list (yet): bounded count.
        out.append(("debtors", _("Debtors"), _count(bounded_len(billing.debt.keys()))))
    counts = getattr(root, "contract_counts", None)
    if counts is not None:
        # Counters kept by Contract (model.contract.StatusCounts): O(1).
        out.append(("blocked", _("Blocked contracts"), f"{counts.get('blocked'):,}"))
        out.append(("suspended", _("Suspended contracts"), f"{counts.get('suspended'):,}"))
        out.append(("active", _("Active contracts"), f"{counts.get('active'):,}"))
    elif billing is not None:
        out.append(("blocked", _("Blocked for debt"), _count(bounded_len(billing.blocked.keys()))))
    applications = root.get("applications")
    if applications is not None:
        pending = applications.pending(limit=100)
        out.append(("tasks", _("Applications to decide"),
                    f"{len(pending)}{'+' if len(pending) >= 100 else ''}"))
    outbox = getattr(root, "outbox", None)
    if outbox is not None:
        out.append(("outbox", _("Messages waiting to be sent"),
                    _count(bounded_len(outbox.pending.keys()))))
    return out


@view_config(context=IRoot, renderer="portmonet:web/templates/dashboard.pt",
             permission="view")
def dashboard(context, request):
    plots = []
    day_figures = getattr(context, "day_figures", None)
    if day_figures is not None and request.has_permission("view_reports", context):
        for name, title in KNOWN.items():
            series = day_figures.series(name, days=14)
            if name in OPTIONAL and not any(row[1] for row in series):
                continue
            label = LABELS.get(name, format_amount)
            value = 1 if name in COUNTED else 2
            plots.append({"id": f"plot-{name}", "title": title,
                          "total": label(sum(row[value] for row in series)),
                          "svg": svg(bar_plot(series, value_index=value, label=label),
                                     f"plot-{name}")})
    memo = request.registry.pm_dashboard_memo
    return {"page_title": _("Dashboard"), "figures": _figures(context),
            "operations": memo.get("operations", lambda: _operations(context)),
            "plots": plots}


@view_config(context=IRoot, name="health", renderer="json", permission=NO_PERMISSION_REQUIRED)
def health(context, request):
    """For load balancers and ``make run``: the database answers."""
    return {"status": "ok", "subscribers": len(context["subscribers"])}


@view_config(context=IRoot, name="search", renderer="portmonet:web/templates/search.pt",
             permission="view")
def search(context, request):
    form = SearchForm.from_request(request, get=True)
    try:
        page = max(0, min(int(request.GET.get("page", 0)), MAX_PAGE))
    except ValueError:
        page = 0
    rows, total, at_least, more = [], 0, 0, False
    if form.validate():
        ids, total, at_least, more = search_page(context, form.q.data, page, PAGE_SIZE)
        subscribers = context["subscribers"].data
        prefetch_keys([(subscribers, i) for i in ids])
        rows = [subscribers[i] for i in ids if i in subscribers]
        prefetch(rows)
        if total == 1 and page == 0 and rows and request.GET.get("go") == "1":
            return HTTPFound(request.resource_url(rows[0]))
    else:
        request.response.status_int = 200 if not request.GET else 400
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE if total is not None else None
    return {"page_title": _("Search"), "form": form, "rows": rows, "total": total,
            "at_least": at_least, "more": more, "page": page, "pages": pages,
            "q": form.q.data or ""}

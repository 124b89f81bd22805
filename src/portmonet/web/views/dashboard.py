"""The first page an operator sees, and the search box."""

from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import clock
from ..i18n import _
from ...interfaces import IRoot
from ...money import format_amount
from ..figures import COUNTED, KNOWN, LABELS, OPTIONAL, bar_plot, bounded_len, svg
from ..forms import SearchForm
from ..helpers import prefetch, prefetch_keys
from ..panels import figures
from ..search import MAX_PAGE, search_page

PAGE_SIZE = 20


def count_text(pair):
    """(n, exact?) of a bounded count as the dashboard shows it: "N" or "N+"."""
    n, exact = pair
    return f"{n:,}" if exact else f"{n:,}+"


def _usage_waiting(root):
    usage = getattr(root, "usage", None)
    return len(usage) if usage is not None and hasattr(usage, "__len__") else None


def _payments_today(root):
    """Every payment channel records "payments" where it books
    (payments.credit), the web cash desk "cashdesk_payments"."""
    day_figures = getattr(root, "day_figures", None)
    count, amount = 0, 0
    if day_figures is not None:
        today = clock.today()
        for name in ("payments", "cashdesk_payments"):
            _day, n, total = day_figures.series(name, days=1, today=today)[0]
            count, amount = count + n, amount + total
    return f"{count:,} / {format_amount(amount)}"


def _contracts(status):
    """Contracts per status: counters kept by Contract
    (model.contract.StatusCounts), O(1)."""
    def value(root):
        counts = getattr(root, "contract_counts", None)
        return f"{counts.get(status):,}" if counts is not None else None
    return value


def _tasks(root):
    applications = root.get("applications")
    if applications is None:
        return None
    pending = applications.pending(limit=100)
    return f"{len(pending)}{'+' if len(pending) >= 100 else ''}"


def _outbox(root):
    outbox = getattr(root, "outbox", None)
    return count_text(bounded_len(outbox.pending.keys())) if outbox is not None else None


def includeme(config):
    """The core's figures; features add theirs (``config.add_figure``):
    "figures" cost O(1) (counters kept by the model, queue lengths);
    "operations" are what an operator acts on today, read in O(1) from a
    gauge or counted up to ``figures.CAP`` ("N+" beyond it), memoised per
    process (see ``dashboard``)."""
    add = config.add_figure
    add("figures", "subscribers", _("Subscribers"), lambda root: len(root["subscribers"]), 10)
    add("figures", "tariffs", _("Tariffs"), lambda root: len(root["tariffs"]), 20)
    add("figures", "equipment", _("Equipment"), lambda root: len(root["equipment"]), 30)
    add("figures", "staff", _("Staff users"), lambda root: len(root["staff"]), 40)
    add("figures", "usage", _("Usage records waiting"), _usage_waiting, 50)
    add("operations", "payments-today", _("Payments today"), _payments_today, 20)
    add("operations", "blocked", _("Blocked contracts"), _contracts("blocked"), 40)
    add("operations", "suspended", _("Suspended contracts"), _contracts("suspended"), 41)
    add("operations", "active", _("Active contracts"), _contracts("active"), 42)
    add("operations", "tasks", _("Applications to decide"), _tasks, 50)
    add("operations", "outbox", _("Messages waiting to be sent"), _outbox, 60)


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
    return {"page_title": _("Dashboard"),
            "figures": figures(request.registry, context, "figures"),
            "operations": memo.get("operations",
                                   lambda: figures(request.registry, context, "operations")),
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

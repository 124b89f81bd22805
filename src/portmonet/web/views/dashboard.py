"""The first page an operator sees, and the search box."""
from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..i18n import _
from ...interfaces import IRoot
from ...money import format_amount
from ..figures import KNOWN, bar_plot
from ..forms import SearchForm
from ..search import page_of, search_ids

PAGE_SIZE = 20


def _figures(root):
    """Figures that cost O(1): counters kept by the model, queue lengths."""
    figures = [(_("Subscribers"), len(root["subscribers"])),
               (_("Tariffs"), len(root["tariffs"])),
               (_("Equipment"), len(root["equipment"])),
               (_("Staff users"), len(root["staff"]))]
    usage = getattr(root, "usage", None)
    if usage is not None and hasattr(usage, "__len__"):
        figures.append((_("Usage records waiting"), len(usage)))
    return figures


@view_config(context=IRoot, renderer="portmonet:web/templates/dashboard.pt",
             permission="view")
def dashboard(context, request):
    plots = []
    day_figures = getattr(context, "day_figures", None)
    if day_figures is not None and request.has_permission("view_reports", context):
        for name, title in KNOWN.items():
            series = day_figures.series(name, days=14)
            plots.append({"id": f"plot-{name}", "title": title,
                          "total": format_amount(sum(row[2] for row in series)),
                          "svg": bar_plot(series, label=format_amount)})
    return {"page_title": _("Dashboard"), "figures": _figures(context), "plots": plots}


@view_config(context=IRoot, name="health", renderer="json", permission=NO_PERMISSION_REQUIRED)
def health(context, request):
    """For load balancers and ``make run``: the database answers."""
    return {"status": "ok", "subscribers": len(context["subscribers"])}


@view_config(context=IRoot, name="search", renderer="portmonet:web/templates/search.pt",
             permission="view")
def search(context, request):
    form = SearchForm.from_request(request, get=True)
    try:
        page = max(0, min(int(request.GET.get("page", 0)), 100_000))
    except ValueError:
        page = 0
    rows, total = [], 0
    if form.validate():
        ids = search_ids(context, form.q.data)
        total = len(ids)
        subscribers = context["subscribers"]
        rows = [subscribers.data[i] for i in page_of(ids, page, PAGE_SIZE)
                if i in subscribers.data]
        if total == 1 and page == 0 and request.GET.get("go") == "1":
            return HTTPFound(request.resource_url(rows[0]))
    else:
        request.response.status_int = 200 if not request.GET else 400
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    return {"page_title": _("Search"), "form": form, "rows": rows, "total": total,
            "page": page, "pages": pages, "q": form.q.data or ""}

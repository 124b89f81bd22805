"""What the RADIUS feature shows on the core's pages: on the subscriber's
card and office home the sessions (online and recent, paged on
``@@sessions``), the refused logins (staff only) and the traffic per day;
on the dashboard the sessions online.

Every function reads one page of one subscriber's objects by walking a
BTree's keys downward from a cursor (``tree.maxKey(below)``), so a page
costs the same whether the subscriber has ten sessions or a hundred
thousand, and whether the database holds ten subscribers or a million.
"""
import datetime

from .. import clock
from ..interfaces import ISubscriber
from ..web.figures import bar_plot, bounded_len, svg
from ..web.i18n import _
from ..web.panels import CARD, OFFICE
from ..web.views.dashboard import count_text
from .interfaces import INas
from . import queries

TEMPLATES = "portmonet:radius/templates/"


def _int(request, name):
    text = request.GET.get(name, "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def sessions_panel(subscriber, request, slot):
    """Online and recent sessions; the page walks back with ``before``."""
    if getattr(request.root, "radius", None) is None:
        return None
    before = _int(request, "before") if slot.page else None
    got = queries.subscriber_sessions(request.root, subscriber, limit=slot.limit,
                                      before_us=before)
    online, recent, cursor = got["online"], got["history"], got["next"]
    if not cursor:
        more = None
    elif slot.page:
        more = slot.next_url(before=cursor)
    else:
        more = slot.page_url(subscriber, before=cursor)
    return {"online": [] if before else online, "recent": recent, "more": more}


def rejects_panel(subscriber, request, slot):
    """Why the network refused a login: for employees, not the office."""
    if getattr(request.root, "radius", None) is None:
        return None
    return {"rejects": queries.subscriber_rejects(request.root, subscriber, slot.limit)}


def megabytes(octets):
    return f"{octets / 1e6:.1f} MB"


def traffic_per_day(root, subscriber, days=14, today=None):
    """[(date, 0, octets in + out)] for the last *days* days, oldest first
    (``queries.traffic_per_day`` adds the daily totals of purged sessions)."""
    today = today or clock.today()
    first = today - datetime.timedelta(days=days - 1)
    return [(row[0], 0, row[1] + row[2]) for row in
            queries.traffic_per_day(root, subscriber, first, today + datetime.timedelta(days=1))]


def traffic_panel(subscriber, request, slot, days=14):
    if getattr(request.root, "radius", None) is None:
        return None
    series = traffic_per_day(request.root, subscriber, days)
    return {"total": megabytes(sum(row[2] for row in series)),
            "svg": svg(bar_plot(series, value_index=2, label=megabytes), "plot-traffic")}


def online_figure(root):
    """Sessions online: the gauge accounting keeps, else a count over every
    NAS's open sessions, at most ``web.figures.CAP``."""
    if getattr(root, "radius", None) is None:
        return None
    day_figures = getattr(root, "day_figures", None)
    online = day_figures.gauge("online_sessions") if day_figures is not None else None
    if online is not None:
        return f"{online:,}"
    return count_text(bounded_len(key for device in root["equipment"].values()
                                  if INas.providedBy(device) for key in device.online.keys()))


def includeme(config):
    config.add_panel("sessions", sessions_panel, context=ISubscriber, where=(CARD, OFFICE),
                     order=10, title=_("Sessions"), renderer=TEMPLATES + "sessions_panel.pt")
    config.add_panel("rejects", rejects_panel, context=ISubscriber, where=(CARD,), order=11,
                     title=_("Refused logins"), renderer=TEMPLATES + "rejects_panel.pt",
                     page=False)
    config.add_panel("traffic", traffic_panel, context=ISubscriber, where=(CARD, OFFICE),
                     order=12, title=_("Traffic per day, last 14 days"),
                     renderer=TEMPLATES + "traffic_panel.pt", page=False)
    config.add_figure("operations", "online", _("Sessions online"), online_figure, order=10)

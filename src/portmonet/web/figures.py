"""Figures per day for the dashboard's plots, kept as they happen.

``record(root, "cashdesk_payments", amount)`` adds one event and its amount
to today's figures.  Each (day, name) holds two ``BTrees.Length`` counters,
which merge concurrent additions instead of conflicting, so any process
(the cash desk here; payment channels, the rater) can record without
slowing the others.  Reading a fortnight is 2 × 14 lookups, never a scan.
"""
import datetime
import threading
import time

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .. import clock
from .i18n import _

# The series the dashboard plots (name -> title); a feature that records a
# series adds it here.
KNOWN = {"cashdesk_payments": _("Cash desk payments per day, last 14 days"),
         # Recorded by the features that see them happen (one call each in
         # their transaction): all payment channels, and Internet traffic
         # (octets) as the RADIUS accounting counts it.
         "payments": _("Payments per day (all channels), last 14 days"),
         "traffic": _("Internet traffic per day, last 14 days")}
# Series whose count (not amount) is plotted, and how a value is shown
# (default: an amount of money).
COUNTED = set()
LABELS = {"traffic": lambda octets: f"{octets / 1e9:.1f} GB"}
# Series drawn only once something has been recorded in the fortnight.
OPTIONAL = {"payments", "traffic"}


class DayFigures(Persistent):
    __name__ = "day_figures"
    __parent__ = None

    def __init__(self):
        self.days = OOBTree()      # (ISO day, name) -> (count Length, amount Length)

    # Gauges (a level that goes up and down, e.g. sessions online): made on
    # first use, so a database from before them needs no migration.
    gauges = None

    def adjust(self, name, delta):
        if self.gauges is None:
            self.gauges = OOBTree()
        held = self.gauges.get(name)
        if held is None:
            held = self.gauges[name] = Length()
        held.change(delta)

    def gauge(self, name):
        held = self.gauges.get(name) if self.gauges is not None else None
        return held() if held is not None else None

    def record(self, name, amount=0, day=None):
        key = ((day or clock.today()).isoformat(), name)
        held = self.days.get(key)
        if held is None:
            held = self.days[key] = (Length(), Length())
        held[0].change(1)
        if amount:
            held[1].change(amount)

    def series(self, name, days=14, today=None):
        """[(date, count, amount)] for the last *days* days, oldest first."""
        today = today or clock.today()
        out = []
        for n in range(days - 1, -1, -1):
            day = today - datetime.timedelta(days=n)
            held = self.days.get((day.isoformat(), name))
            out.append((day, held[0]() if held else 0, held[1]() if held else 0))
        return out


def record(root, name, amount=0):
    figures = getattr(root, "day_figures", None)
    if figures is not None:
        figures.record(name, amount)


def adjust(root, name, delta):
    """For a feature's code, in its transaction: move the gauge *name*
    (e.g. ``adjust(root, "online_sessions", +1)`` when a session opens)."""
    figures = getattr(root, "day_figures", None)
    if figures is not None:
        figures.adjust(name, delta)


CAP = 10_000


def bounded_len(items, cap=CAP):
    """How many *items* (a lazy BTree sequence), counting at most *cap*:
    (n, exact?).  For figures nobody keeps a counter of yet: a BTree's
    ``len`` reads every bucket."""
    n = 0
    for _item in items:
        n += 1
        if n >= cap:
            return n, False
    return n, True


class Memo:
    """A figure computed at most once per *ttl* seconds per process: the
    dashboard may be opened by every employee every minute."""

    def __init__(self, ttl=30.0):
        self.ttl = ttl
        self._held = {}
        self._lock = threading.Lock()

    def get(self, key, compute):
        now = time.monotonic()
        with self._lock:
            held = self._held.get(key)
            if held is not None and now - held[0] < self.ttl:
                return held[1]
        value = compute()
        with self._lock:
            self._held[key] = (now, value)
        return value


def bar_plot(series, value_index=2, width=560, height=140, label=str):
    """An inline SVG bar chart (no script: the CSP allows none): a dict the
    template draws, with bars scaled to the largest value."""
    values = [row[value_index] for row in series]
    top = max(values) or 1
    step = width / max(len(values), 1)
    bars = []
    for i, (row, value) in enumerate(zip(series, values)):
        h = int((height - 30) * value / top)
        bars.append({"x": int(i * step) + 2, "y": height - 20 - h, "w": max(int(step) - 4, 1),
                     "h": h, "day": f"{row[0].day:02d}.{row[0].month:02d}", "value": label(value)})
    return {"width": width, "height": height, "bars": bars}


def svg(plot, element_id):
    """The plot as inline SVG markup.  Built here rather than in a template
    (a page with a plot spent a sixth of its rendering on the bars); every
    value that is not a number we computed is escaped, so this is no
    ``structure`` on user data."""
    from markupsafe import Markup, escape
    h = plot["height"]
    parts = [f'<svg class="plot" id="{escape(element_id)}" xmlns="http://www.w3.org/2000/svg" '
             f'role="img" width="{int(plot["width"])}" height="{int(h)}">']
    for b in plot["bars"]:
        parts.append(f'<g><rect x="{int(b["x"])}" y="{int(b["y"])}" width="{int(b["w"])}" '
                     f'height="{int(b["h"])}"><title>{escape(b["day"])}: {escape(b["value"])}'
                     f'</title></rect><text x="{int(b["x"])}" y="{int(h) - 6}">'
                     f'{escape(b["day"])}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))

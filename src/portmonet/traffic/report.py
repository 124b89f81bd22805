"""What flows counted, per subscriber / exporter (access point) / unknown,
over a period, and how it compares with RADIUS accounting.

The discrepancy report puts side by side, per login and per NAS, the
octets RADIUS accounting reported for sessions that started in the period
(with the daily totals retention kept of purged ones) and the octets the
flows counted; a row is over the threshold when the two differ by more
than ``traffic.discrepancy_percent`` % of the larger **and** more than
``traffic.discrepancy_octets``.  Directions are compared as totals: RADIUS
calls the subscriber's upload ``octets_in`` (Acct-Input), flows and
tariffs call the download ``in``.
"""
import datetime

from .. import clock
from ..radius.sessions import CLOSED, ONLINE
from .store import totals

FAR = 1 << 62


def period_us(text):
    """[start, end) µs of 'YYYY-MM' or 'YYYY-MM-DD' in the operator's zone;
    None: all time."""
    if not text:
        return 0, FAR
    try:
        first = datetime.date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        raise ValueError(f"period {text!r}: YYYY-MM or YYYY-MM-DD expected") from None
    last = clock.next_month(first) if len(text) == 7 else first + datetime.timedelta(days=1)
    return clock.day_start_us(first), clock.day_start_us(last)


def table(root, scope, period=None, top=None):
    """[(name, class, in, out)], the largest first."""
    since, until = period_us(period)
    rows = [(name, cls, i, o) for (name, cls), (i, o) in
            totals(root, scope, since_us=since, until_us=until).items()]
    rows.sort(key=lambda r: (-(r[2] + r[3]), r[0], r[1]))
    return rows[:top] if top else rows


def _flows_by(root, scope, since, until):
    out = {}
    for (name, _), (i, o) in totals(root, scope, since_us=since, until_us=until).items():
        out[name] = out.get(name, 0) + i + o
    return out


def _radius(root, since, until):
    """({login: octets}, {nas: octets}) of sessions that started in the period."""
    by_login, by_nas = {}, {}
    state = root.radius
    for (login, kind, start_us, nas, _), session in state.by_login.items():
        if kind in (ONLINE, CLOSED) and since <= start_us < until:
            n = session.octets_in + session.octets_out
            by_login[login] = by_login.get(login, 0) + n
            by_nas[nas] = by_nas.get(nas, 0) + n
    # retention's daily totals: (login, day ordinal) -> (in, out, seconds, sessions)
    for (login, day), figures in (state.daily or {}).items():
        if since <= clock.day_start_us(datetime.date.fromordinal(day)) < until:
            by_login[login] = by_login.get(login, 0) + figures[0] + figures[1]
    return by_login, by_nas


class Thresholds:
    def __init__(self, settings):
        self.percent = float(settings.get("traffic.discrepancy_percent", 5))
        self.octets = int(settings.get("traffic.discrepancy_octets", 100_000_000))

    def over(self, a, b):
        gap = abs(a - b)
        return gap > self.octets and gap * 100 > self.percent * max(a, b)


def discrepancy(root, period, thresholds):
    """[(what, name, radius octets, flow octets, over)]: per login, then
    per NAS against its exporters' attributed traffic."""
    since, until = period_us(period)
    radius_login, radius_nas = _radius(root, since, until)
    flows_login = _flows_by(root, "subscriber", since, until)
    seen = _flows_by(root, "exporter", since, until)
    unknown = _flows_by(root, "unknown", since, until)
    flows_nas = {}
    for exporter in root["traffic"].exporters.values():
        if exporter.nas:
            attributed = seen.get(exporter.name, 0) - unknown.get(exporter.name, 0)
            flows_nas[exporter.nas] = flows_nas.get(exporter.nas, 0) + attributed
    rows = []
    for what, radius, flows in (("login", radius_login, flows_login),
                                ("nas", radius_nas, flows_nas)):
        for name in sorted(set(radius) | set(flows)):
            a, b = radius.get(name, 0), flows.get(name, 0)
            if a or b:
                rows.append((what, name, a, b, thresholds.over(a, b)))
    return rows

"""Read-only questions the web's session and traffic pages ask.

Sessions carry their own counters, so traffic per session, per subscriber
(login) and per access point (the NAS's ``access_point``) is summed from
them; sessions purged by the retention (``portmonet radius purge``) live on
as daily totals per login, which :func:`traffic_per_day` adds in.  Nothing
here writes.

For the subscriber's card and the office:

- :func:`subscriber_sessions` — online now, and the history page by page;
- :func:`traffic_per_day` — a series of days for a plot;
- :func:`subscriber_rejects` — the newest refusals and their reasons.
"""
import datetime

from .. import clock
from .interfaces import INas
from .retention import daily_totals, day_of
from .sessions import CLOSED, FAR


def subscriber_logins(subscriber):
    """The Internet logins of a subscriber's contracts."""
    out = []
    for contract in subscriber.contracts():
        for service in contract.services("internet"):
            if getattr(service, "login", None):
                out.append(service.login)
    return out


def subscriber_sessions(root, subscriber, limit=20, before_us=None):
    """A subscriber's sessions over all their logins: ``{"online": [...],
    "history": [...], "next": cursor}`` — every online session, and up to
    *limit* closed ones that started before *before_us* (None: now), newest
    first; pass ``next`` as *before_us* for the following page (None: no
    more)."""
    state = root.radius
    online, closed = [], []
    before = FAR if before_us is None else before_us
    for login in subscriber_logins(subscriber):
        online += state.online_for(login)
        keys = list(state.by_login.keys((login, CLOSED), (login, CLOSED, before),
                                        excludemax=True))
        closed += [(k[2], k) for k in keys[-(limit + 1):]]
    closed.sort(reverse=True)
    page = closed[:limit]
    online.sort(key=lambda s: s.start_us, reverse=True)
    return {"online": online, "history": [state.by_login[k] for _, k in page],
            "next": page[-1][0] if len(closed) > limit else None}


def subscriber_rejects(root, subscriber, limit=10):
    """[(time_us, login, reason, nas, detail)] over the subscriber's logins,
    newest first: why the network refused them lately."""
    rows = [(us, login, reason, nas, detail)
            for login in subscriber_logins(subscriber)
            for us, reason, nas, detail in root.radius.rejects_of(login, limit)]
    rows.sort(reverse=True)
    return rows[:limit]


def traffic_per_day(root, subscriber, since, until):
    """[(date, octets_in, octets_out, seconds)] for each day of [since,
    until) (the operator's days), over the subscriber's logins: a session's traffic
    counts on the day it started; purged sessions come from the daily totals."""
    first, last = since.toordinal(), until.toordinal()
    days = {d: [0, 0, 0] for d in range(first, last)}
    since_us, until_us = clock.day_start_us(since), clock.day_start_us(until)
    for login in subscriber_logins(subscriber):
        for s in root.radius.sessions_of(login, since_us, until_us):
            row = days.get(day_of(s.start_us))
            if row is not None:
                row[0] += s.octets_in
                row[1] += s.octets_out
                row[2] += s.seconds
        for day, (i, o, sec, _) in daily_totals(root, login, first, last).items():
            row = days[day]
            row[0] += i
            row[1] += o
            row[2] += sec
    return [(datetime.date.fromordinal(d), *days[d]) for d in range(first, last)]


def nases(root):
    return [d for d in root["equipment"].values() if INas.providedBy(d)]


def online_by_nas(root):
    """{nas name: [online sessions]}."""
    return {nas.name: list(nas.online.values()) for nas in nases(root)}


def online_of(root, login):
    return root.radius.online_for(login)


def sessions_of(root, login, since_us=0, until_us=None):
    """The login's sessions that started in [since, until), newest first."""
    return root.radius.sessions_of(login, since_us, FAR if until_us is None else until_us)


def traffic_of(root, login, since_us=0, until_us=None):
    """{"octets_in", "octets_out", "seconds", "sessions"} for a login."""
    total = {"octets_in": 0, "octets_out": 0, "seconds": 0, "sessions": 0}
    for s in sessions_of(root, login, since_us, until_us):
        total["octets_in"] += s.octets_in
        total["octets_out"] += s.octets_out
        total["seconds"] += s.seconds
        total["sessions"] += 1
    return total


def traffic_by_access_point(root, since_us=0, until_us=None):
    """{access point (or NAS name): {"octets_in", "octets_out", "sessions"}}
    over the sessions that started in [since, until) — a scan of those NASes'
    sessions, for reports rather than every page view."""
    out = {}
    for nas in nases(root):
        key = nas.access_point or nas.name
        row = out.setdefault(key, {"octets_in": 0, "octets_out": 0, "sessions": 0})
        for s in nas.sessions.values():
            if s.start_us >= since_us and (until_us is None or s.start_us < until_us):
                row["octets_in"] += s.octets_in
                row["octets_out"] += s.octets_out
                row["sessions"] += 1
    return out

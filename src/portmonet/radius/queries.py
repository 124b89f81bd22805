"""Read-only questions the web's session and traffic pages ask.

Sessions carry their own counters, so traffic per session, per subscriber
(login) and per access point (the NAS's ``access_point``) is summed from
them; nothing here writes.
"""
from .interfaces import INas


def nases(root):
    return [d for d in root["equipment"].values() if INas.providedBy(d)]


def online_by_nas(root):
    """{nas name: [online sessions]}."""
    return {nas.name: list(nas.online.values()) for nas in nases(root)}


def online_of(root, login):
    return root.radius.online_for(login)


def sessions_of(root, login, since_us=0, until_us=None):
    """The login's sessions that started in [since, until), newest first."""
    return [s for s in root.radius.sessions_of(login, since_us)
            if until_us is None or s.start_us < until_us]


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

"""Retention: closed sessions older than N days are purged, their traffic
kept as daily totals per login.

``root.radius.daily[(login, day)]`` (day: a proleptic ordinal of the operator's
day the session started, ``portmonet.clock``) -> (octets_in, octets_out, seconds, sessions).
Purging is idempotent and resumable: each batch is one transaction that
removes its sessions from ``by_login`` and their NAS's ``sessions`` and adds
them to the daily totals, so a session is counted exactly once.
"""
from BTrees.OOBTree import OOBTree

from .. import clock
from .sessions import CLOSED

DAY_US = 86_400 * 1_000_000


def day_of(us):
    """The operator's day of a moment, as a date ordinal (the totals' key)."""
    return clock.day_of(us).toordinal()


def daily(root):
    state = root.radius
    if state.daily is None:          # a database the evolve step has not reached
        state.daily = OOBTree()
    return state.daily


def purge_old(db, days, batch=1000, user="portmonet radius purge", now_us=None, progress=None):
    """Purge closed sessions that stopped more than *days* ago, *batch* per
    transaction; returns how many."""
    from .. import db as dbmod
    before = (clock.now_us() if now_us is None else now_us) - days * DAY_US
    after, total = None, 0
    while True:
        def one(root, after=after):
            items, last, exhausted = candidates(root, before, after, batch)
            return purge(root, items), last, exhausted
        n, after, exhausted = dbmod.transact(db, one, user, f"purge sessions closed before "
                                             f"{days} days ago ({batch} per batch)")
        total += n
        if progress is not None and n:
            progress(n)
        if exhausted:
            return total


def candidates(root, before_us, after=None, limit=1000):
    """Up to *limit* (key, session) of closed sessions that stopped before
    *before_us*, in index order from after the key *after*; returns (items,
    the last key looked at, whether the index is exhausted)."""
    out = []
    index = root.radius.by_login
    keys = index.keys(min=after, excludemin=True) if after is not None else index.keys()
    scanned = 0
    last = after
    for key in keys:
        scanned += 1
        last = key
        # Cheap tests on the key first: closed, and started before the horizon.
        if key[1] == CLOSED and key[2] < before_us:
            session = index[key]
            if session.stop_us and session.stop_us < before_us:
                out.append((key, session))
                if len(out) >= limit:
                    break
        if scanned >= limit * 20:
            break
    else:
        return out, last, True
    return out, last, False


def purge(root, items):
    """Fold *items* (key, session) into the daily totals and forget them."""
    totals = daily(root)
    index = root.radius.by_login
    equipment = root["equipment"]
    for key, session in items:
        if index.get(key) is not session:
            continue                        # purged already (a retried batch)
        day = (session.login, day_of(session.start_us))
        i, o, s, n = totals.get(day, (0, 0, 0, 0))
        totals[day] = (i + session.octets_in, o + session.octets_out, s + session.seconds, n + 1)
        del index[key]
        nas = equipment.get(session.nas)
        sessions = getattr(nas, "sessions", None)
        if sessions is not None:
            for name in (session.session_id, f"{session.session_id}@{session.start_us}"):
                if sessions.get(name) is session:
                    del sessions[name]
    return len(items)


def daily_totals(root, login, since_day=None, until_day=None):
    """{day ordinal: (octets_in, octets_out, seconds, sessions)} kept for *login*."""
    totals = root.radius.daily
    if totals is None:
        return {}
    lo = (login, since_day if since_day is not None else 0)
    hi = (login, until_day if until_day is not None else 1 << 40)
    return {day: v for (_, day), v in totals.items(lo, hi, excludemax=True)}

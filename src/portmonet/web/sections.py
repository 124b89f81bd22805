"""The sections of the subscriber's card and office, one page each.

Every function reads one page of one subscriber's objects by walking a
BTree's keys downward from a cursor (``tree.maxKey(below)``), so a page
costs the same whether the subscriber has ten records or a hundred
thousand, and whether the database holds ten subscribers or a million.
The features own the data (``root.radius``, ``root["rating"]``,
``root["billing"]``); nothing here writes.
"""
import datetime

from .. import clock
from .figures import bar_plot, svg

DAY_US = 86_400 * 1_000_000
HIGH = "\U0010ffff"


def logins_of(subscriber):
    return [s.login for c in subscriber.contracts() for s in c.services("internet")]


def _radius(root):
    return getattr(root, "radius", None)


def _queries():
    from ..radius import queries
    return queries


def subscriber_sessions(root, subscriber, before_us=None, limit=20):
    """(online sessions, closed sessions newest first, cursor or None).

    The RADIUS feature answers (``radius.queries.subscriber_sessions``,
    which knows how it keeps sessions); a database of the RADIUS feature
    before that function is read here from its ``history`` index."""
    if _radius(root) is None:
        return [], [], None
    queries = _queries()
    if hasattr(queries, "subscriber_sessions"):
        got = queries.subscriber_sessions(root, subscriber, limit=limit, before_us=before_us)
        return got["online"], got["history"], got["next"]
    logins = logins_of(subscriber)
    online = sorted((s for login in logins for s in queries.online_of(root, login)),
                    key=lambda s: s.start_us, reverse=True)
    history = _radius(root).history
    top = (before_us - 1) if before_us else (1 << 62)
    rows = []
    for login in logins:
        # The history index holds the open sessions too: read past them.
        want = limit + 1 + len([s for s in online if s.login == login])
        rows.extend(s for s in (history[k] for k in _history_keys(history, login, top, want))
                    if not s.online)
    rows.sort(key=lambda s: s.start_us, reverse=True)
    more = len(rows) > limit
    rows = rows[:limit]
    return online, rows, (rows[-1].start_us if more and rows else None)


def rejects(root, subscriber, limit=10):
    """The newest RADIUS refusals of the subscriber's logins, with reasons
    (``radius.queries.subscriber_rejects``); none without the feature."""
    if _radius(root) is None:
        return []
    return _queries().subscriber_rejects(root, subscriber, limit)


def _history_keys(history, login, top_us, limit):
    """Up to about *limit* history keys of *login* that started at or before
    *top_us*, newest first (sessions starting in the same microsecond on two
    NASes come together)."""
    keys = []
    hi = (login, top_us, HIGH)
    while len(keys) < limit:
        try:
            key = history.maxKey(hi)
        except ValueError:
            break
        if key[0] != login:
            break
        start = key[1]
        keys.extend(reversed(list(history.keys((login, start), (login, start, HIGH)))))
        hi = (login, start - 1, HIGH)
    return keys


def traffic_per_day(root, subscriber, days=14, today=None, max_sessions=5000):
    """[(date, 0, octets in + out)] for the last *days* days (by session
    start), oldest first.  From ``radius.queries.traffic_per_day`` (which
    adds the daily totals of purged sessions) where the RADIUS feature has
    it; else from the sessions of those days, at most *max_sessions*."""
    today = today or clock.today()
    first = today - datetime.timedelta(days=days - 1)
    if _radius(root) is None:
        return [(first + datetime.timedelta(days=n), 0, 0) for n in range(days)]
    queries = _queries()
    if hasattr(queries, "traffic_per_day"):
        return [(row[0], 0, row[1] + row[2]) for row in
                queries.traffic_per_day(root, subscriber, first, today + datetime.timedelta(days=1))]
    since = clock.day_start_us(first)
    per_day = {first + datetime.timedelta(days=n): [0, 0] for n in range(days)}
    seen = 0
    for login in logins_of(subscriber):
        for session in _radius(root).history.values((login, since), (login, 1 << 62, HIGH)):
            row = per_day.get(clock.day_of(session.start_us))
            if row is not None:
                row[0] += 1
                row[1] += session.octets_in + session.octets_out
            seen += 1
            if seen >= max_sessions:
                break
    return [(day, n, octets) for day, (n, octets) in sorted(per_day.items())]


def online_count(root, cap):
    """Sessions online over every NAS (each keeps its open ones), counting
    at most *cap*: (n, exact?)."""
    from ..radius.interfaces import INas
    n = 0
    for device in root["equipment"].values():
        if INas.providedBy(device):
            for _ in device.online.keys():
                n += 1
                if n >= cap:
                    return n, False
    return n, True


def megabytes(octets):
    return f"{octets / 1e6:.1f} MB"


def traffic_plot(root, subscriber, days=14):
    series = traffic_per_day(root, subscriber, days)
    return {"total": megabytes(sum(row[2] for row in series)),
            "svg": svg(bar_plot(series, value_index=2, label=megabytes), "plot-traffic")}


def calls(root, account, before_key=None, limit=20, max_scan=500):
    """(rated telephone calls of *account* newest first, cursor or None).

    The rater posts one charge per rated record with the cause
    ``usage:<source id>``; the account's ledger is already ordered by time,
    so its newest usage charges lead to the rated records (``rating.find``)
    without scanning the rating's tree of every subscriber's records."""
    rating = root.get("rating") if hasattr(root, "get") else None
    tree = account.ledger
    rows = []
    hi = None if before_key is None else before_key - 1
    try:
        key = tree.maxKey(hi) if hi is not None else tree.maxKey()
    except ValueError:
        return rows, None
    last = None
    for _step in range(max_scan):
        if key is None:
            break
        posting = tree[key]
        if posting.kind == "charge" and posting.cause.startswith("usage:") and rating is not None:
            rated = rating.find(posting.cause[6:].split("#r")[0])
            if rated is not None and rated.kind == "call":
                if len(rows) >= limit:
                    return rows, last
                rows.append({"posting": posting, "rated": rated, "record": rated.record})
                last = key
        try:
            key = tree.maxKey(key - 1)
        except ValueError:
            key = None
    # Stopped by max_scan with more ledger left: offer the next stretch.
    return rows, (key + 1 if key is not None else None)


def invoices(root, account_number, before_period=None, limit=12):
    """(invoices of one account newest period first, cursor or None).

    Invoices are kept by (period, account): one lookup per billed period,
    newest first, never a scan of other accounts' invoices."""
    billing = root.get("billing") if hasattr(root, "get") else None
    if billing is None:
        return [], None
    from .helpers import prefetch_keys
    runs = billing.runs
    periods = []
    period = _last_key(runs) if before_period is None else _below(runs, before_period)
    while period is not None and len(periods) < 120:
        periods.append(period)
        period = _below(runs, period)
    # Usually every period has an invoice: fetch the first page's buckets at once.
    prefetch_keys([(billing.invoices, (p, account_number)) for p in periods[:limit + 1]])
    rows = []
    for period in periods:
        inv = billing.invoices.get((period, account_number))
        if inv is not None:
            if len(rows) >= limit:
                return rows, rows[-1].period
            rows.append(inv)
    return rows, None


def _last_key(tree):
    try:
        return tree.maxKey()
    except ValueError:
        return None


def _below(tree, text):
    """The greatest key of *tree* strictly below the string *text*."""
    if not text:
        return None
    try:
        return tree.maxKey(text[:-1] + chr(ord(text[-1]) - 1) + HIGH)
    except ValueError:
        return None


def payments(account, before_key=None, limit=10, max_scan=300):
    """(payments newest first, cursor or None), from the ledger's newest
    *max_scan* postings (the ledger filtered by kind has them all)."""
    from .views.contract import newest
    rows, more = newest(account.ledger, limit, kind="payment", max_scan=max_scan,
                        before_key=before_key)
    return rows, (rows[-1].key if more and rows else None)

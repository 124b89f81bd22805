"""A window's sums into the database, in small transactions.

Each part of a window (up to ``PART`` sums) is one transaction: its usage
records for the rater (kind ``traffic``, one per login, class, minute (or
``flows.span``) and exporter, with ``attrs["class"]``), the hourly series of the subscriber,
the exporter and the exporter's ``unknown``, and the part's id in
``/traffic.windows``.  A part already there is not written again, and a
record's ``source_id`` (minute, exporter, login, class, part id) is
unique in the usage queue: a commit retried after an ambiguous failure
(the connection broke during the vote) counts nothing twice.
"""
from ..ledger.account import now_us
from ..ops.bulk import prefetch
from ..rating.warm import BucketFinder
from ..usage import UsageRecord

HOUR_MS = 3_600_000
PART = 500


def parts(window_id, sums, size=PART):
    """(part id, [(key, value) ...]) of a window's sums, in a stable order."""
    items = sorted(sums.items(), key=_order)
    for n, start in enumerate(range(0, len(items), size)):
        yield f"{window_id}:{n}", items[start:start + size]


def _order(item):
    exporter, login, cls, minute = item[0]
    return (minute, exporter, login or "", cls)


def _add(series, key, octets_in, octets_out):
    held = series.get(key)
    if held is not None:
        octets_in += held[0]
        octets_out += held[1]
    series[key] = (octets_in, octets_out)


def write_part(root, part_id, items, nas_of, span_ms=60_000):
    """Write one part; returns the number of usage records made (0 when
    the part was written before)."""
    traffic = root["traffic"]
    if part_id in traffic.windows:
        return 0
    _warm(root, items)
    series, enqueue, made = traffic.series, root.usage.enqueue, 0
    for (exporter, login, cls, minute_ms), (octets_in, octets_out, flows) in items:
        hour_us = (minute_ms - minute_ms % HOUR_MS) * 1000
        _add(series, ("exporter", exporter, hour_us, cls), octets_in, octets_out)
        if login is None:
            _add(series, ("unknown", exporter, hour_us, cls), octets_in, octets_out)
            continue
        _add(series, ("subscriber", login, hour_us, cls), octets_in, octets_out)
        start_us = minute_ms * 1000
        record = UsageRecord(
            f"flows:{start_us:016d}:{exporter}:{login}:{cls}:{part_id}", "traffic", login,
            start_us, start_us + span_ms * 1000, {"octets_in": octets_in, "octets_out": octets_out},
            {"class": cls, "exporter": exporter, "nas": nas_of.get(exporter, ""),
             "flows": flows})
        made += enqueue(record)
    traffic.windows[part_id] = (len(items), now_us())
    return made


def _warm(root, items):
    """Load what the part touches in a few round trips, not one per sum:
    the logins' services and contracts (the usage queue puts a record in
    its contract's lane) and the series' buckets."""
    conn = root._p_jar
    if conn is None:
        return
    logins = sorted({key[1] for key, _ in items if key[1] is not None})
    index = root.catalog.logins.tree
    prefetch(conn, BucketFinder(index).buckets(logins))
    services = [s for s in map(index.get, logins) if s is not None]
    prefetch(conn, services)
    prefetch(conn, [s.__parent__ for s in services if s.__parent__ is not None])
    series = root["traffic"].series
    keys = [("subscriber", login, 0, "") for login in logins]
    prefetch(conn, BucketFinder(series).buckets(keys))


def write_errors(root, part_id, counts):
    """Add a window's refused packets and flows to ``/traffic.errors``."""
    traffic = root["traffic"]
    if part_id in traffic.windows:
        return
    for key, n in counts.items():
        traffic.errors[key] = traffic.errors.get(key, 0) + n
    traffic.windows[part_id] = (len(counts), now_us())


def totals(root, scope, name=None, since_us=0, until_us=1 << 62):
    """{(name, class): [in, out]} summed over the hours of a series scope
    that start in [since_us, until_us)."""
    out = {}
    lo = (scope,) if name is None else (scope, name)
    hi = (scope, "\U0010ffff") if name is None else (scope, name, 1 << 62)
    for (_, who, hour_us, cls), (octets_in, octets_out) in \
            root["traffic"].series.items(lo, hi):
        if since_us <= hour_us < until_us:
            held = out.setdefault((who, cls), [0, 0])
            held[0] += octets_in
            held[1] += octets_out
    return out

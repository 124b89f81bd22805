"""Retention (``portmonet radius purge``) and the read functions the
subscriber's card and office use: sessions of a subscriber, traffic per day."""
import datetime

from portmonet.radius import accounting, queries
from portmonet.radius.retention import DAY_US, candidates, purge

from .conftest import make_subscriber
from .test_policy_unit import setup

NOW = int(datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.timezone.utc).timestamp() * 1e6)


def session(root, nas, sid, login, start_us, octets, closed=True):
    rec = {"status": accounting.START, "when_us": start_us, "session_id": sid, "login": login,
           "octets_in": 0, "octets_out": 0, "seconds": 0, "framed_ip": "", "mac": "",
           "port_id": "", "cause": 1}
    accounting.apply(root, nas, rec)
    accounting.apply(root, nas, dict(rec, status=accounting.STOP if closed else accounting.INTERIM,
                                     when_us=start_us + 3_600_000_000, octets_in=octets,
                                     octets_out=2 * octets, seconds=3600))


def world(root):
    from portmonet.radius.evolve import add_daily
    nas, tariff = setup(root)
    add_daily(root)
    service = make_subscriber(root, "t1", "pw", tariff=tariff)
    subscriber = service.__parent__.__parent__
    for n in range(10):                        # one session a day, 10 days back
        session(root, nas, f"s{n}", "t1", NOW - (n + 1) * DAY_US, 1000 * (n + 1))
    session(root, nas, "live", "t1", NOW - 3 * DAY_US, 7, closed=False)   # long, still online
    session(root, nas, "x0", "other", NOW - 9 * DAY_US, 5)
    return nas, subscriber


def test_subscriber_sessions_online_and_history_paged(root):
    nas, subscriber = world(root)
    page = queries.subscriber_sessions(root, subscriber, limit=4)
    assert [s.session_id for s in page["online"]] == ["live"]
    assert [s.session_id for s in page["history"]] == ["s0", "s1", "s2", "s3"]
    seen = [s.session_id for s in page["history"]]
    while page["next"] is not None:
        page = queries.subscriber_sessions(root, subscriber, limit=4, before_us=page["next"])
        seen += [s.session_id for s in page["history"]]
    assert seen == [f"s{n}" for n in range(10)]


def test_purge_keeps_daily_totals_and_traffic_per_day_is_unchanged(root):
    nas, subscriber = world(root)
    since = datetime.date(2026, 11, 14)
    until = datetime.date(2026, 11, 26)
    before = queries.traffic_per_day(root, subscriber, since, until)
    assert len(before) == 12 and before[-1] == (datetime.date(2026, 11, 25), 0, 0, 0)
    assert before[-2] == (datetime.date(2026, 11, 24), 1000, 2000, 3600)
    assert sum(r[1] for r in before) == 55000 + 7
    # Keep 5 days: s5..s9 (stopped 6..10 days ago, plus an hour) go, and x0.
    horizon = NOW - 5 * DAY_US
    items, last, exhausted = candidates(root, horizon, limit=3)
    assert len(items) == 3 and not exhausted
    total, after = 0, None
    while True:
        items, after, exhausted = candidates(root, horizon, after, limit=2)
        total += purge(root, items)
        purge(root, items)                          # a repeated batch changes nothing
        if exhausted:
            break
    assert total == 6
    assert sorted(nas.sessions.keys()) == ["live", "s0", "s1", "s2", "s3", "s4"]
    assert [s.session_id for s in root.radius.sessions_of("t1")][-1] == "s4"
    assert queries.traffic_per_day(root, subscriber, since, until) == before
    assert root.radius.daily[("other", datetime.date(2026, 11, 16).toordinal())] == \
        (5, 10, 3600, 1)
    assert queries.subscriber_sessions(root, subscriber, limit=100)["next"] is None
    assert len(queries.subscriber_sessions(root, subscriber, limit=100)["history"]) == 5

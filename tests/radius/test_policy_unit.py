"""The policy and the session store on an in-memory database (no network)."""
import datetime

from portmonet import clock
from portmonet.ledger.account import now_us
from portmonet.model.simple import Tariff
from portmonet.radius import accounting, codec, policy
from portmonet.radius.nas import Nas, NasEntry, add_nas
from portmonet.radius.sessions import RadiusState

from .conftest import make_subscriber
from .test_codec import access_request, decoded


def setup(root, **tariff_attrs):
    if getattr(root, "radius", None) is None:
        root.radius = RadiusState()
    nas = add_nas(root, Nas("n1", "192.0.2.1", "s", "mikrotik"))
    tariff = root["tariffs"].add("t", Tariff("t"))
    for k, v in tariff_attrs.items():
        setattr(tariff, k, v)
    return nas, tariff


def decide(root, nas, login, pw, **request):
    pkt, raw = access_request(pw, User_Name=login)
    req = decoded(raw)
    request.setdefault("login", login)
    return policy.authorize(root, req, NasEntry(nas), request, 300, root.radius.online_count)


def test_port_binding_and_option82(root):
    nas, tariff = setup(root)
    make_subscriber(root, "p1", "pw", tariff=tariff, port="sw1 eth 0/7")
    assert decide(root, nas, "p1", "pw", port_id="sw1 eth 0/7").ok
    assert decide(root, nas, "p1", "pw", circuit_id="sw1 eth 0/7").ok
    d = decide(root, nas, "p1", "pw", port_id="sw1 eth 0/8")
    assert not d.ok and "port sw1 eth 0/8" in d.reason and d.recorded


def test_allowed_hours_and_time_tariff_session_timeout(root):
    nas, tariff = setup(root, price_per_minute=50, allowed_hours=(0, 23))
    make_subscriber(root, "h1", "pw", tariff=tariff, balance=1000)
    d = decide(root, nas, "h1", "pw")
    assert d.ok and ("Session-Timeout", 1200) in d.attributes
    tariff.allowed_hours = (25, 25)       # never
    d = decide(root, nas, "h1", "pw")
    assert not d.ok and d.reason.startswith("outside allowed hours")


def test_credit_limit_and_promised_payment(root):
    nas, tariff = setup(root)
    service = make_subscriber(root, "c1", "pw", tariff=tariff, balance=0, credit_limit=500)
    assert decide(root, nas, "c1", "pw").ok            # 0 > -500
    account = service.__parent__.account
    account.post(-500, "charge", "test:c1:fee")
    d = decide(root, nas, "c1", "pw")
    assert not d.ok and d.reason == "debt: balance -500, credit limit 500"
    account.promised_until_us = now_us() + 10**9
    assert decide(root, nas, "c1", "pw").ok


def test_rate_attributes_per_vendor():
    t = Tariff("x")
    t.rate_limit = "2M/8M"
    assert policy.rate_attributes(t, "mikrotik") == [("Mikrotik-Rate-Limit", "2M/8M")]
    assert policy.rate_attributes(t, "generic") == []
    cisco = dict(policy.rate_attributes(t, "cisco"))
    assert "police(2000000)" in policy.rate_attributes(t, "cisco")[0][1]
    assert cisco and all(k == "Cisco-AVPair" for k, _ in policy.rate_attributes(t, "cisco"))
    t.cisco_policy_in = "IN-2M"
    assert policy.rate_attributes(t, "cisco") == [
        ("Cisco-AVPair", "subscriber:sub-qos-policy-in=IN-2M")]


def test_rate_attributes_of_a_rated_tariff(root):
    """A tariff loaded from a definition gives its speed tier as a RateLimit
    (down/up in the file): the NAS gets MikroTik's "UP/DOWN" and Cisco's
    police() in bit/s, not the object."""
    from portmonet.tariffs.loader import install, load_text, parse_document
    specs = parse_document(load_text(
        "tariffs:\n  - name: fast\n    kind: internet\n    versions:\n"
        "      - effective: 2024-01-01\n        rate_limit: 100M/20M\n", "yaml"))
    install(root, specs)
    tariff = root["tariffs"]["fast"]
    assert policy.rate_attributes(tariff, "mikrotik") == [("Mikrotik-Rate-Limit", "20000k/100000k")]
    cisco = [v for _, v in policy.rate_attributes(tariff, "cisco")]
    assert "police(20000000)" in cisco[0] and "police(100000000)" in cisco[1]


def test_session_timeout_of_a_time_charged_rated_tariff(root):
    """A hotspot tariff priced per time: Session-Timeout is what the money
    buys at the dearest period (0.60 a minute by day, 0.30 at night)."""
    from portmonet.tariffs.loader import install, load_text, parse_document
    specs = parse_document(load_text(
        "tariffs:\n  - name: hotspot\n    kind: internet\n    versions:\n"
        "      - effective: 2024-01-01\n"
        "        periods: [{name: night, from: '23:00', to: '07:00', days: [all]}]\n"
        "        session: {price: '0.60', per: minute, prices: {night: '0.30'}}\n", "yaml"))
    install(root, specs)
    tariff = root["tariffs"]["hotspot"]
    assert tariff.price_per_minute == 60

    class Service:
        ip = None
    service = Service()
    service.tariff = tariff
    attrs = dict(policy.service_attributes(service, "mikrotik", 3000, 300))
    assert attrs["Session-Timeout"] == 3000 // 60 * 60      # 50 minutes of money


def test_stale_sessions_closed(root):
    nas, tariff = setup(root)
    now = now_us()
    for sid, age in (("old", 4000), ("fresh", 10)):
        accounting.apply(root, nas, {"status": accounting.START, "when_us": now - age * 10**6,
                                     "session_id": sid, "login": "x", "octets_in": 0,
                                     "octets_out": 0, "seconds": 0, "framed_ip": "", "mac": "",
                                     "port_id": "", "cause": 0})
    assert accounting.close_stale(root, nas, now - 900 * 10**6, now) == 1
    assert not nas.sessions["old"].online and nas.sessions["old"].terminate_cause == "Stale"
    assert nas.sessions["fresh"].online
    assert [s.session_id for s in root.radius.online_for("x")] == ["fresh"]
    assert [s.session_id for s in root.radius.sessions_of("x")] == ["fresh", "old"]


def test_codec_request_used_by_policy_rejects_bad_chap(root):
    nas, tariff = setup(root)
    make_subscriber(root, "k1", "right", tariff=tariff)
    _, raw = access_request(chap="wrong", User_Name="k1")
    req = codec.decode(raw)
    req.secret = b"s"
    d = policy.authorize(root, req, NasEntry(nas), {"login": "k1"})
    assert not d.ok and d.reason == "wrong CHAP password" and not d.public


def test_session_id_reused_after_nas_restart(root):
    nas, tariff = setup(root)
    now = now_us()

    def rec(status, sid, login, when, octets=0):
        return {"status": status, "when_us": when, "session_id": sid, "login": login,
                "octets_in": octets, "octets_out": 0, "seconds": 0, "framed_ip": "", "mac": "",
                "port_id": "", "cause": 0}
    accounting.apply(root, nas, rec(accounting.START, "0001", "x", now - 10**9))
    accounting.apply(root, nas, rec(accounting.STOP, "0001", "x", now - 10**8, 500))
    accounting.apply(root, nas, rec(accounting.STOP, "0001", "x", now - 10**8, 500))   # repeated
    accounting.apply(root, nas, rec(accounting.ON, "", "", now - 10**7))
    accounting.apply(root, nas, rec(accounting.START, "0001", "y", now))   # id reused, other login
    assert nas.sessions["0001"].login == "y" and nas.sessions["0001"].online
    old = nas.sessions[f"0001@{now - 10**9}"]
    assert old.login == "x" and not old.online and old.octets_in == 500
    assert [s.login for s in root.radius.online_for("y")] == ["y"]


def test_queries_for_the_web(root):
    from portmonet.radius import queries
    nas, tariff = setup(root)
    nas.access_point = "POP-1"
    now = now_us()

    def rec(status, sid, login, octets):
        return {"status": status, "when_us": now, "session_id": sid, "login": login,
                "octets_in": octets, "octets_out": 2 * octets, "seconds": 60, "framed_ip": "",
                "mac": "", "port_id": "", "cause": 1}
    accounting.apply(root, nas, rec(accounting.START, "a", "u1", 0))
    accounting.apply(root, nas, rec(accounting.STOP, "a", "u1", 100))
    accounting.apply(root, nas, rec(accounting.INTERIM, "b", "u1", 5))
    assert [s.session_id for s in queries.online_by_nas(root)["n1"]] == ["b"]
    assert queries.traffic_of(root, "u1") == {"octets_in": 105, "octets_out": 210,
                                              "seconds": 120, "sessions": 2}
    assert queries.traffic_by_access_point(root) == {
        "POP-1": {"octets_in": 105, "octets_out": 210, "sessions": 2}}


def test_books_check_sees_broken_online_index(root, conn):
    from portmonet.ops.check import check_books
    nas, tariff = setup(root)
    accounting.apply(root, nas, {"status": accounting.START, "when_us": now_us(),
                                 "session_id": "c1", "login": "u", "octets_in": 0,
                                 "octets_out": 0, "seconds": 0, "framed_ip": "", "mac": "",
                                 "port_id": "", "cause": 0})
    report = check_books(root, conn)
    assert report.ok and report.counts["radius_online"] == 1
    session = nas.sessions["c1"]
    del root.radius.by_login[("u", 0, session.start_us, "n1", "c1")]
    report = check_books(root, conn)
    assert not report.ok
    assert any("missing from root.radius.by_login" in p for p in report.problems)


def test_licence_fee_paid_until(root):
    import datetime
    nas, tariff = setup(root)
    service = make_subscriber(root, "f1", "pw", tariff=tariff)
    contract = service.__parent__
    assert decide(root, nas, "f1", "pw").ok                      # not set: no check
    contract.fee_paid_until = clock.today()
    assert decide(root, nas, "f1", "pw").ok
    contract.fee_paid_until = clock.today() - datetime.timedelta(days=1)
    d = decide(root, nas, "f1", "pw")
    assert not d.ok and d.reason.startswith("licence fee unpaid since")


def test_allowed_hours_are_the_tariffs_local_hours(operator_zone):
    from portmonet.radius.policy import in_hours
    night = clock.us_of(datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.timezone.utc))

    class Tariff:
        timezone = None
    tariff = Tariff()
    assert not in_hours((0, 6), clock.zone_of(tariff), night)          # 23:30 in UTC
    operator_zone("Europe/Moscow")
    assert in_hours((0, 6), clock.zone_of(tariff), night)              # 02:30 in Moscow
    tariff.timezone = "America/New_York"                               # 18:30 there
    assert not in_hours((0, 6), clock.zone_of(tariff), night)
    assert in_hours((18, 2), clock.zone_of(tariff), night)             # across midnight

"""Usage that crosses a boundary -- night and day, weekday and weekend, a
tariff version taking effect, a month's allowance -- is cut into pieces
and each piece rated under its own rule (hand-computed expectations)."""
import pytest

from portmonet.model.services import InternetService
from portmonet.ops.check import check_books
from portmonet.rating import rater
from portmonet.usage import UsageRecord

from tariffs.world import call, load_plans, make_contract, traffic, us
from web.conftest import cheap_argon2, site  # noqa: F401  (fixtures)

DIAL = """
tariffs:
  - name: dial
    kind: internet
    timezone: Europe/Moscow
    versions:
      - effective: 2024-01-01
        session: {price: "0.60", per: minute, increment: 60/60}
      - effective: 2024-03-01
        session: {price: "0.30", per: minute, increment: 60/60}
"""


@pytest.fixture
def contract(root, tm):
    load_plans(root)
    c = make_contract(root)
    tm.commit()
    return c


def rate(root, record):
    root.usage.enqueue(record)
    stats = rater.rate_batch(root, 100)
    assert stats["rated"] == 1, next(root["rating"].parked_items())[1].reason if stats["parked"] else stats
    return root["rating"].find(record.source_id)


def pieces(rated):
    """(version, zone, period, billed seconds or bytes, amount) of each piece."""
    return [(p[3], p[4], p[5], p[7], p[8]) for p in rated.parts]


def line(contract):
    return contract.services("phone")[0].number


def test_a_call_from_day_into_night(root, contract):
    # Monday 21:58:30 + 180 s: 90 s of day at 1.00/min = 1.50, 90 s of night
    # at 0.50/min = 0.75; VAT 20 % added to each: 1.80 + 0.90.
    rated = rate(root, call("c1", line(contract), "74992223344", 180, us(2024, 3, 4, 21, 58, 30)))
    assert pieces(rated) == [(1, "local", "default", 90, 180), (1, "local", "night", 90, 90)]
    assert (rated.amount, rated.base, rated.tax, rated.billed) == (270, 225, 45, 180)
    assert (rated.zone, rated.period) == ("local", "default+night")
    assert contract.account.find_cause("usage:c1").amount == -270
    assert "piece 2024-03-04 18:58:30..2024-03-04 19:00:00" in rated.explain()


def test_the_increment_is_applied_once_and_its_seconds_go_to_the_last_piece(root, contract):
    # Monday 21:59:10 + 90 s, billed 120 s (60/60): 50 s of day (0.8333 ->
    # 0.83, VAT 0.17) and 40 + 30 s of night (0.5833 -> 0.58, VAT 0.12).
    rated = rate(root, call("c2", line(contract), "74992223344", 90, us(2024, 3, 4, 21, 59, 10)))
    assert pieces(rated) == [(1, "local", "default", 50, 100), (1, "local", "night", 70, 70)]
    assert rated.amount == 170 and rated.billed == 120


def test_night_into_a_weekend_morning(root, contract):
    # Saturday 05:59 + 120 s: Friday's night until 06:00 (0.50/min), then the
    # weekend (0.20/min): 0.50 + 0.20, + VAT 0.10 + 0.04.
    rated = rate(root, call("c3", line(contract), "74992223344", 120, us(2024, 3, 9, 5, 59)))
    assert pieces(rated) == [(1, "local", "night", 60, 60), (1, "local", "weekend", 60, 24)]
    assert rated.amount == 84


def test_the_connection_fee_is_charged_once(root, contract):
    # moscow-mobile: 1.50/min, 30/6, 0.30 per call, the same price at night:
    # Monday 21:59:40 + 40 s = 20 s + 20 s, billed 42 s: 0.50 + 0.55 (22 s)
    # + 0.30 connection on the first piece; VAT 20 % on each piece.
    rated = rate(root, call("c4", line(contract), "79161234567", 40, us(2024, 3, 4, 21, 59, 40)))
    assert [p[:4] for p in pieces(rated)] == [(1, "moscow-mobile", "default", 20),
                                              (1, "moscow-mobile", "night", 22)]
    # 50 + 30 = 80 -> 96 with VAT; 55 -> 66 with VAT
    assert [p[4] for p in pieces(rated)] == [96, 66] and rated.amount == 162


def test_a_call_under_one_rule_stays_in_one_piece(root, contract):
    # Monday 23:59:30 + 60 s: night on both sides of midnight.
    rated = rate(root, call("c5", line(contract), "74992223344", 60, us(2024, 3, 4, 23, 59, 30)))
    assert rated.parts == () and rated.period == "night" and rated.amount == 60


def test_a_session_across_a_new_tariff_version(root, contract, tm):
    # 29 February 2024 (a leap day) 23:59 + 180 s: 60 s under v1 at 0.60/min,
    # 120 s under v2 (effective 1 March) at 0.30/min; no tax.
    load_plans(root, DIAL)
    contract.add_service(InternetService("dialer", "pw", tariff=root["tariffs"]["dial"]))
    start = us(2024, 2, 29, 23, 59)
    rated = rate(root, UsageRecord("s1", "session", "dialer", start, start + 180_000_000,
                                   {"seconds": 180}))
    assert pieces(rated) == [(1, "", "default", 60, 60), (2, "", "default", 120, 60)]
    assert rated.amount == 120 and rated.version == 1


def test_traffic_from_night_into_day_shares_octets_by_time(root, contract):
    # Tuesday 06:30-07:30: the night (free until 07:00, it began on a
    # workday) takes half; the day half is 2 GB in (1 GB allowance, then
    # 1.00/GB) and 1 GB out (0.50/GB): 1.00 + 0.50, VAT included.
    rated = rate(root, UsageRecord("t1", "traffic", "ivan1", us(2024, 3, 5, 6, 30),
                                   us(2024, 3, 5, 7, 30),
                                   {"octets_in": 4 * 10**9, "octets_out": 2 * 10**9},
                                   {"remote": "8.8.8.8"}))
    assert [(p[5], p[6], p[7], p[8]) for p in rated.parts] == [
        ("night", "night-free", 3 * 10**9, 0), ("default", "download,upload", 2 * 10**9, 150)]
    assert (rated.amount, rated.tax) == (150, 25)
    key = f"{contract.number}/internet-1/download/2024-03"
    assert root["rating"].used(key) == 2 * 10**9
    # the allowance is spent: 1 GB more at noon costs 1.00
    later = rate(root, traffic("t2", "ivan1", 10**9, 0, us(2024, 3, 5, 12, 0), remote="8.8.8.8"))
    assert later.amount == 100


def test_traffic_across_a_month_counts_each_month_allowance(root, contract):
    # Sunday 31 March 23:30 - Monday 1 April 00:30 (no night: Sunday is not a
    # workday): 1.5 GB in each month, each with 1 GB included: 0.50 + 0.50.
    rated = rate(root, UsageRecord("t3", "traffic", "ivan1", us(2024, 3, 31, 23, 30),
                                   us(2024, 4, 1, 0, 30), {"octets_in": 3 * 10**9},
                                   {"remote": "8.8.8.8"}))
    assert [(p[7], p[8]) for p in rated.parts] == [(5 * 10**8, 50), (5 * 10**8, 50)]
    assert rated.amount == 100
    state = root["rating"]
    assert state.used(f"{contract.number}/internet-1/download/2024-03") == 15 * 10**8
    assert state.used(f"{contract.number}/internet-1/download/2024-04") == 15 * 10**8


def test_rating_again_and_rerating_a_split_record(root, contract, tm):
    number = line(contract)
    record = call("c6", number, "74992223344", 180, us(2024, 3, 4, 21, 58, 30))
    rate(root, record)
    assert not root.usage.enqueue(record)            # the same source id: refused
    assert rater.rerate(root, contract.number, us(2024, 3, 1, 0, 0),
                        us(2024, 4, 1, 0, 0))["changed"] == 0
    assert contract.account.balance == 100000 - 270
    tm.commit()
    assert check_books(root, root._p_jar).ok


def test_absurdly_long_usage_is_parked(root, contract):
    root.usage.enqueue(UsageRecord("t9", "traffic", "ivan1", us(2024, 1, 1, 0, 0),
                                   us(2024, 12, 1, 0, 0), {"octets_in": 1}))
    stats = rater.rate_batch(root, 10)
    assert stats["parked"] == 1
    assert root["rating"].find_parked("t9").reason == "bad data: usage longer than 100 days"


def test_the_explain_view_lists_the_pieces(site):  # noqa: F811
    def world(root):
        load_plans(root)
        contract = make_contract(root, 7)
        root.usage.enqueue(call("w1", line(contract), "74992223344", 180,
                                us(2024, 3, 4, 21, 58, 30)))
        rater.rate_batch(root, 10)
    site.change(world)
    client = site.login("auditor")
    out = client.get("/rating/@@explain", {"source_id": "w1"}).json
    assert out["amount"] == 270 and out["period"] == "default+night"
    assert [(p["period"], p["billed"], p["amount"]) for p in out["parts"]] == \
        [("default", 90, 180), ("night", 90, 90)]
    assert client.get("/rating/@@explain", {"source_id": "nope"}, status=404)

"""Rating usage records against the sample tariffs (hand-computed)."""
import pytest

from portmonet.ops.check import check_books
from portmonet.rating import rater
from portmonet.usage import UsageRecord

from tariffs.world import call, load_plans, make_contract, traffic, us

MONDAY_NOON = us(2024, 3, 4, 12, 0)


@pytest.fixture
def contract(root, tm):
    load_plans(root)
    c = make_contract(root)
    tm.commit()
    return c


def rate_all(root, *records):
    for r in records:
        root.usage.enqueue(r)
    return rater.rate_batch(root, 1000)


def charged(root, source_id):
    return root["rating"].find(source_id)


@pytest.mark.parametrize("destination, seconds, start, amount, zone", [
    ("74992223344", 61, MONDAY_NOON, 240, "local"),          # 2 min x 1.00 + 20% VAT
    ("74992223344", 61, us(2024, 3, 4, 22, 30), 120, "local"),  # night 0.50
    ("74992223344", 61, us(2024, 3, 9, 12, 0), 48, "local"),    # Saturday 0.20
    ("74992223344", 61, us(2024, 1, 1, 12, 0), 48, "local"),    # holiday (a Monday)
    ("79161234567", 61, MONDAY_NOON, 234, "moscow-mobile"),  # 66 s x 1.50/min + 0.30, +VAT
    ("79031234567", 3, MONDAY_NOON, 0, "mobile"),            # free seconds
    ("79031234567", 4, MONDAY_NOON, 16, "mobile"),           # 4 s of 2.00/min = 13.3 -> 13, +VAT 3
    ("112", 300, MONDAY_NOON, 0, "emergency"),
    ("8 (812) 123-45-67", 60, MONDAY_NOON, 360, "russia"),
    ("+1 212 555 0100", 125, MONDAY_NOON, 1500, "international"),  # 125 s x 0.10 + VAT
])
def test_calls(root, contract, destination, seconds, start, amount, zone):
    line = contract.services("phone")[0]
    stats = rate_all(root, call("cdr:1", line.number, destination, seconds, start))
    assert stats["rated"] == 1
    rated = charged(root, "cdr:1")
    assert (rated.amount, rated.zone, rated.tariff, rated.version) == (amount, zone, "phone", 1)
    assert contract.account.balance == 100000 - amount
    if amount:
        assert contract.account.find_cause("usage:cdr:1").amount == -amount
    else:
        assert contract.account.find_cause("usage:cdr:1") is None


def test_group_discount(root, contract):
    contract.discount_group = "staff"
    rate_all(root, call("c", contract.services("phone")[0].number, "74992223344", 61, MONDAY_NOON))
    assert charged(root, "c").amount == 120      # half of 2.00, + 20% VAT


def test_traffic_allowance_direction_class_and_night(root, contract):
    login = contract.services("internet")[0].login
    rate_all(root,
             traffic("t1", login, 1_500_000_000, 200_000_000, MONDAY_NOON, remote="8.8.8.8"),
             traffic("t2", login, 1_000_000_000, 0, MONDAY_NOON + 1, remote="8.8.8.8"),
             traffic("t3", login, 5_000_000_000, 5_000_000_000, MONDAY_NOON, remote="10.1.1.1"),
             traffic("t4", login, 5_000_000_000, 0, us(2024, 3, 4, 23, 30)),
             traffic("t5", login, 1_000_000_000, 0, us(2024, 4, 1, 12, 0)))
    # 0.5 GB over the 1 GB allowance at 1.00 + 0.2 GB up at 0.50 (VAT included)
    assert charged(root, "t1").amount == 60
    assert charged(root, "t1").rule == "download,upload"
    assert charged(root, "t2").amount == 100      # allowance used up
    assert charged(root, "t3").amount == 0 and charged(root, "t3").zone == "local"
    assert charged(root, "t4").amount == 0 and charged(root, "t4").rule == "night-free"
    assert charged(root, "t5").amount == 0        # a new month, a new allowance
    assert charged(root, "t1").tax == 10           # 60 * 20/120


def test_session_time_and_content(root, contract, tm):
    from portmonet.model.services import InternetService, TvPackage
    contract.add_service(InternetService("hot", "pw", tariff=root["tariffs"]["hotspot"]))
    contract.add_service(TvPackage("basic", tariff=root["tariffs"]["tv"]))
    rate_all(root,
             UsageRecord("s1", "session", "hot", MONDAY_NOON, MONDAY_NOON, {"seconds": 61}),
             UsageRecord("v1", "content", contract.number, MONDAY_NOON, MONDAY_NOON, {},
                         {"content": "film-1"}))
    assert charged(root, "s1").amount == 120
    assert charged(root, "v1").amount == 19900


def test_errors_are_parked_then_rated_after_the_fix(root, contract, tm):
    stats = rate_all(root,
                     call("x1", "74957777777", "74992223344", 60, MONDAY_NOON),
                     call("x2", contract.services("phone")[0].number, "33123456789", 60, MONDAY_NOON),
                     traffic("x3", "nobody", 1, 1, MONDAY_NOON),
                     UsageRecord("x4", "call", contract.services("phone")[0].number,
                                 MONDAY_NOON, MONDAY_NOON, {}, {"destination": "74992223344"}))
    assert stats == {"rated": 0, "parked": 4, "skipped": 0, "amount": 0, "taken": 4}
    state = root["rating"]
    errors = {p.record.source_id: p for _, p in state.parked_items()}
    assert errors["x1"].reason == "unknown calling number 74957777777"
    assert "no zone of phone v1 for destination 33123456789" == errors["x2"].reason
    assert errors["x3"].reason == "unknown login 'nobody'"
    assert "no 'seconds'" in errors["x4"].reason
    assert not root.usage.count()
    # the cause of x1 is fixed: the line is connected
    from portmonet.model.services import TelephoneLine
    contract.add_service(TelephoneLine("74957777777", tariff=root["tariffs"]["phone"]))
    stats, _ = rater.retry_errors(root, 100)
    assert stats == {"rated": 1, "parked": 3}
    errors = {p.record.source_id: p for _, p in state.parked_items()}
    assert charged(root, "x1").amount == 120 and "x1" not in errors
    assert errors["x2"].attempts == 2 and root["rating"].error_count() == 3
    assert check_books(root, root._p_jar).ok


def test_rerate_reverses_and_reposts(root, contract, tm):
    from tariffs.samples import PLANS
    number = contract.services("phone")[0].number
    rate_all(root, call("r1", number, "74992223344", 61, MONDAY_NOON),
             call("r2", number, "112", 61, MONDAY_NOON))
    tm.commit()
    assert contract.account.balance == 100000 - 240
    # a correction of the local price: 1.00 -> 1.50 a minute
    load_plans(root, PLANS.replace('prices: {night: "0.50", weekend: "0.20"}, price: "1.00"', "")
               .replace('price: "1.00", increment: 60/60, prices', 'price: "1.50", increment: 60/60, prices'),
               replace=True)
    out = rater.rerate(root, contract.number, us(2024, 3, 1, 0, 0), us(2024, 4, 1, 0, 0))
    assert (out["records"], out["changed"], out["old"], out["new"]) == (2, 1, 240, 360)
    assert contract.account.balance == 100000 - 360
    assert contract.account.find_cause("usage:r1#r1-reversal").amount == 240
    assert contract.account.find_cause("usage:r1#r1").amount == -360
    rated = charged(root, "r1")
    assert (rated.generation, rated.previous_amount, rated.version) == (1, 240, 2)
    again = rater.rerate(root, contract.number, us(2024, 3, 1, 0, 0), us(2024, 4, 1, 0, 0))
    assert again["changed"] == 0 and contract.account.balance == 100000 - 360
    tm.commit()
    assert check_books(root, root._p_jar).ok


def test_rerate_a_tariff_in_chunks(root, contract, tm):
    from tariffs.samples import PLANS
    from tariffs.world import make_contract
    other = make_contract(root, 2)
    for i, c in enumerate((contract, other, contract, other)):
        root.usage.enqueue(call(f"k{i}", c.services("phone")[0].number, "74992223344", 61,
                                MONDAY_NOON + i))
    rater.rate_batch(root, 100)
    load_plans(root, PLANS.replace('price: "1.00", increment: 60/60, prices',
                                   'price: "2.00", increment: 60/60, prices'), replace=True)
    after, seen = None, 0
    while True:
        out = rater.rerate(root, None, us(2024, 3, 1, 0, 0), us(2024, 4, 1, 0, 0),
                           tariff="phone", after=after, limit=3)
        seen += out["records"]
        assert out["new"] == 2 * out["old"]
        if out["records"] < 3:
            break
        after = out["last"]
    assert seen == 4
    assert contract.account.balance == other.account.balance == 100000 - 2 * 480
    assert check_books(root, root._p_jar).ok


@pytest.mark.parametrize("requires, amount", [
    ("[internet, phone]", 216),     # 2.00 - 10 % = 1.80, + 20 % VAT
    ("[internet, tv]", 240),        # no TV service: no bundle
])
def test_bundle_discount_on_usage(root, tm, requires, amount):
    from tariffs.samples import PLANS
    load_plans(root, PLANS.replace(
        "          - {name: staff, percent: 50, group: staff}",
        "          - {name: staff, percent: 50, group: staff}\n"
        f"          - {{name: duo, percent: 10, applies: usage, requires: {requires}}}"))
    c = make_contract(root)
    rate_all(root, call("b1", c.services("phone")[0].number, "74992223344", 61, MONDAY_NOON))
    assert charged(root, "b1").amount == amount

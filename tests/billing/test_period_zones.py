"""A billing period is the operator's month (portmonet.timezone), not
UTC's and not the server's: postings near midnight land on the invoice of
the operator's day, in zones ahead of and behind UTC, whatever the
server's TZ; and a run planned before midnight decides as it began."""
import datetime

import pytest

from portmonet import clock
from portmonet import db as dbmod
from portmonet.billing import run as runmod
from portmonet.model.root import install
from portmonet.model.services import TvPackage

from tariffs.world import load_plans, make_contract

D = datetime.date


def utc_us(*args):
    return clock.us_of(datetime.datetime(*args, tzinfo=datetime.timezone.utc))


def tx(db, func):
    return dbmod.transact(db, func, "test", "test")


# Three postings around the turn of November 2026 (UTC):
EDGE = [
    ("late payment", 100000, "payment", utc_us(2026, 11, 30, 20, 30)),   # 23:30 in Moscow
    ("late charge", -20000, "charge", utc_us(2026, 11, 30, 23, 30)),     # 02:30 1 Dec in Moscow
    ("night charge", -3000, "charge", utc_us(2026, 12, 1, 3, 0)),        # 22:00 30 Nov in New York
]
EDGE_CHARGES = {text for text, _, kind, _ in EDGE if kind == "charge"}


def _bill_the_turn_of_the_month(db):
    """Post EDGE, bill November and December; per period: (payments, the
    edge charges on its invoice, opening, closing)."""
    def build(root):
        load_plans(root)
        contract = make_contract(root, 1, balance=0, started=D(2026, 11, 1))
        for text, amount, kind, when in EDGE:
            contract.account.post(amount, kind, f"edge:{text}", text, when=when)
        return contract.account.number
    number = tx(db, build)
    runmod.run(db, "2026-11", now=utc_us(2026, 12, 2, 12))
    runmod.run(db, "2026-12", now=utc_us(2027, 1, 2, 12))

    def invoices(root):
        got = {}
        for period in ("2026-11", "2026-12"):
            inv = root["billing"].invoices[(period, number)]
            edge = sum(amount for label, amount in inv.lines if label in EDGE_CHARGES)
            got[period] = (inv.payments, edge, inv.opening, inv.closing)
        return got
    return tx(db, invoices)


@pytest.mark.parametrize("zone, november, december", [
    ("UTC", (100000, 20000), (0, 3000)),
    ("Europe/Moscow", (100000, 0), (0, 23000)),
    ("America/New_York", (100000, 23000), (0, 0)),
])
def test_postings_at_midnight_land_in_the_operators_month(db, conn, operator_zone, zone,
                                                          november, december):
    operator_zone(zone)
    got = _bill_the_turn_of_the_month(db)
    assert got["2026-11"][:2] == november
    assert got["2026-12"][:2] == december
    assert got["2026-12"][2] == got["2026-11"][3]        # December opens where November closed


def test_the_servers_tz_gives_the_same_invoices(db, conn, operator_zone, server_tz):
    operator_zone("Europe/Moscow")
    seen = []
    for tz in ("America/Los_Angeles", "Asia/Tokyo"):
        server_tz(tz)
        database = type(db)(type(db.storage)())
        try:
            with database.transaction() as c:
                install(c.root())
            seen.append(_bill_the_turn_of_the_month(database))
        finally:
            database.close()
    assert seen[0] == seen[1]
    assert seen[0]["2026-12"][1] == 23000


def test_a_run_planned_before_midnight_decides_as_it_began(db, conn, monkeypatch):
    """A daily run of 5 March, in arrears, planned at 23:59:58 that day:
    no fee is due yet, for any contract — even those it reaches after
    midnight; the run of the same day after midnight charges all of them."""
    def build(root):
        load_plans(root)
        for n in (1, 2, 3):
            contract = make_contract(root, n, balance=500000)
            contract.add_service(TvPackage("basic", tariff=root["tariffs"]["tv"],
                                           started=D(2024, 1, 1)))
    tx(db, build)
    midnight = clock.day_start_us(D(2024, 3, 6))
    wall = iter([midnight - 2_000_000])         # the plan; every later look is past midnight
    monkeypatch.setattr(runmod, "now_us", lambda: next(wall, midnight + 10_000_000))
    first = runmod.run(db, "2024-03-05", batch=1)
    assert first["contracts"] == 3 and first["fees"] == 0
    later = runmod.run(db, "2024-03-05", batch=1)
    assert later["fees"] == 3

    def state(root):
        return root["billing"].runs["2024-03-05"].started_us
    assert tx(db, state) == midnight + 10_000_000

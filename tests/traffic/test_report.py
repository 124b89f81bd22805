"""Reports over the counted series and the discrepancy between RADIUS
accounting and flows (in-memory database)."""
import datetime

from portmonet import clock
from portmonet.radius import accounting
from portmonet.traffic.report import Thresholds, discrepancy, period_us, table
from portmonet.traffic.store import write_part

from . import world
from radius.conftest import make_subscriber

MB = 1_000_000


def radius_session(root, login, sid, start_s, octets):
    nas = root["equipment"]["bras1"]
    base = {"session_id": sid, "login": login, "octets_in": 0, "octets_out": 0, "seconds": 0,
            "framed_ip": "", "mac": "", "port_id": "", "cause": 1}
    accounting.apply(root, nas, dict(base, status=accounting.START, when_us=start_s * 10**6))
    accounting.apply(root, nas, dict(base, status=accounting.STOP, when_us=(start_s + 60) * 10**6,
                                     octets_in=octets // 4, octets_out=octets - octets // 4,
                                     seconds=60))


def test_reports_and_discrepancy(root, operator_zone):
    operator_zone("Europe/Moscow")
    t0 = clock.day_start_us(datetime.date(2026, 11, 10)) // 10**6 + 12 * 3600
    world.build(root, t0 - 30 * 86400)                  # its sessions are in October
    make_subscriber(root, "carol")
    for login, radius, flows in (("anna", 1000 * MB, 1000 * MB), ("boris", 500 * MB, 300 * MB),
                                 ("carol", 1000, 2000)):
        radius_session(root, login, f"{login}-nov", t0, radius)
        write_part(root, f"test:{login}", [(("e1", login, "internet", t0 * 1000),
                                            [flows // 2, flows - flows // 2, 1])], {"e1": "bras1"})
    write_part(root, "test:unknown", [(("e1", None, "internet", t0 * 1000), [7 * MB, 0, 1])], {})
    rows = discrepancy(root, "2026-11", Thresholds({}))
    assert rows == [
        ("login", "anna", 1000 * MB, 1000 * MB, False),
        ("login", "boris", 500 * MB, 300 * MB, True),       # 200 MB and 40 % apart
        ("login", "carol", 1000, 2000, False),              # 100 %, but only 1000 octets
        ("nas", "bras1", 1500 * MB + 1000, 1300 * MB + 2000, True),
    ]
    assert not any(r[4] for r in discrepancy(root, "2026-11", Thresholds(
        {"traffic.discrepancy_percent": "50", "traffic.discrepancy_octets": "250000000"})))
    assert discrepancy(root, "2026-12", Thresholds({})) == []
    assert table(root, "subscriber", "2026-11", top=2) == [
        ("anna", "internet", 500 * MB, 500 * MB), ("boris", "internet", 150 * MB, 150 * MB)]
    assert table(root, "unknown", "2026-11-10") == [("e1", "internet", 7 * MB, 0)]
    assert table(root, "subscriber", "2026-11-11") == []
    start, end = period_us("2026-11")
    assert (end - start) // 10**6 == 30 * 86400 and clock.day_of(start) == datetime.date(2026, 11, 1)

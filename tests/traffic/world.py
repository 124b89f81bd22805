"""The traffic tests' world: subscribers with static addresses, a
business customer's /29, two subscribers whose RADIUS sessions hold the
same address an hour apart, a NAS and its exporter."""
from portmonet.radius import accounting
from portmonet.radius.nas import Nas, add_nas
from portmonet.traffic.model import Exporter, add_exporter

from radius.conftest import make_subscriber  # noqa: E402  (tests/ is on sys.path)

STATIC = {"s1": "10.1.0.1", "s2": "10.1.0.2", "s3": "10.1.0.3"}
BUSINESS = ("biz", "10.2.0.0/29")
SHARED = "100.64.0.7"
CLASSES = "10.0.0.0/8 local\n8.8.4.4/32 free\n192.0.2.0/24 peering\n"
HOUR = 3600


def session(root, nas, login, session_id, start_s, stop_s, address=SHARED):
    base = {"session_id": session_id, "login": login, "octets_in": 0, "octets_out": 0,
            "seconds": 0, "framed_ip": address, "mac": "", "port_id": "", "cause": 1}
    accounting.apply(root, nas, dict(base, status=accounting.START,
                                     when_us=int(start_s * 1e6)))
    accounting.apply(root, nas, dict(base, status=accounting.STOP, when_us=int(stop_s * 1e6),
                                     seconds=int(stop_s - start_s)))


def build(root, t0, exporter_address="127.0.0.1"):
    """Everyone; anna holds SHARED for [t0, t0+30 min), boris for
    [t0+60 min, t0+90 min)."""
    nas = add_nas(root, Nas("bras1", "192.0.2.250", "nas-secret"))
    add_exporter(root, Exporter("e1", exporter_address, nas="bras1"))
    for login, address in STATIC.items():
        make_subscriber(root, login, ip=address)
    biz = make_subscriber(root, BUSINESS[0])
    biz.update(networks=[BUSINESS[1]])
    for login in ("anna", "boris"):
        make_subscriber(root, login)
    session(root, nas, "anna", "a-1", t0, t0 + HOUR / 2)
    session(root, nas, "boris", "b-1", t0 + HOUR, t0 + 1.5 * HOUR)


def pcap_packets(t0):
    """(time, src, dst, payload, source port) and who each packet is for."""
    at = t0 + 300
    out = []
    for n, address in enumerate(STATIC.values()):
        out += [(at + n, address, "8.8.8.8", 972, 2000 + n),         # 1000 octets out
                (at + n + 0.5, "8.8.8.8", address, 2972, 53),        # 3000 in (its reply)
                (at + n + 1, address, "10.0.0.1", 472 + n, 3000 + n)]  # local
    out += [(at + 10, "10.2.0.3", "1.1.1.1", 1172, 4000),
            (at + 11, "1.1.1.1", "10.2.0.6", 772, 53)]
    out += [(t0 + 600, SHARED, "8.8.4.4", 1972, 5000),                # anna, free
            (t0 + 45 * 60, SHARED, "8.8.8.8", 572, 5001),             # nobody's then
            (t0 + 70 * 60, SHARED, "8.8.4.4", 4972, 5002),            # boris, free
            (t0 + 71 * 60, "8.8.8.8", SHARED, 872, 53),
            (t0 + 300, "10.9.9.9", "8.8.8.8", 1372, 6000)]            # unknown
    return out

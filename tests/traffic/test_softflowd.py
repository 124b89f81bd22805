"""softflowd (v5, v9, IPFIX) -> the real ``portmonet flows`` process, with
nfcapd + nfdump reading the same pcap as the reference: per-address octets
must be equal; attribution by static address, a business /29 and RADIUS
sessions that hold one address an hour apart; classes and directions;
usage records for the rater."""
import collections
import time

import pytest

from portmonet.db import transact
from portmonet.traffic.store import totals

from . import world
from .peers import (FlowsProcess, by_login, flows_ini, nfdump_octets, per_address, run_portmonet,
                    read, softflowd, wait_for, write_pcap)

pytestmark = pytest.mark.integration


@pytest.fixture
def collector(zeo_server, tmp_path):
    ini, port = flows_ini(zeo_server, tmp_path, flows_template_wait="2")
    t0 = int(time.time()) - 3 * world.HOUR
    db = zeo_server.open_db(server_sync=True)
    transact(db, lambda root: world.build(root, t0), "test", "traffic world")
    classes = tmp_path / "classes.txt"
    classes.write_text(world.CLASSES)
    assert "3 prefix(es) loaded" in run_portmonet("traffic", "classes", "load", str(classes),
                                                   ini=ini).stdout
    process = FlowsProcess(ini).start()
    yield db, port, t0, process
    process.stop()
    db.close()


def test_softflowd_v5_v9_ipfix_equal_nfdump(collector, tmp_path):
    db, port, t0, process = collector
    packets = world.pcap_packets(t0)
    pcap = write_pcap(str(tmp_path / "traffic.pcap"), packets)
    reference = nfdump_octets(pcap, str(tmp_path))
    addresses = set(world.STATIC.values()) | {"10.2.0.3", "10.2.0.6", world.SHARED, "10.9.9.9"}
    ref = per_address(reference, addresses)
    # nfdump agrees with the pcap: each packet is 28 + payload octets
    assert ref["10.1.0.1"] == 1000 + 3000 + 500
    assert ref[world.SHARED] == 2000 + 600 + 5000 + 900
    expected = {login: ref[address] for login, address in world.STATIC.items()}
    expected.update(biz=ref["10.2.0.3"] + ref["10.2.0.6"], anna=2000, boris=5000 + 900)
    unknown = 600 + ref["10.9.9.9"]
    for k, version in enumerate((5, 9, 10), 1):
        softflowd(pcap, port, version)
        want = {login: k * n for login, n in expected.items()}
        got = wait_for(lambda: (lambda c: c if c == want else None)(read(db, by_login)), 20)
        assert got == want, (version, read(db, by_login), want)
        unknowns = read(db, lambda root: totals(root, "unknown"))
        assert sum(sum(v) for v in unknowns.values()) == k * unknown
    subscriber = read(db, lambda root: totals(root, "subscriber"))
    # directions: in is towards the subscriber, out from them; classes by prefix
    assert subscriber[("s1", "internet")] == [3 * 3000, 3 * 1000]
    assert subscriber[("s1", "local")] == [0, 3 * 500]
    assert subscriber[("boris", "free")] == [0, 3 * 5000]
    assert subscriber[("boris", "internet")] == [3 * 900, 0]
    assert ("anna", "internet") not in subscriber          # 45 min: nobody's
    # the usage records the rater gets add up to the same, with their class
    records = read(db, lambda root: [r for lane in root.usage.lanes
                                     for r in lane.pending.values()
                                     if r.source_id.startswith("flows:")])
    summed = collections.Counter()
    for r in records:
        assert r.kind == "traffic" and r.attrs["exporter"] == "e1" and r.attrs["nas"] == "bras1"
        summed[(r.subject, r.attrs["class"])] += r.quantities["octets_in"] + \
            r.quantities["octets_out"]
    assert summed == {key: sum(v) for key, v in subscriber.items()}
    assert len({r.source_id for r in records}) == len(records)
    out = run_portmonet("traffic", "report", "--by", "subscriber", ini=process.ini).stdout
    assert "boris\tfree\t0\t15000" in out
    top = run_portmonet("traffic", "report", "--by", "subscriber", "--top", "1", "--csv",
                        ini=process.ini).stdout.splitlines()
    assert top[0] == "name,class,octets_in,octets_out" and len(top) == 2

"""The real collector against bad input, sampling, templates out of
order and a kill -9 mid-stream."""
import socket
import struct
import threading
import time

import pytest

from portmonet.db import transact
from portmonet.traffic.model import Exporter, add_exporter

from . import packets as P
from . import world
from .peers import FlowsProcess, by_login, flows_ini, read, run_portmonet, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def forwarded():
    """A UDP socket standing for a second collector (flows.forward)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        yield sock


def received(sock):
    out = []
    while True:
        try:
            out.append(sock.recv(65535))
        except OSError:
            return out


@pytest.fixture
def setup(zeo_server, tmp_path, forwarded):
    ini, port = flows_ini(zeo_server, tmp_path,
                          flows_forward=f"127.0.0.1:{forwarded.getsockname()[1]}")
    db = zeo_server.open_db(server_sync=True)

    def build(root):
        world.build(root, int(time.time()) - 3 * world.HOUR)
        add_exporter(root, Exporter("sampled", "127.0.0.3", sampling=10))
    transact(db, build, "test", "traffic world")
    yield db, port, ini
    db.close()


def errors(db):
    return read(db, lambda root: dict(root["traffic"].errors.items()))


def test_bad_input_is_counted_and_the_collector_goes_on(setup, forwarded):
    db, port, ini = setup
    process = FlowsProcess(ini).start()
    try:
        flood = [P.v5([("10.1.0.1", "8.8.8.8", 1000)], sequence=n) for n in range(300)]
        P.send(flood, port, source="127.0.0.2")                  # not an exporter
        good = P.v5([("10.1.0.1", "8.8.8.8", 1000)])
        absurd = P.v9(P.v9_template(300, [(8, 4), (12, 4), (1, 60000)]),
                      P.v9_data([("10.1.0.2", "8.8.8.8", 7)], tid=300))
        bad = [
            good[:10],                                         # truncated header
            good[:40],                                         # truncated record
            b"\x00\x07" + good[2:],                            # wrong version
            absurd,                                            # absurd field length
            P.v9(P.v9_template(301, [])),                      # a template with no fields
            P.v9(struct.pack("!HH", 0, 4000) + b"\0" * 8),     # a set longer than the packet
            P.v9(P.v9_data([("10.1.0.3", "8.8.8.8", 5)], tid=400)),   # no template ever
            b"",
        ]
        P.send(bad, port)
        # a data set before its template: waits, then counts
        P.send([P.v9(P.v9_data([("10.1.0.2", "8.8.8.8", 2000)], tid=500), sequence=1),
                P.v9(P.v9_template(500), sequence=2)], port)
        # IPFIX: template, data, withdrawal, data again (waits, never counts)
        P.send([P.ipfix(P.ipfix_template(600), P.ipfix_data([("10.1.0.3", "8.8.8.8", 300)], tid=600)),
                P.ipfix(P.ipfix_withdraw(600), sequence=1),
                P.ipfix(P.ipfix_data([("10.1.0.3", "8.8.8.8", 99)], tid=600), sequence=2)], port)
        P.send([good, good], port)                             # the second is a duplicate
        P.send([P.v5([("8.8.8.8", "10.1.0.1", 100)])], port, source="127.0.0.3")  # 1:10
        want = {"s1": 1000 + 1000, "s2": 2000, "s3": 300}
        got = wait_for(lambda: (lambda c: c if c == want else None)(read(db, by_login)), 20)
        assert got == want, read(db, by_login)
        counted = wait_for(lambda: (lambda e: e if e.get(("e1", "no template"), 0) >= 2
                                    else None)(errors(db)), 10)
        assert counted[("127.0.0.2", "unknown exporter")] == 300
        assert counted[("e1", "truncated")] == 3
        assert counted[("e1", "wrong version")] == 1
        assert counted[("e1", "bad template")] == 2
        assert counted[("e1", "bad set length")] == 1
        assert counted[("e1", "no template")] == 2              # tid 400 and withdrawn 600
        assert counted[("e1", "duplicate")] == 1
        assert process.proc.poll() is None
        errors_out = run_portmonet("traffic", "errors", ini=ini).stdout
        assert "127.0.0.2\tunknown exporter\t300" in errors_out
        # the accepted packets went on to the second collector, the refused did not
        passed = received(forwarded)
        assert passed.count(good) == 1 and absurd not in passed and flood[1] not in passed
        assert len(passed) == 8          # every packet that decoded, once
    finally:
        assert process.stop() == 0
    log = process.output()
    # logged, at a bounded rate: once per source and error class
    assert log.count("from 127.0.0.2: unknown exporter") == 1
    assert log.count("from e1: truncated") == 1
    assert "refused unknown exporter=300" in log            # the stop line's figures
    assert "Traceback" not in log
    # nothing of the refused packets was half-taken: s2's 7 octets never counted
    assert read(db, by_login)["s2"] == 2000


def test_kill_9_loses_at_most_the_open_windows_and_counts_nothing_twice(setup):
    db, port, ini = setup
    process = FlowsProcess(ini).start()
    sent, stop = [], threading.Event()

    def sender():
        n = 0
        while not stop.is_set():
            P.send([P.v5([("10.1.0.1", "8.8.8.8", 1000)], sequence=n)], port)
            sent.append(time.monotonic())
            n += 1
            time.sleep(0.005)
    thread = threading.Thread(target=sender)
    thread.start()
    time.sleep(2.0)
    process.kill9()
    killed = time.monotonic()
    stop.set()
    thread.join()
    before = sum(1 for t in sent if t < killed) * 1000
    at_risk = sum(1 for t in sent if killed - 1.5 <= t < killed) * 1000   # 2 windows + slack
    counted = read(db, by_login)["s1"]
    assert before - at_risk <= counted <= before
    process = FlowsProcess(ini).start()                     # restart: nothing again
    P.send([P.v5([("10.1.0.1", "8.8.8.8", 1000)], sequence=10**6 + n) for n in range(20)], port)
    assert process.stop() == 0
    after = read(db, by_login)["s1"]
    assert after == counted + 20 * 1000
    records = read(db, lambda root: [r for lane in root.usage.lanes
                                     for r in lane.pending.values()
                                     if r.source_id.startswith("flows:")])
    assert sum(r.quantities["octets_out"] for r in records) == after

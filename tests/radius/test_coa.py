"""CoA / Disconnect (RFC 5176) from the outbox to a real FreeRADIUS ``coa``
virtual server standing in for the NAS."""
import pytest
import transaction

from portmonet.db import transact
from portmonet.model.root import get_root
from portmonet.radius.coa import request_coa, request_disconnect

from .conftest import SECRET, acct, make_subscriber, radclient, read, wait_for
from .freeradius import FreeRadius


@pytest.fixture
def nas_side(radius):
    server, db = radius
    fr = FreeRadius(SECRET, coa=True, nak_user="gone", refuse_user="refused")

    def point(root):
        root["equipment"]["bras1"].coa_port = fr.coa_port
        tariff = root["tariffs"]["fast"]
        make_subscriber(root, "gone", "gone-pw", tariff=tariff)
        make_subscriber(root, "refused", "refused-pw", tariff=tariff)
    transact(db, point, "test", "CoA port")
    server.refresh()
    yield server, db, fr
    fr.stop()


def message(db, key):
    return read(db, lambda r: (r.outbox.keys[key].state, r.outbox.keys[key].last_error,
                               r.outbox.keys[key].attempts))


def settled(db, key):
    return wait_for(lambda: message(db, key)[0] != "queued" and message(db, key), 15)


def start(server, login, sid):
    rc, out = radclient(server.acct_port, "acct",
                        acct("Start", login, sid, Framed_IP_Address="10.0.0.5"))
    assert "Accounting-Response" in out, out


def test_disconnect_acked(nas_side):
    server, db, fr = nas_side
    start(server, "alice", "S-dis")
    key = transact(db, lambda r: request_disconnect(r, "alice", "debt", "billing").key,
                   "test", "block alice")
    state, result, attempts = settled(db, key)
    assert state == "sent" and result == "bras1: ACK", result
    got = fr.received()
    assert "Packet-Type = Disconnect-Request" in got
    assert 'User-Name = "alice"' in got and 'Acct-Session-Id = "S-dis"' in got
    assert "Framed-IP-Address = 10.0.0.5" in got
    assert "Message-Authenticator" in got


def test_coa_carries_new_speed(nas_side):
    server, db, fr = nas_side
    start(server, "alice", "S-coa")

    def change(root):
        root["tariffs"]["fast"].rate_limit = "50M/100M"
        return request_coa(root, "alice", "tariff changed", "manager").key
    key = transact(db, change, "test", "faster tariff")
    state, result, _ = settled(db, key)
    assert state == "sent" and "ACK" in result, result
    got = fr.received()
    assert "Packet-Type = CoA-Request" in got and 'Mikrotik-Rate-Limit = "50M/100M"' in got


def test_nak_recorded_with_error_cause(nas_side):
    server, db, fr = nas_side
    start(server, "refused", "S-nak")
    key = transact(db, lambda r: request_disconnect(r, "refused", "debt", "billing").key,
                   "test", "block")
    state, result, attempts = settled(db, key)
    assert state == "failed" and "NAK Error-Cause 501" in result and attempts == 1, result


def test_session_already_gone_counts_as_done(nas_side):
    server, db, fr = nas_side
    start(server, "gone", "S-gone")
    key = transact(db, lambda r: request_disconnect(r, "gone", "kick", "staff").key, "test", "kick")
    state, result, _ = settled(db, key)
    assert state == "sent" and "session already gone" in result, result


def test_no_answer_is_a_visible_failure_then_retried(nas_side):
    server, db, fr = nas_side
    from .conftest import free_port
    transact(db, lambda r: setattr(r["equipment"]["bras1"], "coa_port", free_port()), "t", "t")
    start(server, "alice", "S-silent")
    key = transact(db, lambda r: request_disconnect(r, "alice", "debt", "billing").key, "t", "t")
    state, result, attempts = settled(db, key)
    assert state == "failed" and result == "bras1: no answer" and attempts == 1
    assert "Disconnect-Request" not in fr.received()

    # The NAS is reachable again and the retry is due: it goes out and is ACKed.
    def due_now(root):
        root["equipment"]["bras1"].coa_port = fr.coa_port
        root.outbox.keys[key].next_try_us = 0
    transact(db, due_now, "t", "retry now")
    assert wait_for(lambda: message(db, key)[0] == "sent", 15), message(db, key)
    assert message(db, key)[1] == "bras1: ACK"
    assert 'Acct-Session-Id = "S-silent"' in fr.received()


def test_nothing_sent_when_the_decision_is_rolled_back(nas_side):
    server, db, fr = nas_side
    start(server, "alice", "S-rb")
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        request_disconnect(get_root(conn.root()), "alice", "debt", "billing", key="rolled-back")
        tm.abort()
    finally:
        conn.close()
    # A committed message queued after it is carried out; the aborted one never.
    key = transact(db, lambda r: request_coa(r, "alice", "check", "t").key, "t", "t")
    settled(db, key)
    assert "Disconnect-Request" not in fr.received()
    assert read(db, lambda r: r.outbox.keys.get("rolled-back")) is None

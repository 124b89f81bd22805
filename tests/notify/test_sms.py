"""SMS over SMPP 3.4 to an SMSC in the test (submit_sm, deliver_sm receipts)
and over an HTTP gateway stub that fails, times out and recovers, with its
delivery-report callback."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portmonet.notify import receipts, texts
from portmonet.notify.sms import HttpSmsSender, SmppSender
from portmonet.notify.worker import ChannelWorker
from portmonet.outbox import queue_notice
from portmonet.payments.wallet import request_transfer

from .conftest import drain, settings
from portmonet.notify.smsc import SMSC
from portmonet.outbox import unseal


@pytest.fixture
def smsc():
    server = SMSC()
    yield server
    server.stop()


def smpp_worker(db, smsc, **extra):
    s = settings(notify__smpp__port=smsc.port, notify__smpp__password="pw-smpp1", **extra)
    return ChannelWorker(db, "sms", SmppSender(s), s)


def notice(root, contract, event="blocked", key=None):
    queue_notice(root.outbox, f"{event}:{key or contract.number}", contract.__parent__,
                 {"template": event, "contract": contract.number, "balance": -500,
                  "credit_limit": 0})


def test_smpp_submit_and_delivery_receipt(db, conn, tm, root, people, smsc, caplog):
    caplog.set_level("DEBUG")
    notice(root, people[501])             # Anna: English, Latin text
    notice(root, people[503])             # No Mail: Russian, UCS-2
    tm.commit()
    worker = smpp_worker(db, smsc)
    assert drain(worker, conn, tm) == 2
    got = {dest: (text, mid) for dest, text, mid in smsc.texts()}
    assert set(got) == {"79010000001", "79010000003"}
    assert got["79010000001"][0].startswith(f"Contract {people[501].number} blocked for debt")
    assert got["79010000003"][0].startswith(f"Договор {people[503].number} заблокирован")
    assert smsc.binds == [(b"portmonet", b"pw-smpp1")]
    # the receipts arrive on the same bind; the worker records them
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        worker.take_receipts(conn, tm, wait=0.2)
        tm.begin()
        states = {m.delivery for m in root.outbox.channels["sms"].values()}
        if states == {"delivered"}:
            break
    assert states == {"delivered"}
    message = root.outbox.keys[f"blocked:{people[501].number}|sms"]
    assert message.state == "sent" and got["79010000001"][1] in message.last_error
    assert "pw-smpp1" not in caplog.text          # the password is never logged
    worker.sender.close()


def test_smpp_refusals_permanent_and_busy(db, conn, tm, root, people, smsc):
    people[503].__parent__.phone = "+79990000000"     # the SMSC refuses 7999...
    notice(root, people[501])
    notice(root, people[503])
    smsc.busy = 1                                     # and is busy for the first
    tm.commit()
    worker = smpp_worker(db, smsc)
    drain(worker, conn, tm)
    tm.begin()
    states = sorted(m.state for m in root.outbox.channels["sms"].values())
    assert states == ["failed", "given-up"]
    refused = [m for m in root.outbox.channels["sms"].values() if m.state == "given-up"][0]
    assert "0x0b" in refused.last_error
    throttled = [m for m in root.outbox.channels["sms"].values() if m.state == "failed"][0]
    assert "0x58" in throttled.last_error and throttled.attempts == 1
    worker.sender.close()


def test_wallet_code_is_delivered_by_sms_even_in_quiet_hours(db, conn, tm, root, people, smsc):
    anna = people[501]
    anna.account.post(100000, "payment", "seed:anna", "seed")
    ref, _ = request_transfer(root, anna.account, people[502].account, 5000, "office")
    notice(root, anna, event="low-balance", key="q")          # not urgent: waits
    tm.commit()
    worker = smpp_worker(db, smsc, notify__quiet_hours="00:00-23:59")
    drain(worker, conn, tm)
    tm.begin()
    code = unseal(root.outbox.keys[f"transfer-code:{ref}"].payload)["code"]
    (sent,) = smsc.texts()
    assert sent[1].startswith(f"Code {code}: transfer 50.00 to {people[502].account.number}")
    held = root.outbox.keys["low-balance:q|sms"]
    assert held.state == "deferred" and held.attempts == 0 and held.next_try_us > 0
    worker.sender.close()


class Gateway:
    """An HTTP SMS gateway stub: answers 503, then times out, then works."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append((body, self.headers.get("Authorization")))
                step = gateway.script.pop(0) if gateway.script else "ok"
                if step == "slow":
                    time.sleep(1.5)
                    return
                code = 503 if step == "down" else 400 if step == "bad" else 200
                data = json.dumps({"id": f"gw-{len(gateway.requests)}"}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_http_gateway_fails_times_out_then_recovers(db, conn, tm, root, people):
    gateway = Gateway(["down", "slow", "ok"])
    try:
        s = settings(notify__sms__gateway="http", notify__http_sms__url=gateway.url,
                     notify__http_sms__timeout="0.5",
                     notify__http_sms__authorization="Bearer gw-token",
                     notify__http_sms__body='{"msisdn": "${to}", "message": "${text}", '
                                            '"meta": {"ref": "${ref}"}}')
        worker = ChannelWorker(db, "sms", HttpSmsSender(s), s)
        anna = people[501].__parent__
        anna.name = 'Anna", "msisdn": "+10000000000'       # cannot change the body's shape
        texts.save(root["notify"], "payment-received", "sms", "en",
                   "", "Payment {{ amount }} {{ currency }} received, {{ name }}", "", "admin")
        queue_notice(root.outbox, "pay:1", anna, {
            "template": "payment received", "account": "A", "amount": "10.00",
            "balance": "10.00", "currency": "RUB"})
        tm.commit()
        message_key = "pay:1|sms"
        for expected in ("HTTP 503", "timed out"):
            drain(worker, conn, tm, rounds=1)
            tm.begin()
            message = root.outbox.keys[message_key]
            assert message.state == "failed" and expected in message.last_error
            message.next_try_us = 0
            tm.commit()
        drain(worker, conn, tm)
        tm.begin()
        message = root.outbox.keys[message_key]
        assert message.state == "sent" and message.attempts == 2
        body, auth = gateway.requests[-1]
        assert set(body) == {"msisdn", "message", "meta"}
        assert body["msisdn"] == anna.phone and body["meta"] == {"ref": message_key}
        assert body["message"] == 'Payment 10.00 RUB received, Anna", "msisdn": "+10000000000'
        assert auth == "Bearer gw-token"
        assert receipts.record(root, "http", "gw-3", "DELIVRD") is message
        assert message.delivery == "delivered"
        assert receipts.record(root, "http", "nope", "DELIVRD") is None
    finally:
        gateway.stop()

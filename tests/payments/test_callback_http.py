"""The signed JSON callback API (card gateway, e-money, SMS) through waitress."""
import json
import time
import uuid

import pytest

from portmonet.payments.agents import Provider
from portmonet.payments.callback import sign

from .conftest import add_subscriber, as_json

pytestmark = pytest.mark.integration
SECRET = "a-provider-shared-secret-0123456789"


@pytest.fixture(scope="module")
def gw(module_web):
    def setup(root):
        root["payments"].add_agent(Provider("cardgw", SECRET, title="Card gateway"), root.catalog)
    module_web.transact(setup)
    return module_web


@pytest.fixture
def account(gw):
    return gw.transact(lambda root: add_subscriber(root, "Sidorov").account.number)


def send(web, payload, key=None, stamp=None, secret=SECRET, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    key = key or uuid.uuid4().hex
    stamp = str(int(time.time()) if stamp is None else stamp)
    sig = signature or sign(secret, stamp, key, body)
    status, out = web.post_json("/payments/cardgw/callback", body, {
        "X-Portmonet-Timestamp": stamp, "Idempotency-Key": key, "X-Portmonet-Signature": sig})
    return status, as_json(out)


def balance(web, number):
    return web.look(lambda root: root.catalog.accounts.get(number).balance)


def test_good_payment_then_check_state(gw, account):
    status, ans = send(gw, {"type": "check", "id": "c1", "account": account, "amount": "5.00"})
    assert status == 200 and ans["status"] == "ok" and balance(gw, account) == 0
    status, ans = send(gw, {"type": "pay", "id": "p1", "account": account, "amount": "250.50"})
    assert status == 200 and ans["status"] == "ok" and ans["code"] == "ok", ans
    assert ans["amount"] == "250.50" and ans["replayed"] is False
    assert balance(gw, account) == 25050

    def look(root):
        provider = root["payments"]["cardgw"]
        assert provider.account.balance == -25050
        entries = root["payments"].journal.search(channel="callback", text='"p1"')
        assert entries and entries[0].status == "done"
        assert root.outbox.keys.get("payment-received:callback:cardgw:p1") is not None
    gw.look(look)


def test_duplicates_post_once(gw, account):
    payload = {"type": "pay", "id": "p2", "account": account, "amount": "10.00"}
    _, first = send(gw, payload, key="k-p2")
    _, again = send(gw, payload, key="k-p2")
    _, other_key = send(gw, payload, key="k-p2-bis")
    assert first["code"] == "ok" and again["replayed"] is True
    assert again["payment_id"] == first["payment_id"]
    assert other_key["code"] == "duplicate" and other_key["payment_id"] == first["payment_id"]
    assert balance(gw, account) == 1000
    status, ans = send(gw, dict(payload, amount="99.00"), key="k-p2")
    assert status == 409 and ans["code"] == "key_reused"
    _, ans = send(gw, dict(payload, amount="99.00"), key="k-p2-ter")
    assert ans["code"] == "duplicate_mismatch"
    assert balance(gw, account) == 1000


def test_unknown_account(gw):
    _, ans = send(gw, {"type": "pay", "id": "p3", "account": "4242424242", "amount": "1.00"})
    assert ans["status"] == "rejected" and ans["code"] == "account_not_found"
    _, ans = send(gw, {"type": "pay", "id": "p4", "account": "<script>", "amount": "1.00"})
    assert ans["code"] == "bad_account"


@pytest.mark.parametrize("amount", ["abc", "-1.00", 1.5, "10.001", "0", "NaN", None])
def test_bad_amount(gw, account, amount):
    _, ans = send(gw, {"type": "pay", "id": "p5", "account": account, "amount": amount})
    assert ans["status"] == "rejected" and ans["code"] == "bad_amount", ans
    assert balance(gw, account) == 0


def test_forged_signature_is_refused_and_logged(gw, account, caplog):
    payload = {"type": "pay", "id": "p6", "account": account, "amount": "1000.00"}
    status, ans = send(gw, payload, secret="someone-elses-secret-0123456789")
    assert status == 401 and ans["code"] == "bad_signature"
    status, ans = send(gw, payload, signature="00" * 32)
    assert status == 401
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    good = sign(SECRET, stamp, "k6", body)
    status, ans = gw.post_json("/payments/cardgw/callback", body.replace(b"1000.00", b"9000.00"),
                               {"X-Portmonet-Timestamp": stamp, "Idempotency-Key": "k6",
                                "X-Portmonet-Signature": good})
    assert status == 401                    # a tampered body
    assert balance(gw, account) == 0
    rejected = gw.look(lambda root: [e.outcome for e in root["payments"].journal.search(
        channel="callback", status="rejected", text="p6")])
    assert len(rejected) == 3 and all(o.startswith("bad_signature") for o in rejected)


def test_stale_or_replayed_request_is_refused(gw, account):
    payload = {"type": "pay", "id": "p7", "account": account, "amount": "3.00"}
    status, ans = send(gw, payload, stamp=int(time.time()) - 3600)
    assert status == 401 and ans["code"] == "stale"
    status, ans = send(gw, payload, stamp=int(time.time()) + 3600)
    assert status == 401 and ans["code"] == "stale"
    assert balance(gw, account) == 0
    # A captured request sent again inside the window changes nothing.
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    headers = {"X-Portmonet-Timestamp": stamp, "Idempotency-Key": "k7",
               "X-Portmonet-Signature": sign(SECRET, stamp, "k7", body)}
    _, first = gw.post_json("/payments/cardgw/callback", body, headers)
    _, replay = gw.post_json("/payments/cardgw/callback", body, headers)
    assert as_json(replay) == dict(as_json(first), replayed=True)
    assert balance(gw, account) == 300


def test_cancel_refunds_once(gw, account):
    send(gw, {"type": "pay", "id": "p8", "account": account, "amount": "40.00"})
    _, ans = send(gw, {"type": "cancel", "id": "x8", "original_id": "p8"})
    assert ans["code"] == "ok" and ans["amount"] == "40.00"
    _, ans = send(gw, {"type": "cancel", "id": "x8b", "original_id": "p8"})
    assert ans["code"] == "duplicate"
    _, ans = send(gw, {"type": "cancel", "id": "x9", "original_id": "nope"})
    assert ans["code"] == "not_found"
    assert balance(gw, account) == 0


def test_unsigned_and_malformed(gw):
    status, _ = gw.post_json("/payments/cardgw/callback", b"{}", {})
    assert status == 401
    status, ans = send(gw, None, raw=b"not json")
    assert status == 400 and ans["code"] == "bad_json"

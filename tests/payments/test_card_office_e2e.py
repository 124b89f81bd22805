"""The office's card payment, end to end over real HTTP on loopback:
the subscriber starts it in the office -> is redirected to the provider's
payment page -> the provider (a small acquirer of our own on another
loopback port) checks our signature, sends its signed callback, and sends
the subscriber back -> the return page says paid -> the office shows the
new balance."""
import hmac
import http.server
import json
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from portmonet.payments.agents import Provider
from portmonet.payments.callback import sign

from .conftest import add_subscriber

pytestmark = pytest.mark.integration
SECRET = "office-card-secret-0123456789abc"


class Acquirer(http.server.ThreadingHTTPServer):
    """The provider's payment page: takes the card (here: at once), then
    confirms to Portmonet by the signed callback and sends the payer back."""

    def __init__(self, portmonet):
        super().__init__(("127.0.0.1", 0), AcquirerPage)
        self.portmonet = portmonet
        self.seen = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/pay"


class AcquirerPage(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        query = self.path.split("?", 1)[1]
        fields = dict(urllib.parse.parse_qsl(query))
        signed, _, sig = query.rpartition("&sig=")
        good = hmac.compare_digest(sign(SECRET, fields["ts"], fields["order"], signed.encode()), sig)
        self.server.seen.append((fields, good))
        if not good:
            self.send_response(400)
            self.end_headers()
            return
        body = json.dumps({"type": "pay", "id": fields["order"], "account": fields["account"],
                           "amount": fields["amount"], "currency": "RUB"}).encode()
        stamp, key = str(int(time.time())), uuid.uuid4().hex
        request = urllib.request.Request(
            self.server.portmonet + "/payments/cardgw/callback", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Portmonet-Timestamp": stamp,
                     "Idempotency-Key": key, "X-Portmonet-Signature": sign(SECRET, stamp, key, body)})
        with urllib.request.urlopen(request, timeout=30) as answer:
            self.server.seen.append(json.loads(answer.read()))
        self.send_response(302)
        self.send_header("Location", fields["return"])
        self.end_headers()


@pytest.fixture
def acquirer(module_web):
    server = Acquirer(module_web.base)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_office_card_payment_end_to_end(module_web, acquirer):
    web = module_web

    def setup(root):
        if "cardgw" not in root["payments"]:
            root["payments"].add_agent(Provider("cardgw", SECRET, pay_url=acquirer.url),
                                       root.catalog)
        root["payments"]["cardgw"].pay_url = acquirer.url
        contract = add_subscriber(root, "Smirnova Olga", login="olga")
        contract.account.post(1000, "payment", f"seed:olga:{uuid.uuid4().hex}")
        return contract.account.number, contract.__parent__.id, contract.number
    number, sid, contract_no = web.transact(setup)
    # Sign in to the office like a browser (login and Internet password).
    status, page = web.request("/@@office-login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    status, page = web.request("/@@office-login", data=urllib.parse.urlencode(
        {"identifier": "olga", "password": "secret", "csrf_token": token}).encode(), method="POST")
    assert status == 200 and b"Smirnova Olga" in page
    web.csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    assert b"10.00" in page
    # Pay 250.00 by card from the office's "Top up" page: the browser follows
    # every redirect (to the provider's page, and back), as a browser does.
    status, page = web.request(f"/subscribers/{sid}/@@office-topup")
    assert status == 200 and b'value="cardgw"' in page, page
    status, page = web.request(f"/subscribers/{sid}/@@office-topup", data=urllib.parse.urlencode(
        {"provider": "cardgw", "contract": contract_no, "amount": "250.00",
         "csrf_token": web.csrf}).encode(), method="POST")
    assert status == 200, page
    (fields, signature_ok), answer = acquirer.seen
    assert signature_ok and fields["account"] == number and fields["amount"] == "250.00"
    assert answer["status"] == "ok" and answer["code"] == "ok"
    assert b'id="paid"' in page and b"250.00" in page and fields["order"].encode() in page
    status, office = web.request(f"/subscribers/{sid}/@@office")
    assert status == 200
    assert re.search(rb'id="balance-[^"]+">260\.00<', office), office
    assert web.look(lambda root: root.catalog.accounts.get(number).balance) == 26000
    # Signed out, there is no pay_online permission: no start.
    status, _ = web.request("/@@office-logout", data=urllib.parse.urlencode(
        {"csrf_token": web.csrf}).encode(), method="POST")
    web.csrf = None
    status, page = web.request("/payments/cardgw/start", data=urllib.parse.urlencode(
        {"account": number, "amount": "1.00"}).encode(), method="POST")
    # (signed out: refused, or sent to the sign-in page; never to the provider)
    assert status in (400, 403) or b'name="password"' in page
    assert len(acquirer.seen) == 2

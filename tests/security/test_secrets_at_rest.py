"""Secrets never at rest in clear (issue 20): after requests that carry
every kind of secret through every body type, the database file, the ZEO
server's log, the payments journal and the process's log hold none of
them — while the same requests' non-secret fields are there."""
import json
import logging
import os
import re
import secrets
import urllib.parse

import pytest

from portmonet.model.staff import StaffUser
from portmonet.payments.agents import OsmpAgent, Provider
from portmonet.payments.callback import sign

from payments.conftest import add_subscriber, module_web, osmp_xml  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def luhn_card():
    """A 16-digit number that passes the Luhn check (looks like a real PAN)."""
    digits = [4] + [secrets.randbelow(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


@pytest.fixture
def secret_log(tmp_path):
    """Every record of the process at DEBUG, into a file (as a deployment's
    log handler would write it)."""
    path = tmp_path / "portmonet.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def test_no_secret_the_requests_carried_is_kept_in_clear(module_web, secret_log):  # noqa: F811
    web = module_web
    s = {name: f"{name}-{secrets.token_hex(8)}" for name in (
        "staff_password", "new_password", "osmp_password", "callback_secret", "inet_password",
        "office_try")}
    s["pin"] = "".join(str(secrets.randbelow(10)) for _ in range(12))
    s["card"] = luhn_card()
    s["cvv"] = f"{secrets.randbelow(900) + 100}"

    def setup(root):
        root["staff"].add_user(StaffUser("secretive", ["administrator"], s["staff_password"]))
        root["payments"].add_agent(OsmpAgent("sec", ["127.0.0.0/8"], "secterm",
                                             s["osmp_password"]), root.catalog)
        root["payments"].add_agent(Provider("secgw", s["callback_secret"]), root.catalog)
        contract = add_subscriber(root, "Tainova Vera")
        from portmonet.model.services import InternetService
        contract.add_service(InternetService("vera-secret", s["inet_password"]))
        return contract.account.number
    account = web.transact(setup)

    # The workplace: sign in (password, CSRF token in the form), change the password.
    web.sign_in("secretive", s["staff_password"])
    s["csrf"] = web.csrf
    status, _ = web.request("/@@password", data=urllib.parse.urlencode({
        "old": s["staff_password"], "new": s["new_password"], "confirm": s["new_password"],
        "csrf_token": s["csrf"]}).encode(), method="POST")
    assert status == 200
    web.jar.clear()
    web.csrf = None
    web.sign_in("secretive", s["new_password"])      # a new session, a new CSRF token
    # OSMP: credentials as query parameters and in a form body.
    query = {"command": "pay", "txn_id": "9001", "account": account, "sum": "10.00",
             "login": "secterm", "password": s["osmp_password"]}
    assert osmp_xml(web.request("/payments/sec/osmp", query)[1])["result"] == "0"
    status, body = web.request("/payments/sec/osmp", data=urllib.parse.urlencode(
        dict(query, txn_id="9002")).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert osmp_xml(body)["result"] == "0"
    # Card activation: the PIN, a card number and a CVV in each body type.
    bodies = {
        "application/x-www-form-urlencoded": urllib.parse.urlencode({
            "account": account, "serial": "1" * 12, "pin": s["pin"], "csrf_token": s["csrf"],
            "card_number": s["card"]}).encode(),
        "application/json": json.dumps({"account": account, "pin": s["pin"],
                                        "card": {"pan": s["card"], "cvv": s["cvv"]}}).encode(),
        "application/xml": (f"<activate><account>{account}</account><pin>{s['pin']}</pin>"
                            f"<card number='x' cvv2=\"{s['cvv']}\"><cardNumber>{s['card']}"
                            f"</cardNumber></card></activate>").encode(),
        "multipart/form-data; boundary=XyZ": (
            f"--XyZ\r\nContent-Disposition: form-data; name=\"account\"\r\n\r\n{account}\r\n"
            f"--XyZ\r\nContent-Disposition: form-data; name=\"pin\"\r\n\r\n{s['pin']}\r\n"
            f"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{s['csrf']}\r\n"
            f"--XyZ--\r\n").encode(),
    }
    for ctype, data in bodies.items():
        status, _ = web.request("/payments/cards/activate", data=data, method="POST",
                                headers={"Content-Type": ctype})
        assert status == 400, (ctype, status)
    # A callback whose body carries a card number (a careless provider).
    cb = json.dumps({"type": "check", "id": "c-sec", "account": account, "amount": "1.00",
                     "card_number": s["card"], "cvv": s["cvv"]}).encode()
    stamp, key = "1", "k-sec"
    web.post_json("/payments/secgw/callback", cb, {
        "X-Portmonet-Timestamp": stamp, "Idempotency-Key": key,
        "X-Portmonet-Signature": sign(s["callback_secret"], stamp, key, cb)})
    # The office: a wrong password, then the Internet password.
    for password in (s["office_try"], s["inet_password"]):
        web.request("/@@office-login", data=urllib.parse.urlencode({
            "identifier": "vera-secret", "password": password}).encode(), method="POST")
    # A careless log line names secrets: the process's log masks them.
    logging.getLogger("portmonet.test").warning(
        "retrying with password=%s pin=%s secret=%s", s["osmp_password"], s["pin"],
        s["callback_secret"])

    # What is kept: the journal, the log, the database file, the ZEO log.
    def journal_texts(root):
        journal = root["payments"].journal
        return [repr((e.query, journal.text(e), e.headers, e.outcome, e.ext_id))
                for e in journal.search(limit=10_000)]
    kept = {"journal": "\n".join(web.look(journal_texts)),
            "log": secret_log.read_text(encoding="utf-8")}
    web.app_storage.ping()
    for name in ("Data.fs", "zeo.log"):
        with open(os.path.join(web.zeo.dir, name), "rb") as f:
            kept[name] = f.read().decode("latin-1")
    cvv = s.pop("cvv")          # three digits occur anywhere: looked for next to its name
    leaks = [(secret, where) for secret in s.values() for where, text in kept.items()
             if secret in text or secret.encode().decode("latin-1") in text]
    assert leaks == [], leaks
    assert not re.search(rf"cvv2?\W{{0,4}}{cvv}", kept["journal"], re.I)
    # ... and they were written: the controls are found where the secrets are not.
    assert "txn_id=9001" in kept["journal"] and "password=***" in kept["journal"]
    assert '"pin": "***"' in kept["journal"] and "<pin>***</pin>" in kept["journal"]
    assert "retrying with password=***" in kept["log"]
    assert re.search(r"Tainova Vera", kept["Data.fs"].encode("latin-1").decode("utf-8",
                                                                               "replace"))

"""Canonical input per payment channel (issue 20): every other spelling of
an id or an amount is refused with the channel's own error, or recognised
as the same value; a parameter given twice is an error; a malformed
header is the protocol's answer, never a 500; every refusal is journaled
and nothing is booked.  docs/payments.md, "Canonical input"."""
import http.client
import itertools
import json
import time
import urllib.parse
import uuid

import pytest

from portmonet.payments.agents import OsmpAgent, Provider
from portmonet.payments.callback import sign

from .conftest import add_subscriber, as_json, osmp_xml

pytestmark = pytest.mark.integration
AUTH = ("canon", "canon-terminal-password")
SECRET = "canonical-provider-secret-0123456789"
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ids = itertools.count(7001)


@pytest.fixture(scope="module")
def web(module_web):
    def setup(root):
        root["payments"].add_agent(OsmpAgent("canon", ["127.0.0.0/8"], *AUTH), root.catalog)
        root["payments"].add_agent(Provider("canongw", SECRET, title="Canon"), root.catalog)
    module_web.transact(setup)
    return module_web


@pytest.fixture
def account(web):
    return web.transact(lambda root: add_subscriber(root, "Petrova Anna").account.number)


def balance(web, number):
    return web.look(lambda root: root.catalog.accounts.get(number).balance)


def journal(web, channel, agent):
    return web.look(lambda root: [(e.status, e.outcome) for e in root["payments"].journal.search(
        channel=channel, agent=agent, limit=1000)])


def osmp(web, query):
    """An OSMP request with *query* exactly as given (a string or pairs)."""
    if not isinstance(query, str):
        query = urllib.parse.urlencode(query)
    status, body = web.request("/payments/canon/osmp?" + query, auth=AUTH)
    return status, osmp_xml(body)


def pay_query(txn_id, account, amount="150.00", **extra):
    return [("command", "pay"), ("txn_id", txn_id), ("txn_date", "20261125120000"),
            ("account", account), ("sum", amount)] + list(extra.items())


# -- OSMP --------------------------------------------------------------------
def other_txn_ids(t):
    """Spellings of txn_id *t* that are not its canonical form."""
    return ["0" + t, "00" + t, t.translate(ARABIC), t.translate(FULLWIDTH), t + "\n", " " + t,
            t + " ", "+" + t, t + ".0", "1e3", "-" + t, ""]


OTHER_SUMS = ["1e3", "1E2", "1 000", "1\u00a0000", "150,00", "150,5", "١٥٠", "１５０", "0150",
              "150.", ".5", "150.001", " 150", "150 ", "150\n", "15\n0", "+150", "-150",
              "Infinity", "NaN", "0x96", "150.00.00", "1_000", ""]


def test_osmp_refuses_every_other_spelling_of_a_txn_id(web, account):
    t = str(next(_ids))
    status, ans = osmp(web, pay_query(t, account))
    assert status == 200 and ans["result"] == "0"
    for other in other_txn_ids(t):
        status, ans = osmp(web, pay_query(other, account))
        assert status == 200 and ans["result"] == "300", (other, ans)
    assert balance(web, account) == 15000           # booked once
    # The canonical repeat is the stored first answer, not a new payment.
    status, ans = osmp(web, pay_query(t, account))
    assert ans["result"] == "0" and balance(web, account) == 15000


@pytest.mark.parametrize("amount", OTHER_SUMS)
def test_osmp_refuses_a_sum_not_in_canonical_form(web, account, amount):
    for command in ("check", "pay"):
        status, ans = osmp(web, [("command", command)] + pay_query(str(next(_ids)), account,
                                                                   amount)[1:])
        assert status == 200 and ans["result"] == "300", (command, amount, ans)
    assert balance(web, account) == 0


def test_osmp_sums_that_mean_the_same_amount(web, account):
    for amount in ("150", "150.0", "150.00"):
        status, ans = osmp(web, pay_query(str(next(_ids)), account, amount))
        assert ans["result"] == "0" and ans["sum"] == "150.00", (amount, ans)
    assert balance(web, account) == 45000


@pytest.mark.parametrize("name", ["sum", "txn_id", "account", "command", "password"])
def test_osmp_repeated_parameter_is_an_error(web, account, name):
    t = str(next(_ids))
    query = pay_query(t, account) + [("password", AUTH[1])]
    value = dict(query)[name]
    query.append((name, "100000.00" if name == "sum" else value))
    status, ans = osmp(web, query)
    assert status == 200 and ans["result"] == "300", ans
    assert "more than once" in ans["comment"]
    assert balance(web, account) == 0
    # Journaled as refused, under its txn_id.
    entries = web.look(lambda root: root["payments"].journal.for_ext_id("canon", t))
    assert [e.status for e in entries] == ["rejected"]
    assert "more than once" in entries[0].outcome


def test_osmp_repeated_parameter_split_between_query_and_body(web, account):
    t = str(next(_ids))
    status, body = web.request(
        "/payments/canon/osmp?" + urllib.parse.urlencode(pay_query(t, account)),
        data=b"sum=99999.00", auth=AUTH, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert osmp_xml(body)["result"] == "300"
    assert balance(web, account) == 0


@pytest.mark.parametrize("account_text", ["{a} ", " {a}", "{a}\n", "{a}\r\n", "{a}\x00"])
def test_osmp_account_with_spaces_or_controls_is_a_wrong_format(web, account, account_text):
    status, ans = osmp(web, pay_query(str(next(_ids)), account_text.format(a=account)))
    assert status == 200 and ans["result"] in ("4", "300"), ans
    assert balance(web, account) == 0


def test_osmp_bad_txn_date_and_odd_bytes_in_the_query(web, account):
    for date in ("2026112512000０", "20261125120000\n", "2026-11-25"):
        q = pay_query(str(next(_ids)), account)
        q[2] = ("txn_date", date)
        assert osmp(web, q)[1]["result"] == "300"
    # Bytes that are not UTF-8, control characters: an answer, well-formed XML.
    status, ans = osmp(web, "command=pay&txn_id=%ff%fe&account=%00&sum=%01")
    assert status == 200 and ans["result"] == "300"
    assert balance(web, account) == 0


# -- signed callbacks -------------------------------------------------------
def post_raw(web, path, body, headers):
    """POST with header values as raw bytes (http.client would refuse to
    encode non-Latin-1 text): what a broken or hostile client can send."""
    url = urllib.parse.urlsplit(web.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def callback(web, payload=None, raw=None, key=None, stamp=None, signature=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    key = key or uuid.uuid4().hex
    stamp = str(int(time.time())) if stamp is None else stamp
    sig = signature if signature is not None else sign(SECRET, stamp, key, body)
    status, out = post_raw(web, "/payments/canongw/callback", body, {
        "X-Portmonet-Timestamp": stamp.encode() if isinstance(stamp, str) else stamp,
        "Idempotency-Key": key.encode() if isinstance(key, str) else key,
        "X-Portmonet-Signature": sig.encode() if isinstance(sig, str) else sig})
    return status, as_json(out)


@pytest.mark.parametrize("amount", OTHER_SUMS + [150, 150.0, None, ["150.00"], {"a": 1}])
def test_callback_refuses_an_amount_not_in_canonical_form(web, account, amount):
    status, ans = callback(web, {"type": "pay", "id": f"p{next(_ids)}", "account": account,
                                 "amount": amount})
    assert status == 200 and ans["code"] == "bad_amount", (amount, ans)
    assert balance(web, account) == 0


@pytest.mark.parametrize("pay_id", [7, 7.0, True, None, ["a"], "p 1", "p1\n", "п1", "p١", ""])
def test_callback_payment_id_is_an_ascii_string(web, account, pay_id):
    status, ans = callback(web, {"type": "pay", "id": pay_id, "account": account,
                                 "amount": "1.00"})
    assert status == 200 and ans["code"] == "bad_id", (pay_id, ans)
    assert balance(web, account) == 0


@pytest.mark.parametrize("field,value,code", [
    ("account", 1018, "bad_account"), ("account", ["x"], "bad_account"),
    ("currency", ["RUB"], "bad_currency"), ("currency", "XXX", "bad_currency"),
    ("currency", 643, "bad_currency")])
def test_callback_other_fields_of_the_wrong_type(web, account, field, value, code):
    payload = {"type": "pay", "id": f"p{next(_ids)}", "account": account, "amount": "1.00"}
    payload[field] = value
    status, ans = callback(web, payload)
    assert status == 200 and ans["code"] == code, ans


def test_callback_repeated_json_name_is_an_error(web, account):
    pay_id = f"p{next(_ids)}"
    raw = ('{"type": "pay", "id": "%s", "account": "%s", "amount": "1.00", "amount": "9999.00"}'
           % (pay_id, account)).encode()
    status, ans = callback(web, raw=raw)
    assert status == 400 and ans["code"] == "bad_json", ans
    assert balance(web, account) == 0


@pytest.mark.parametrize("header,value", [
    ("signature", "é" * 64), ("signature", "\u0661" * 64), ("signature", b"\xff\xfe" * 32),
    ("signature", "0" * 63), ("stamp", "\u0661\u0662\u0663"), ("stamp", "0123"),
    ("stamp", "12 34"), ("key", "ключ"), ("key", b"\xff\xfe"), ("key", "a b")])
def test_callback_malformed_header_is_a_401_answer_and_journaled(web, account, header, value):
    pay_id = f"p{next(_ids)}"
    payload = {"type": "pay", "id": pay_id, "account": account, "amount": "1.00"}
    before = len(journal(web, "callback", "canongw"))
    if isinstance(value, str):
        value = value.encode("utf-8")
    status, ans = callback(web, payload, **{"signature" if header == "signature" else header:
                                            value})
    assert status == 401 and ans["code"] in ("unsigned", "bad_signature"), ans
    after = journal(web, "callback", "canongw")
    assert len(after) == before + 1 and after[0][0] == "rejected"
    assert balance(web, account) == 0


def test_callback_timestamp_in_other_digits_does_not_verify(web, account):
    """A signature made over the Arabic-digit spelling of a good timestamp
    is still refused: the canonical timestamp is ASCII."""
    stamp = str(int(time.time())).translate(ARABIC)
    key = uuid.uuid4().hex
    body = json.dumps({"type": "pay", "id": f"p{next(_ids)}", "account": account,
                       "amount": "1.00"}).encode()
    status, ans = callback(web, raw=body, key=key, stamp=stamp.encode(),
                           signature=sign(SECRET, stamp, key, body))
    assert status == 401 and ans["code"] == "unsigned"
    assert balance(web, account) == 0


# -- bank files ---------------------------------------------------------------
def test_bank_amounts_and_references_are_canonical():
    from portmonet.payments.bankfiles import CsvLayout, StatementError, parse
    from .test_bank import doc, one_c

    def one_c_with(**fields):
        d = doc("12", "10.00", "x")
        d.update(fields)
        return one_c([d]).encode("cp1251")

    assert parse(one_c_with(), "1c")[0].amount == 1000
    for amount in ("10,00", "1e1", "1 000.00", "010.00", "10.", "+10", "١٠"):
        if amount.isascii():
            with pytest.raises(StatementError, match="line"):
                parse(one_c_with(Сумма=amount), "1c")
    # A 1C document number is a number: "0012" is document 12.
    assert parse(one_c_with(Номер="0012"), "1c")[0].ref == parse(one_c_with(), "1c")[0].ref
    camt = ('<Document><BkToCstmrStmt><Stmt><Id>S</Id><Ntry><Amt Ccy="RUB">{amt}</Amt>'
            '<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-24</Dt></BookgDt>'
            '<AcctSvcrRef>{ref}</AcctSvcrRef></Ntry></Stmt></BkToCstmrStmt></Document>')
    assert parse(camt.format(amt="300.00", ref="E-1").encode(), "camt053")[0].amount == 30000
    for amt, ref in (("300,00", "E-1"), ("3e2", "E-1"), ("٣٠٠", "E-1"), ("300.00", "E 1"),
                     ("300.00", "E-١")):
        with pytest.raises(StatementError):
            parse(camt.format(amt=amt, ref=ref).encode(), "camt053")
    layout = CsvLayout.from_text("ref=Ref,date=Дата,amount=Сумма")
    good = "Ref;Дата;Сумма\r\nR1;01.11.2026;{a}\r\n"
    assert parse(good.format(a="1234,56").encode("cp1251"), "csv", layout)[0].amount == 123456
    for amount in ("1 234,56", "1234.56", "1,234,56", "1e3", "01234,56"):
        with pytest.raises(StatementError, match="line 2"):
            parse(good.format(a=amount).encode("cp1251"), "csv", layout)
    grouped = CsvLayout.from_text("ref=Ref,date=Дата,amount=Сумма", group=" ")
    assert parse(good.format(a="1 234,56").encode("cp1251"), "csv", grouped)[0].amount == 123456
    with pytest.raises(StatementError):
        parse(good.format(a="12 34,56").encode("cp1251"), "csv", grouped)


# -- cash desk and cards (WebTest, the desk's own fixture) ---------------------
from .test_cashdesk import app, as_, balance as desk_balance  # noqa: E402,F401


@pytest.mark.parametrize("amount", ["1e3", "1 000", "１００", "١٠٠", "0100", "100.001", "+100",
                                    "10,0,0", "Infinity"])
def test_cash_desk_refuses_an_amount_not_in_canonical_form(app, amount):
    app.post("/payments/cashdesk/open", headers=as_("kate"))
    app.post("/payments/cashdesk/pay", {"account": "olga", "amount": amount},
             headers=as_("kate"), status=400)
    assert desk_balance(app) == 0


def test_cash_desk_typed_forms_of_one_amount_and_repeats(app):
    app.post("/payments/cashdesk/open", headers=as_("kate"))
    for token, amount in (("t1", "100"), ("t2", " 100,00 "), ("t3", "100.0")):
        app.post("/payments/cashdesk/pay", {"account": "olga", "amount": amount, "token": token},
                 headers=as_("kate"), status=302)
    assert desk_balance(app) == 30000
    app.post("/payments/cashdesk/pay", [("account", "olga"), ("amount", "1"),
                                        ("amount", "1000"), ("token", "t4")],
             headers=as_("kate"), status=400)
    app.post("/payments/cashdesk/pay", [("account", "olga"), ("amount", "1"), ("token", "t5"),
                                        ("token", "t6")], headers=as_("kate"), status=400)
    assert desk_balance(app) == 30000


def test_card_activation_takes_only_the_printed_digits(root, tm):
    import datetime
    from portmonet.payments.cards import CardError
    cards = root["payments"].cards
    batch, made = cards.generate("C", 50000, 1, datetime.date(2099, 1, 1))
    cards.issue("C", "dealer")
    account = add_subscriber(root, "Orlov").account
    tm.commit()
    serial, pin = made[0]
    for s, p in ((serial.translate(ARABIC), pin), (serial, pin.translate(FULLWIDTH)),
                 (" " + serial, pin), (serial, pin + "\n"), (serial[1:], pin), (serial, "")):
        with pytest.raises(CardError, match="12 digits"):
            cards.activate(root, s, p, account, ["account:x"])
    assert cards.failures.get("account:x") is None     # malformed is not a wrong guess
    cards.activate(root, serial, pin, account, ["account:x"])
    assert account.balance == 50000


def test_card_activation_endpoint_repeated_pin_is_refused_and_journaled(web, account):
    from portmonet.model.staff import StaffUser
    web.transact(lambda root: root["staff"].add_user(
        StaffUser("canoncash", ["cashier"], "canon-cashier-password")))
    web.sign_in("canoncash", "canon-cashier-password")
    body = urllib.parse.urlencode([("account", account), ("serial", "3" * 12),
                                   ("pin", "1" * 12), ("pin", "2" * 12)]).encode()
    status, out = web.request("/payments/cards/activate", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "more than once" in as_json(out)["message"]
    entries = web.look(lambda root: root["payments"].journal.search(channel="card"))
    assert [e.status for e in entries] == ["rejected"] and "more than once" in entries[0].outcome
    assert "1" * 12 not in entries[0].text()                # the PIN is masked

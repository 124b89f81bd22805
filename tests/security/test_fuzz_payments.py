"""Hypothesis fuzz of the payment parsers (issue 20), a bounded number of
examples each: no exception escapes, a refused request books nothing,
and no two spellings of one payment are booked twice."""
import hmac
import itertools
import json
import time

import pytest
from defusedxml import ElementTree
from hypothesis import HealthCheck, event, given, settings, strategies as st

from portmonet.model.root import get_root, install
from portmonet.money import MoneyError, format_amount, parse_canonical, parse_typed
from portmonet.ops.check import check_books
from portmonet.payments import callback, gate
from portmonet.payments.agents import OsmpAgent, Provider
from portmonet.payments.bankfiles import StatementError, parse
from portmonet.payments.canonical import NotCanonical, number
from payments.test_canonical import ARABIC
from payments.conftest import add_subscriber
from payments.test_bank import doc, one_c

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
AUTH = ("fuzz", "fuzz-terminal-password")
SECRET = "fuzz-provider-secret-0123456789"
KEYS = itertools.count()
# Text that looks like what is expected, and what an attacker would try.
NASTY = st.sampled_from(["", " ", "\n", "0", "00", "1e3", "NaN", "Infinity", "-1", "+1",
                         "1,5", "1 000", "\u0661", "\uff11", "\u00a0", "\x00", "\ud7ff",
                         "9" * 30, "0.001", "150.", ".5"])
TEXT = st.one_of(NASTY, st.text(max_size=24),
                 st.text(alphabet="0123456789., e+-\u0661\uff11", max_size=16))


def mostly(good, bad=TEXT):
    """*good* three times in four, else *bad*: most examples get far."""
    return st.tuples(st.booleans(), st.booleans()).flatmap(
        lambda coins: bad if all(coins) else good)


@pytest.fixture
def world(db):
    """The in-memory database (tests/conftest) with an OSMP agent, a callback
    provider and one subscriber."""
    with db.transaction() as conn:
        root = install(conn.root())
        root["payments"].add_agent(OsmpAgent("fz", ["127.0.0.0/8"], *AUTH), root.catalog)
        root["payments"].add_agent(Provider("fzgw", SECRET), root.catalog)
        number_ = add_subscriber(root, "Fuzz Fuzzov", login="fuzzer").account.number
    return db, number_


def look(db, func):
    with db.transaction() as conn:
        return func(get_root(conn.root()))


@given(TEXT)
@settings(max_examples=400, deadline=None)
def test_amount_parsers_accept_only_ascii_and_round_trip(text):
    for parse_ in (parse_canonical, parse_typed):
        try:
            minor = parse_(text)
        except MoneyError:
            continue
        assert isinstance(minor, int) and minor >= 0
        assert text.strip().isascii() and "e" not in text.lower()
        assert parse_canonical(format_amount(minor)) == minor


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_a_canonical_number_is_its_own_int(text):
    try:
        number(text, "n")
    except NotCanonical:
        return
    assert text.isascii() and str(int(text)) == text


@st.composite
def osmp_requests(draw, account):
    pairs = [("command", draw(mostly(st.sampled_from(["pay", "pay", "check"]),
                                     st.sampled_from(["", "PAY", "x"])))),
             ("txn_id", draw(mostly(st.integers(1, 30).map(str)))),
             ("txn_date", draw(mostly(st.just("20261125120000")))),
             ("account", draw(mostly(st.just(account), st.sampled_from(
                 [account + " ", "0" + account, account + "\n", account.translate(ARABIC)])))),
             ("sum", draw(mostly(st.sampled_from(["1", "1.0", "1.00", "2.50"]))))]
    pairs = draw(st.permutations(pairs))
    extra = draw(mostly(st.just([]), st.lists(st.tuples(st.sampled_from(gate.NAMES + ("x",)),
                                                         TEXT), max_size=2)))
    return pairs + extra


@FUZZ
@given(data=st.data())
def test_osmp_fuzz_books_each_canonical_txn_once(world, data):
    db, account = world
    pairs = data.draw(osmp_requests(account))
    before = look(db, lambda root: (root.catalog.accounts.get(account).balance,
                                    len(root["payments"].journal.entries)))
    raw = gate.raw_fields("fz", "127.0.0.1", "GET", "/payments/fz/osmp", "", b"", [])
    call = gate.make_call("fz", pairs, AUTH, "127.0.0.1", raw)
    status, xml = gate.handle(db, {}, call)
    answer = {c.tag: c.text or "" for c in ElementTree.fromstring(xml)}
    after = look(db, lambda root: (root.catalog.accounts.get(account).balance,
                                   len(root["payments"].journal.entries)))
    assert status == 200 and after[1] == before[1] + 1          # journaled, always
    given_ = dict(pairs)
    event(f"osmp result {answer['result']}")
    if after[0] != before[0]:                                   # booked: only canonical
        assert answer["result"] == "0" and given_["command"] == "pay"
        assert given_["txn_id"].isascii() and str(int(given_["txn_id"])) == given_["txn_id"]
        assert len(pairs) == len(given_)                        # no repeated parameter
    # Every txn_id booked once: the ledger holds one posting per canonical id.

    def books(root):
        acc = root.catalog.accounts.get(account)
        causes = [p.cause for p in acc.ledger.values()]
        assert len(causes) == len(set(causes))
        assert all(c.split(":")[2] == str(int(c.split(":")[2])) for c in causes)
        assert acc.balance == sum(p.amount for p in acc.ledger.values())
        report = check_books(root, root._p_jar)      # the whole books, not half written
        assert report.ok, report.problems
    look(db, books)


@FUZZ
@given(data=st.data())
def test_callback_fuzz_only_refuses_or_answers(world, data):
    db, account = world
    stamp, key, sig = (data.draw(mostly(st.none(), st.one_of(TEXT, st.binary(max_size=8).map(
        lambda b: b.decode("latin-1"))))) for _ in range(3))
    body = data.draw(mostly(st.fixed_dictionaries({
        "type": mostly(st.sampled_from(["pay", "check", "cancel"]), st.just(1)),
        "id": mostly(st.integers(1, 20).map(lambda n: f"x{n}"), st.one_of(TEXT, st.integers())),
        "original_id": st.integers(1, 20).map(lambda n: f"x{n}"),
        "amount": mostly(st.sampled_from(["1", "1.00", "2.5"]),
                         st.one_of(TEXT, st.integers(), st.none())),
        "account": mostly(st.just(account), st.one_of(TEXT, st.integers())),
        "currency": mostly(st.just("RUB"), st.one_of(TEXT, st.lists(st.integers(), max_size=1))),
    }).map(lambda d: json.dumps(d).encode()), st.binary(max_size=80)))
    now = str(int(time.time()))
    stamp = now if stamp is None else stamp
    key = f"k-{next(KEYS)}" if key is None else key
    if sig is None:              # a good signature over whatever was drawn
        sig = hmac.new(SECRET.encode(), f"{stamp}.{key}.".encode("utf-8", "replace") + body,
                       "sha256").hexdigest()
    headers = {"X-Portmonet-Timestamp": stamp, "Idempotency-Key": key,
               "X-Portmonet-Signature": sig}
    before = look(db, lambda root: root.catalog.accounts.get(account).balance)
    with db.transaction() as conn:
        root = get_root(conn.root())
        provider = root["payments"]["fzgw"]
        try:
            idem, parsed = callback.verify(provider, headers, body)
            answer = callback.handle(root, provider, idem, body, parsed, "fuzz")
        except callback.Refused:
            answer = None
        json.dumps(answer)                               # an answer is JSON as it is
    after = look(db, lambda root: root.catalog.accounts.get(account).balance)
    event(f"callback {answer and answer['code']}")
    if after != before:
        assert answer["status"] == "ok" and not answer["replayed"]
        sign_ = -1 if parsed["type"] == "cancel" else 1
        assert after - before == sign_ * parse_canonical(answer["amount"])


@FUZZ
@given(fmt=st.sampled_from(["1c", "camt053"]), junk=st.binary(max_size=200))
def test_bank_parsers_fuzz_random_bytes(fmt, junk):
    try:
        lines = parse(junk, fmt)
    except StatementError:
        return
    for line in lines:
        assert isinstance(line.amount, int) and line.amount > 0 and line.ref.isascii()


@FUZZ
@given(number_=TEXT, amount=TEXT, payer=TEXT)
def test_bank_1c_fuzzed_fields(number_, amount, payer):
    d = doc(number_, amount, "Оплата")
    d["ПлательщикСчет"] = payer
    try:
        data = one_c([d]).encode("cp1251")
    except UnicodeEncodeError:
        data = one_c([d]).encode("utf-8")
    try:
        lines = parse(data, "1c")
    except StatementError:
        return
    for line in lines:
        assert line.amount == parse_canonical(amount) > 0 and line.ref.isascii()

"""The OSMP check/pay protocol through a real waitress server on loopback."""
import itertools

import pytest

from portmonet import clock
from portmonet.ops.check import check_books
from portmonet.payments.agents import OsmpAgent

from .conftest import add_subscriber, osmp_xml

pytestmark = pytest.mark.integration
AUTH = ("term", "terminal-password")


@pytest.fixture(scope="module")
def server(module_web):
    def setup(root):
        root["payments"].add_agent(OsmpAgent("qiwi", ["127.0.0.0/8"], AUTH[0], AUTH[1]),
                                   root.catalog)
    module_web.transact(setup)
    return module_web


_txn = itertools.count(1)


def txn():
    """A txn_id no other test of the module used (answers are kept per agent)."""
    return str(next(_txn))


@pytest.fixture
def shop(server):
    """The server, with a new subscriber of this test's own (login ``ivan<n>``)."""
    login = f"ivan{next(_txn)}"

    def setup(root):
        contract = add_subscriber(root, "Ivanov Ivan", email="ivan@example.org", login=login)
        return contract.account.number, contract.number
    server.account, server.contract = server.transact(setup)
    server.login = login
    return server


def call(web, auth=AUTH, **params):
    status, body = web.request("/payments/qiwi/osmp", params, auth=auth)
    return status, osmp_xml(body)


def balance(web, number):
    return web.look(lambda root: root.catalog.accounts.get(number).balance)


def test_check_then_pay_credits_once_and_journals(shop):
    t = txn()
    status, ans = call(shop, command="check", txn_id=t, account=shop.account, sum="150.00")
    assert status == 200 and ans["result"] == "0"
    assert balance(shop, shop.account) == 0
    status, ans = call(shop, command="pay", txn_id=t, txn_date="20261125120000",
                       account=shop.account, sum="150.00")
    assert status == 200 and ans["result"] == "0" and ans["osmp_txn_id"] == t
    assert ans["prv_txn"] and ans["sum"] == "150.00"
    assert balance(shop, shop.account) == 15000

    def look(root):
        entries = root["payments"].journal.for_ext_id("qiwi", t)
        assert [e.status for e in entries] == ["done", "done"]
        assert "command=pay" in entries[-1].query or "command=pay" in entries[0].query
        assert all("terminal-password" not in e.query for e in entries)
        account = root.catalog.accounts.get(shop.account)
        posting = next(iter(account.ledger.values()))
        assert posting.cause == f"osmp:qiwi:{t}" and str(posting.key) == ans["prv_txn"]
        agent = root["payments"]["qiwi"]
        collected = agent.account.postings()
        assert [p.amount for p in collected if p.cause == f"agent:qiwi:{t}"] == [-15000]
        mail = root.outbox.keys.get(f"payment-received:osmp:qiwi:{t}")
        assert mail is not None and mail.payload["to"] == "ivan@example.org"
        conn = root._p_jar
        report = check_books(root, conn)
        assert report.ok, report.problems
        assert report.counts["payments received"] >= 1
    shop.look(look)


def test_repeated_txn_id_returns_the_first_answer(shop):
    t = txn()
    _, first = call(shop, command="pay", txn_id=t, account=shop.account, sum="10.00")
    _, again = call(shop, command="pay", txn_id=t, account=shop.account, sum="10.00")
    _, other = call(shop, command="pay", txn_id=t, account=shop.login, sum="99.00")
    assert first["result"] == "0" and again == first and other == first
    assert balance(shop, shop.account) == 1000


def test_login_and_contract_number_find_the_account(shop):
    _, a = call(shop, command="pay", txn_id=txn(), account=shop.login, sum="1.00")
    _, b = call(shop, command="pay", txn_id=txn(), account=shop.contract, sum="2.00")
    assert a["result"] == b["result"] == "0"
    assert balance(shop, shop.account) == 300


def test_unknown_account_and_bad_format(shop):
    _, ans = call(shop, command="check", txn_id=txn(), account="0000000000", sum="10")
    assert ans["result"] == "5"
    _, ans = call(shop, command="pay", txn_id=txn(), account="no such!", sum="10")
    assert ans["result"] == "4"
    _, ans = call(shop, command="pay", txn_id=txn(), account="nobody", sum="10")
    assert ans["result"] == "5"


@pytest.mark.parametrize("amount,result", [
    ("abc", "300"), ("-5", "300"), ("10.999", "300"), ("0", "241"), ("0.50", "241"),
    ("99999999", "242"), ("", "300")])
def test_bad_amount_is_refused_and_nothing_posted(shop, amount, result):
    _, ans = call(shop, command="pay", txn_id=txn(), account=shop.account, sum=amount)
    assert ans["result"] == result
    assert balance(shop, shop.account) == 0


def test_bad_txn_id_and_command(shop):
    _, ans = call(shop, command="pay", txn_id="12ab", account=shop.account, sum="10")
    assert ans["result"] == "300"
    _, ans = call(shop, command="refund", txn_id=txn(), account=shop.account, sum="10")
    assert ans["result"] == "300"


def test_wrong_credentials_and_address_are_refused_and_journaled(shop):
    status, ans = call(shop, auth=("term", "guess"), command="pay", txn_id=txn(),
                       account=shop.account, sum="10")
    assert status == 403 and ans["result"] == "8"

    def narrow(root):
        root["payments"]["qiwi"].allow = ("192.0.2.0/24",)
    shop.transact(narrow)
    try:
        status, ans = call(shop, command="pay", txn_id=txn(), account=shop.account, sum="10")
    finally:
        shop.transact(lambda root: setattr(root["payments"]["qiwi"], "allow", ("127.0.0.0/8",)))
    assert status == 403
    assert balance(shop, shop.account) == 0
    outcomes = shop.look(lambda root: sorted(
        e.outcome for e in root["payments"].journal.search(
            channel="osmp", status="rejected", text=f"account={shop.account}")))
    assert outcomes == ["address 127.0.0.1 not allowed", "bad credentials"]


def test_payment_unblocks_a_debtor(shop):
    def debtor(root):
        contract = add_subscriber(root, "Petrov Petr", credit_limit=0)
        contract.account.post(-5000, "charge", "fee:test")
        contract.set_status("blocked", "debt")
        return contract.account.number
    number = shop.transact(debtor)
    _, ans = call(shop, command="pay", txn_id=txn(), account=number, sum="20.00")
    assert ans["result"] == "0"
    status = shop.look(lambda root: root.catalog.accounts.get(number).__parent__.status)
    assert status == "blocked"           # -30.00: still a debtor
    _, ans = call(shop, command="pay", txn_id=txn(), account=number, sum="30.00")
    assert shop.look(lambda root: root.catalog.accounts.get(number).__parent__.status) == "active"


def test_a_failing_payment_is_journaled_raw_and_can_be_repeated(shop, monkeypatch):
    from portmonet.payments import osmp
    TXN = txn()

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(osmp, "pay", broken)
    _, ans = call(shop, command="pay", txn_id=TXN, account=shop.account, sum="5.00")
    assert ans["result"] == "1"                   # temporary: the terminal repeats
    status, outcome, query = shop.look(lambda root: next(
        (e.status, e.outcome, e.query) for e in root["payments"].journal.for_ext_id("qiwi", TXN)))
    assert status == "error" and "disk on fire" in outcome
    assert f"account={shop.account}" in query and "sum=5.00" in query
    assert balance(shop, shop.account) == 0
    monkeypatch.undo()
    _, ans = call(shop, command="pay", txn_id=TXN, account=shop.account, sum="5.00")
    assert ans["result"] == "0" and balance(shop, shop.account) == 500


def test_card_activation_over_http_locks_out(shop):
    import datetime

    from portmonet.model.staff import StaffUser

    def setup(root):
        cards = root["payments"].cards
        _, pins = cards.generate("W", 10000, 1, clock.today() + datetime.timedelta(days=9))
        cards.issue("W", "d")
        root["staff"].add_user(StaffUser("kassa", ("cashier",), "correct horse 1"))
        return pins[0]
    serial, pin = shop.transact(setup)
    status, body = shop.request("/payments/cards/activate", data=(
        f"serial={serial}&pin={pin}&account={shop.account}").encode(), method="POST")
    # nobody signed in: sent to the sign-in form, nothing activated
    assert b'name="password"' in body and balance(shop, shop.account) == 0
    shop.sign_in("kassa", "correct horse 1")
    for n in range(5):
        status, body = shop.request("/payments/cards/activate", data=(
            f"serial={serial}&pin=00000000000{n}&account={shop.account}").encode(), method="POST")
        assert status == 400
    status, body = shop.request("/payments/cards/activate", data=(
        f"serial={serial}&pin={pin}&account={shop.account}").encode(), method="POST")
    assert status == 429 and b"locked" in body
    assert balance(shop, shop.account) == 0
    bodies = shop.look(lambda root: [e.text() for e in root["payments"].journal.search(
        channel="card")])
    assert len(bodies) == 6 and all("pin=***" in b and pin not in b for b in bodies)


def test_processing_failure_answers_temporary_and_keeps_the_raw_request(shop, monkeypatch):
    """The booking raises: the terminal gets result 1 (repeat later), nothing
    is booked, and the raw request is in the journal with status error."""
    from portmonet.payments import osmp

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(osmp, "pay", broken)
    t = txn()
    status, ans = call(shop, command="pay", txn_id=t, account=shop.account, sum="33.00")
    assert status == 200 and ans["result"] == "1"
    monkeypatch.undo()

    def look(root):
        entries = root["payments"].journal.for_ext_id("qiwi", t)
        assert [e.status for e in entries] == ["error"]
        assert "disk on fire" in entries[0].outcome and f"txn_id={t}" in entries[0].query
        assert t not in root["payments"]["qiwi"].txns
    shop.look(look)
    assert balance(shop, shop.account) == 0
    # The terminal repeats later and is paid once.
    _, ans = call(shop, command="pay", txn_id=t, account=shop.account, sum="33.00")
    assert ans["result"] == "0" and balance(shop, shop.account) == 3300


def test_requests_arriving_together_share_one_commit(shop):
    """Group commit through the real server: concurrent terminals' payments
    are booked in fewer transactions than payments, every one exactly once."""
    import concurrent.futures
    txns = [txn() for _ in range(24)]
    before = shop.look(lambda root: root._p_jar.db().lastTransaction())
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda t: call(shop, command="pay", txn_id=t,
                                               account=shop.account, sum="1.00")[1], txns))
    assert all(a["result"] == "0" for a in answers)
    assert balance(shop, shop.account) == 2400

    def commits(root):
        from ZODB.utils import p64, u64
        storage = root._p_jar.db().storage
        return [t for t in storage.iterator(p64(u64(before) + 1)) if t.user == b"payments"]
    made = shop.look(commits)
    assert 1 <= len(made) < len(txns)

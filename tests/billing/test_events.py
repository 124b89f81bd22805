"""Debt control acts through events: blocking tells ``ServiceBlocked`` and
the RADIUS feature's subscriber queues the Disconnect, once, even when the
deciding transaction is retried after a ConflictError; a subscriber that
raises takes the whole decision back; without the RADIUS feature debt
control still blocks and nothing is queued for RADIUS."""
import datetime

import pytest
from ZODB.POSException import ConflictError

from portmonet import bootstrap, db as dbmod, events, features
from portmonet.billing import debt
from portmonet.clock import day_start_us
from portmonet.billing.run import RETRIES, run

from tariffs.world import load_plans, make_contract

APRIL_1 = day_start_us(datetime.date(2024, 4, 1))
TODAY = datetime.date(2024, 4, 2)


def tx(db, func):
    return dbmod.transact(db, func, "test", "test")


@pytest.fixture
def registry():
    """A process registry of the default features for this test only."""
    before = features._process_registry
    yield bootstrap({})
    features.use_registry(before)


@pytest.fixture
def debtor(db, conn):
    """A contract in debt (no grace days) with one Internet login, ivan2."""
    def build(root):
        load_plans(root)
        contract = make_contract(root, 2, balance=1000)
        contract.account.post(-5000, "charge", "test:charge", "more than the money")
        return contract.number
    return tx(db, build)


def radius_messages(db):
    return tx(db, lambda root: [m.payload for m in root.outbox.channels.get("radius", {}).values()])


def test_blocking_in_a_retried_billing_transaction_queues_one_disconnect(db, debtor, registry):
    heard = []

    def conflict_once(event):
        """Hears the event after the RADIUS subscriber queued its message,
        then loses the first attempt of the transaction, as a write
        conflict with another worker would."""
        heard.append(event.service.__name__)
        if len(heard) == 1:
            raise ConflictError("as if another worker wrote this contract")
    registry.registerHandler(conflict_once, (events.IServiceBlocked,))
    retried = RETRIES["debt"]
    stats = run(db, "2024-03", now=APRIL_1)
    assert stats["blocked"] == 1 and RETRIES["debt"] == retried + 1
    # the first attempt ends at the first service; the retry tells both
    assert heard == ["internet-1", "internet-1", "phone-2"]
    messages = radius_messages(db)
    assert [(m["action"], m["login"], m["reason"]) for m in messages] == [
        ("disconnect", "ivan2", "debt")]
    assert tx(db, lambda root: root.catalog.contracts.get(debtor).status) == "blocked"


def test_a_subscriber_that_raises_takes_the_decision_back(db, debtor, registry):
    def refuse(event):
        raise RuntimeError("the IPTV platform's adapter is broken")
    registry.registerHandler(refuse, (events.IServiceBlocked,))

    def decide(root):
        return debt.control(root, root["billing"], root.catalog.contracts.get(debtor), TODAY)
    with pytest.raises(RuntimeError):
        tx(db, decide)

    def look(root):
        contract = root.catalog.contracts.get(debtor)
        assert contract.status == "active"
        assert debtor not in root["billing"].blocked
        assert len(root.outbox.channels.get("radius", ())) == 0
        assert len(root.outbox.channels.get("mail", ())) == 0
    tx(db, look)


def test_without_radius_debt_control_still_blocks_and_queues_nothing_for_it(db, debtor):
    before = features._process_registry
    try:
        bootstrap({"portmonet.features": "tariffs rating billing payments"})

        def decide(root):
            return debt.control(root, root["billing"], root.catalog.contracts.get(debtor), TODAY)
        assert tx(db, decide) == "blocked"
    finally:
        features.use_registry(before)
    assert radius_messages(db) == []
    mail = tx(db, lambda root: [m.payload["template"]
                                for m in root.outbox.channels["mail"].values()])
    assert mail == ["blocked"]


def test_unblocking_queues_a_coa(db, debtor, registry):
    def block_then_pay(root):
        billing, contract = root["billing"], root.catalog.contracts.get(debtor)
        debt.control(root, billing, contract, TODAY)
        contract.account.post(100000, "payment", "test:pay")
        return debt.control(root, billing, contract, TODAY)
    assert tx(db, block_then_pay) == "unblocked"
    assert [(m["action"], m["reason"]) for m in radius_messages(db)] == [
        ("disconnect", "debt"), ("coa", "unblocked")]


def test_a_payment_from_any_channel_unblocks_through_billing(db, debtor, registry):
    from portmonet.payments.credit import credit

    def block(root):
        return debt.control(root, root["billing"], root.catalog.contracts.get(debtor), TODAY)
    assert tx(db, block) == "blocked"

    def pay(root):
        account = root.catalog.contracts.get(debtor).account
        credit(root, account, 100000, "osmp", "qiwi", "txn-1")
        contract = account.__parent__
        return contract.status, debtor in root["billing"].blocked
    assert tx(db, pay) == ("active", False)
    assert [(m["action"], m["reason"]) for m in radius_messages(db)] == [
        ("disconnect", "debt"), ("coa", "unblocked")]

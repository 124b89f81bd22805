"""E-wallets: transfers that must not overdraw, payer confirmation, auto-payment."""
import pytest
import transaction
from ZODB.POSException import ConflictError

from portmonet.model.root import get_root
from portmonet.ops.check import check_books
from portmonet.payments import wallet
from portmonet.payments.wallet import WalletError
from portmonet.outbox import unseal

from .conftest import add_subscriber


def test_wallet_transfer_to_own_contract(root, tm):
    contract = add_subscriber(root, "Belov", email="b@example.org")
    sub = contract.__parent__
    purse = root["payments"].wallets.open(root, sub)
    assert root["payments"].wallets.open(root, sub) is purse
    purse.post(100000, "payment", "test:topup")
    wallet.transfer_own(purse, contract.account, 30000, "office", ref="t1")
    assert purse.balance == 70000 and contract.account.balance == 30000
    with pytest.raises(WalletError):
        wallet.transfer_own(purse, contract.account, 70001, "office")
    stranger = add_subscriber(root, "Chernov").account
    with pytest.raises(WalletError, match="confirm"):
        wallet.transfer_own(purse, stranger, 100, "office")
    tm.commit()
    assert check_books(root, root._p_jar).ok


def test_transfer_to_another_subscriber_needs_the_code(root, tm):
    payer = add_subscriber(root, "Gusev", ).account
    payer.__parent__.__parent__.phone = "79161234567"
    payer.post(5000, "payment", "test:g")
    payee = add_subscriber(root, "Lebedev").account
    ref, pending = wallet.request_transfer(root, payer, payee, 2000, "office")
    message = root.outbox.keys[f"transfer-code:{ref}"]
    code = unseal(message.payload)["code"]
    # the one-time code is not kept in clear: only the notifier opens it
    assert len(code) == 6 and code not in repr(message.payload) and "code" not in message.payload
    with pytest.raises(WalletError, match="wrong"):
        wallet.confirm_transfer(root, ref, "000000" if code != "000000" else "111111", "office")
    wallet.confirm_transfer(root, ref, code, "office")
    assert payer.balance == 3000 and payee.balance == 2000
    with pytest.raises(WalletError):
        wallet.confirm_transfer(root, ref, code, "office")


def test_autopay_once_per_period(root, tm):
    contract = add_subscriber(root, "Kozlov")
    purse = root["payments"].wallets.open(root, contract.__parent__)
    purse.post(1000, "payment", "test:k")
    contract.autopay_enabled = True
    contract.autopay_source = purse.number
    assert wallet.autopay(root, contract, 1500, "2026-11") == 1000   # what the wallet has
    assert wallet.autopay(root, contract, 1500, "2026-11") == 0
    assert contract.account.balance == 1000 and purse.balance == 0


def test_two_transfers_of_the_same_money_cannot_both_commit(zeo_db):
    with zeo_db.transaction() as conn:
        root = get_root(conn.root())
        src = add_subscriber(root, "Frolov").account
        src.post(1000, "payment", "test:f")
        a, b = add_subscriber(root, "A").account, add_subscriber(root, "B").account
        numbers = src.number, a.number, b.number
    tms = [transaction.TransactionManager() for _ in range(2)]
    conns = [zeo_db.open(transaction_manager=t) for t in tms]
    for conn, target in zip(conns, numbers[1:]):
        r = get_root(conn.root())
        s = r.catalog.accounts.get(numbers[0])
        # Both decide on the same balance, each spending all of it.
        wallet._move(s, r.catalog.accounts.get(target), 1000, f"wallet:{target}", "test")
    tms[0].commit()
    with pytest.raises(ConflictError):
        tms[1].commit()
    tms[1].abort()
    for c in conns:
        c.close()
    with zeo_db.transaction() as conn:
        root = get_root(conn.root())
        assert root.catalog.accounts.get(numbers[0]).balance == 0
        assert check_books(root, conn).ok

import pytest
import transaction
from hypothesis import given, settings, strategies as st
from ZODB.POSException import ConflictError

from portmonet.ledger import InsufficientFunds, PostingError
from portmonet.ledger.account import Account, _merge_inline, _unpack
from portmonet.ledger.posting import Posting

from helpers import make_subscriber


def test_cause_posts_once(root, tm):
    _, _, account = make_subscriber(root)
    first, created = account.post(5000, "payment", "cash:1", "Cash")
    assert created and account.balance == 5000
    again, created = account.post(5000, "payment", "cash:1", "Cash")
    assert not created and again == first and account.balance == 5000
    tm.commit()
    assert root.catalog.causes["cash:1"] == (account.number, first.key)


def test_same_cause_on_another_account_is_refused(root):
    _, _, a = make_subscriber(root, "A")
    _, _, b = make_subscriber(root, "B")
    a.post(100, "payment", "bank:77")
    with pytest.raises(ValueError, match="already posted"):
        b.post(100, "payment", "bank:77")
    assert b.balance == 0


@pytest.mark.parametrize("amount,kind", [(100, "charge"), (-100, "payment"), (100, "refund"),
                                         (0, "correction"), (10, "gift"), (1.5, "payment"),
                                         (True, "payment")])
def test_signs_and_kinds(root, amount, kind):
    _, _, account = make_subscriber(root)
    with pytest.raises(PostingError):
        account.post(amount, kind, "c:1")


def test_posting_needs_cause(root):
    _, _, account = make_subscriber(root)
    with pytest.raises(PostingError):
        account.post(100, "payment", "  ")


def test_postings_are_immutable(root):
    _, _, account = make_subscriber(root)
    posting, _ = account.post(100, "payment", "c:1")
    with pytest.raises(AttributeError):
        posting.amount = 1000000


def test_ledger_grows_from_inline_into_tree(root, tm):
    _, _, account = make_subscriber(root)
    n = Account.INLINE_MAX * 3
    for i in range(n):
        account.post(-10 - i, "charge", f"usage:{i}", when=1_700_000_000_000_000 + i)
    tm.commit()
    # the newest postings stay inline; each time the inline part overflows it
    # moves into the tree at once
    assert account._tree is not None
    assert len(account._inline) == n % (Account.INLINE_MAX + 1)
    assert len(account._tree) == n - len(account._inline)
    assert len(account) == n
    assert account.balance == account.ledger_sum() == -sum(10 + i for i in range(n))
    times = [p.time for p in account.postings()]
    assert times == sorted(times)
    window = list(account.postings(1_700_000_000_000_000 + 5, 1_700_000_000_000_000 + 9))
    assert [p.cause for p in window] == [f"usage:{i}" for i in range(5, 9)]
    # the cause index points at every posting, in the tree as inline
    for p in account.postings():
        assert account.find_cause(p.cause) == p


def test_must_not_overdraw(root):
    _, _, account = make_subscriber(root, credit_limit=1000)
    account.post(500, "payment", "p:1")
    account.post(-1500, "transfer", "t:1", must_not_overdraw=True)
    assert account.balance == -1000
    with pytest.raises(InsufficientFunds):
        account.post(-1, "transfer", "t:2", must_not_overdraw=True)
    assert account.balance == -1000
    # a charge by the rater is not refused: usage happened
    account.post(-1, "charge", "usage:1")
    assert account.balance == -1001


def _p(key, amount):
    return Posting(key, key, amount, "payment", f"c:{key}")


def test_conflict_resolution_merges_balance_and_inline_postings():
    acc = Account("1234567", "RUB")
    old = {"number": "1234567", "_balance": 100, "_inline": (_p(1, 100),)}
    theirs = dict(old, _balance=150, _inline=(_p(1, 100), _p(2, 50)))
    ours = dict(old, _balance=130, _inline=(_p(1, 100), _p(3, 30)))
    merged = _unpack(acc._p_resolveConflict(old, theirs, ours))
    assert merged["_balance"] == 180
    assert [p.key for p in merged["_inline"]] == [1, 2, 3]


def test_conflict_resolution_refuses_real_conflicts():
    acc = Account("1234567", "RUB")
    old = {"number": "1234567", "_balance": 0, "credit_limit": 0}
    with pytest.raises(ConflictError):
        acc._p_resolveConflict(old, dict(old, credit_limit=5), dict(old, credit_limit=7))
    # two guarded (must-not-overdraw) decisions on one balance never merge
    with pytest.raises(ConflictError):
        acc._p_resolveConflict(old, dict(old, _guard=1), dict(old, _guard=2))
    # a side that moved the inline ledger into a tree conflicts with an append
    with pytest.raises(ConflictError):
        _merge_inline((_p(1, 1),), (), (_p(1, 1), _p(2, 2)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(-100000, 100000).filter(bool)),
                max_size=60))
def test_property_balance_equals_postings_and_causes_post_once(ops):
    import ZODB
    from portmonet.model.root import get_root, install
    db = ZODB.DB(None)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    install(conn.root())
    root = get_root(conn.root())
    _, _, account = make_subscriber(root)
    first_amount = {}
    for cause_no, amount in ops:
        kind = "payment" if amount > 0 else "charge"
        new = cause_no not in first_amount
        posting, created = account.post(amount, kind, f"c:{cause_no}")
        first_amount.setdefault(cause_no, amount)
        assert created == new
        assert posting.amount == first_amount[cause_no]
    tm.commit()
    assert account.balance == account.ledger_sum() == sum(first_amount.values())
    assert len(account) == len(first_amount)
    conn.close()
    db.close()


def test_ledger_view_reads_inline_and_tree_alike(root):
    _, _, account = make_subscriber(root)
    first, _ = account.post(100, "payment", "v:0")
    view = account.ledger
    assert list(view.values()) == [first] and view[first.key] == first
    for i in range(1, Account.INLINE_MAX):
        account.post(100, "payment", f"v:{i}")
    assert account._tree is None and len(account.ledger) == Account.INLINE_MAX
    account.post(100, "payment", "v:last")       # the inline part overflows
    assert account.ledger is account._tree and not account._inline
    assert account.ledger.maxKey() == max(p.key for p in account.postings())


def test_account_state_is_packed_and_old_states_still_load(root, tm):
    _, _, account = make_subscriber(root)
    for i in range(3):
        account.post(-10, "charge", f"usage:{i}")
    state = account.__getstate__()
    assert "_inline" not in state and "_balance" not in state and "_packed" in state
    copy = Account.__new__(Account)
    copy.__setstate__(state)
    assert copy.balance == -30 and list(copy.postings()) == list(account.postings())
    old_style = _unpack(state)           # how accounts were stored before packing
    assert isinstance(old_style["_inline"][0], Posting)
    again = Account.__new__(Account)
    again.__setstate__(old_style)
    assert again.balance == -30 and again.number == account.number
    # conflict resolution merges packed states (as the ZEO server gets them)
    mine, theirs = Account.__new__(Account), Account.__new__(Account)
    mine.__setstate__(state)
    theirs.__setstate__(state)
    mine._store(Posting(1, 1, -5, "charge", "usage:x"))
    mine._balance -= 5
    theirs._store(Posting(2, 2, 7, "payment", "cash:y"))
    theirs._balance += 7
    merged = _unpack(account._p_resolveConflict(state, theirs.__getstate__(),
                                                  mine.__getstate__()))
    assert merged["_balance"] == -28
    assert {p.cause for p in merged["_inline"]} >= {"usage:x", "cash:y"}


def test_ledger_view_merges_tree_and_newest_inline_postings(root):
    _, _, account = make_subscriber(root)
    base = 1_700_000_000_000_000
    n = Account.INLINE_MAX + 4                  # 9 in the tree, 3 inline
    for i in range(n):
        account.post(-1 - i, "charge", f"usage:{i}", when=base + i * 10)
    # a posting dated back (a fee of the period's first day) lands inline
    # but reads in time order
    back, _ = account.post(-100, "charge", "fee:x", when=base + 5)
    assert account._tree is not None and len(account._inline) == 4
    view = account.ledger
    keys = [p.key for p in account.postings()]
    assert keys == sorted(keys) and len(keys) == n + 1 == len(view)
    assert list(view.keys()) == keys and view[back.key] == back and back.key in view
    assert view.maxKey() == keys[-1] and view.minKey() == keys[0]
    assert view.maxKey(keys[-1] - 1) == keys[-2]
    assert view.get(12345) is None
    window = [p.cause for p in account.postings(base + 5, base + 21)]
    assert window == ["fee:x", "usage:1", "usage:2"]
    assert [p.key for p in view.values(keys[2], keys[5])] == keys[2:6]
    assert account.find_cause("fee:x") == back

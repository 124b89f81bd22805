import pytest

from portmonet.catalog import DuplicateKeyError
from portmonet.catalog.indexes import SMALL_SET
from portmonet.catalog.normalize import InvalidValue, ipv4, phone
from portmonet.model.services import InternetService, TelephoneLine
from portmonet.model.subscriber import Subscriber

from helpers import make_subscriber


def test_lookups_by_every_key(root):
    sub, contract, account = make_subscriber(root, "Петров Иван", login="petrov", ip="10.1.2.3",
                                             phone="+7 (916) 000-11-22", email="P@Example.NET")
    contract.add_service(TelephoneLine("8 495 111 22 33"))
    cat = root.catalog
    assert cat.logins.get("petrov").contract is contract
    assert cat.ips.get(ipv4("10.1.2.3")).login == "petrov"
    assert cat.accounts.get(account.number) is account
    assert cat.contracts.get(contract.number) is contract
    assert cat.lines.get("74951112233").contract is contract
    assert list(cat.phones.ids("79160001122")) == [sub.id]
    assert list(cat.emails.ids("p@example.net")) == [sub.id]
    assert list(cat.words.ids("петров")) == [sub.id]
    assert list(cat.words.ids_with_prefix("ива")) == [sub.id]


def test_unique_keys_refused_and_nothing_changed(root):
    make_subscriber(root, "A", login="alice", ip="10.0.0.1")
    _, contract, _ = make_subscriber(root, "B", login="bob", ip="10.0.0.2")
    bob = root.catalog.logins.get("bob")
    with pytest.raises(DuplicateKeyError, match="login 'alice'"):
        bob.update(login="alice")
    assert bob.login == "bob" and root.catalog.logins.get("bob") is bob
    with pytest.raises(DuplicateKeyError):
        contract.add_service(InternetService("carol", "x", "10.0.0.1"))
    assert "carol" not in root.catalog.logins
    with pytest.raises(DuplicateKeyError):
        make_subscriber(root, "C", login="alice")


def test_update_moves_entries(root):
    sub, contract, _ = make_subscriber(root, "Sidorov Petr", login="sid", ip="10.0.0.9",
                                       phone="79000000001")
    svc = root.catalog.logins.get("sid")
    svc.update(login="sidorov", ip="10.0.0.10")
    assert "sid" not in root.catalog.logins and root.catalog.logins.get("sidorov") is svc
    assert ipv4("10.0.0.9") not in root.catalog.ips
    sub.update(name="Kuznetsov Petr", phone="8 900 000 00 02")
    assert not root.catalog.words.ids("sidorov")
    assert list(root.catalog.words.ids("kuznetsov")) == [sub.id]
    assert not root.catalog.phones.ids("79000000001")
    assert list(root.catalog.phones.ids("79000000002")) == [sub.id]
    with pytest.raises(InvalidValue):
        sub.update(phone="12")
    assert sub.phone == "79000000002"


def test_remove_unindexes_subtree(root):
    sub, contract, account = make_subscriber(root, "Gone Away", login="gone", ip="10.9.9.9")
    root["subscribers"].remove(str(sub.id))
    cat = root.catalog
    assert "gone" not in cat.logins and contract.number not in cat.contracts
    assert account.number not in cat.accounts and not cat.words.ids("gone")


def test_popular_keys_grow_into_treesets(root):
    ids = [make_subscriber(root, "Smith John")[0].id for _ in range(SMALL_SET + 5)]
    held = root.catalog.words.tree["smith"]
    assert not isinstance(held, tuple)
    assert list(root.catalog.words.ids("smith")) == sorted(ids)
    for id in ids[:-1]:
        root["subscribers"].remove(str(id))
    assert list(root.catalog.words.ids("smith")) == [ids[-1]]


@pytest.mark.parametrize("raw,norm", [("+7 (495) 123-45-67", "74951234567"),
                                      ("84951234567", "74951234567"), ("112", "112")])
def test_phone_normalization(raw, norm):
    assert phone(raw) == norm


def test_subscriber_ids_do_not_collide(root):
    folder = root["subscribers"]
    a = folder.add_subscriber(Subscriber("A"))
    b = folder.add_subscriber(Subscriber("B"))
    assert a.id != b.id and folder[str(a.id)] is a

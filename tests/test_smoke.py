from portmonet.model.services import InternetService
from portmonet.model.subscriber import Subscriber


def test_subscriber_contract_account_post(root, tm):
    sub = root["subscribers"].add_subscriber(Subscriber("Ivanov Ivan", phone="8 (495) 123-45-67"))
    contract = sub.new_contract()
    contract.add_service(InternetService("ivan", "secret", "10.0.0.1"))
    posting, created = contract.account.post(10000, "payment", "test:1")
    assert created and contract.account.balance == 10000
    again, created = contract.account.post(10000, "payment", "test:1")
    assert not created and again is posting and contract.account.balance == 10000
    tm.commit()
    assert root.catalog.logins.get("ivan").contract is contract
    assert list(root.catalog.phones.ids("74951234567")) == [sub.id]


def test_zeo_roundtrip(zeo_db):
    with zeo_db.transaction() as c:
        from portmonet.model.root import get_root
        get_root(c.root())["subscribers"].add_subscriber(Subscriber("Petrov"), id=7)
    with zeo_db.transaction() as c:
        assert get_root(c.root())["subscribers"]["7"].name == "Petrov"

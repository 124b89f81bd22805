import pytest

from portmonet.model.contract import StatusError, luhn_digit, valid_account_number

from helpers import make_subscriber


def test_status_transitions_and_history(root):
    _, contract, _ = make_subscriber(root)
    assert contract.status == "active" and contract._history is None
    contract.set_status("blocked", "debt", "billing")
    contract.set_status("active", "paid", "cashier1")
    with pytest.raises(StatusError):
        contract.set_status("draft")
    contract.set_status("terminated", "moved away", "manager1")
    with pytest.raises(StatusError):
        contract.set_status("active")
    rows = contract.status_history()
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        (None, "active", "created", ""), ("active", "blocked", "debt", "billing"),
        ("blocked", "active", "paid", "cashier1"), ("active", "terminated", "moved away", "manager1")]


def test_account_numbers_carry_a_check_digit(root):
    _, _, account = make_subscriber(root)
    assert valid_account_number(account.number)
    wrong = account.number[:-2] + str((int(account.number[-2]) + 1) % 10) + account.number[-1]
    assert not valid_account_number(wrong)
    assert luhn_digit("7992739871") == "3"


def test_internet_password_is_encrypted(root):
    _, contract, _ = make_subscriber(root, login="enc", password="S3cret!")
    svc = root.catalog.logins.get("enc")
    assert b"S3cret" not in svc._password
    assert svc.password() == "S3cret!" and svc.check_password("S3cret!")
    assert not svc.check_password("wrong")


def test_identity_document_encrypted(root):
    sub, _, _ = make_subscriber(root)
    sub.identity_document = "passport 4500 123456"
    assert b"4500" not in sub._identity
    assert sub.identity_document == "passport 4500 123456"

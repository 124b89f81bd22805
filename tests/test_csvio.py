import io

import pytest

from portmonet.ops.csvio import ImportRejected, export_subscribers, import_subscribers, validate
from portmonet.ops.demo import ensure_tariffs

HEADER = "login,password,name,phone,email,contract,tariff,balance,credit_limit,ip\n"
GOOD = HEADER + (
    "alice,pw1,Alice Smith,+7 916 000 0001,alice@example.net,A-1,home-50,100.50,0,10.0.0.1\n"
    "bob,pw2,Боб Петров,89160000002,,A-2,home-100,-20.00,50.00,\n"
)


@pytest.fixture
def tariffs(root, tm):
    ensure_tariffs(root)
    tm.commit()


def errors_of(root, text):
    with pytest.raises(ImportRejected) as info:
        validate(root, text)
    return info.value.errors


def test_good_import(root, conn, tm, tariffs):
    assert import_subscribers(conn, tm, GOOD.encode()) == 2
    alice = root.catalog.logins.get("alice")
    assert alice.password() == "pw1" and alice.ip_text == "10.0.0.1"
    account = alice.contract.account
    assert account.balance == 10050 and account.credit_limit == 0
    bob = root.catalog.contracts.get("A-2")
    assert bob.account.balance == -2000 and bob.account.credit_limit == 5000
    assert bob.subscriber.name == "Боб Петров" and bob.subscriber.phone == "79160000002"
    assert account.find_cause("import:A-1").amount == 10050


@pytest.mark.parametrize("row,reason", [
    ("carol,p,Carol,12,,C-1,home-50,1.00,0,\n", "phone"),
    ("carol,p,Carol,,not-an-email,C-1,home-50,1.00,0,\n", "e-mail"),
    ("carol,p,Carol,,,C-1,home-50,1.005,0,\n", "balance"),
    ("carol,p,Carol,,,C-1,home-50,1.00,-5,\n", "credit_limit is negative"),
    ("carol,p,Carol,,,C-1,no-such,1.00,0,\n", "no tariff named 'no-such'"),
    ("carol,p,Carol,,,C-1,home-50,1.00,0,10.0.0.300\n", "IP address"),
    ("car ol,p,Carol,,,C-1,home-50,1.00,0,\n", "login"),
    (",p,Carol,,,C-1,home-50,1.00,0,\n", "login is empty"),
    ("carol,p,,,,C-1,home-50,1.00,0,\n", "name is empty"),
    ("carol,p,Carol,,,C/1,home-50,1.00,0,\n", "contract number"),
    ("carol,p,Carol,,,C-1,home-50,1.00,0,,extra\n", "more fields"),
])
def test_bad_rows_are_reported_with_line_and_reason(root, tariffs, row, reason):
    errors = errors_of(root, GOOD + row)
    assert len(errors) == 1
    line, text = errors[0]
    assert line == 4 and reason in text


def test_duplicates_in_file_and_database(root, conn, tm, tariffs):
    import_subscribers(conn, tm, GOOD.encode())
    text = HEADER + ("alice,p,Again,,,B-1,home-50,0,0,\n"
                     "dave,p,Dave,,,B-2,home-50,0,0,10.0.0.7\n"
                     "erin,p,Erin,,,B-2,home-50,0,0,10.0.0.7\n")
    errors = dict(errors_of(root, text))
    assert "login 'alice' already exists" in errors[2]
    assert "contract 'B-2' repeats line 3" in errors[4]
    assert "ip '10.0.0.7' repeats line 3" in errors[4]


def test_nothing_half_imported(root, conn, tm, tariffs):
    before = len(root["subscribers"])
    text = GOOD + "zed,p,Zed,,,Z-1,home-50,oops,0,\n"
    with pytest.raises(ImportRejected):
        import_subscribers(conn, tm, text.encode())
    assert len(root["subscribers"]) == before
    assert "alice" not in root.catalog.logins


def test_wrong_encoding_and_cp1251(root, conn, tm, tariffs):
    data = (HEADER + "ivan,p,Иван Иванов,,,I-1,home-50,0,0,\n").encode("cp1251")
    with pytest.raises(ImportRejected) as info:
        import_subscribers(conn, tm, data)
    (line, reason), = info.value.errors
    assert line == 2 and "cp1251" in reason
    assert import_subscribers(conn, tm, data, encoding="cp1251") == 1
    assert root.catalog.logins.get("ivan").contract.subscriber.name == "Иван Иванов"


def test_header_problems(root, tariffs):
    assert "lacks column" in errors_of(root, "login,name\nx,y\n")[0][1]
    assert "unknown column" in errors_of(root, HEADER.strip() + ",colour\n")[0][1]


def test_binary_garbage(root, conn, tm, tariffs):
    with pytest.raises(ImportRejected):
        import_subscribers(conn, tm, b"\x00\x01\x02PK\x03\x04")


def test_export_round_trip(root, conn, tm, tariffs, db):
    import transaction
    from portmonet.model.root import get_root, install
    import ZODB
    import_subscribers(conn, tm, GOOD.encode())
    out = io.StringIO()
    assert export_subscribers(root, out) == 2
    assert ",pw1," not in out.getvalue()           # no passwords by default
    with_pw = io.StringIO()
    export_subscribers(root, with_pw, with_passwords=True)
    assert ",pw1," in with_pw.getvalue()
    other = ZODB.DB(None)
    tm2 = transaction.TransactionManager()
    conn2 = other.open(transaction_manager=tm2)
    install(conn2.root())
    ensure_tariffs(get_root(conn2.root()))
    tm2.commit()
    assert import_subscribers(conn2, tm2, with_pw.getvalue().encode()) == 2
    again = io.StringIO()
    export_subscribers(get_root(conn2.root()), again, with_passwords=True)
    assert again.getvalue() == with_pw.getvalue()
    conn2.close()
    other.close()

"""Bank statements: camt.053, 1C ClientBank (cp1251), CSV; matching; suspense."""
import pytest

from portmonet.ops.check import check_books
from portmonet.payments import bank as bankmod
from portmonet.payments.bankfiles import CsvLayout, StatementError, parse

from .conftest import add_subscriber

OUR_ACCOUNT = "40702810900000012345"


def one_c(documents, encoding_line="Кодировка=Windows"):
    head = ["1CClientBankExchange", "ВерсияФормата=1.03", encoding_line,
            "Отправитель=Бухгалтерия", "ДатаНачала=01.11.2026", "ДатаКонца=30.11.2026",
            f"РасчСчет={OUR_ACCOUNT}", "СекцияРасчСчет", f"РасчСчет={OUR_ACCOUNT}",
            "КонецРасчСчет"]
    body = []
    for doc in documents:
        body.append("СекцияДокумент=Платежное поручение")
        body += [f"{k}={v}" for k, v in doc.items()]
        body.append("КонецДокумента")
    return "\r\n".join(head + body + ["КонецФайла", ""])


def doc(number, amount, purpose, inn="7701234567", payer="ООО \"Ромашка\"",
        to=OUR_ACCOUNT, date="12.11.2026"):
    return {"Номер": number, "Дата": date, "Сумма": amount, "ПлательщикСчет": "40702810100000000001",
            "Плательщик1": payer, "ПлательщикИНН": inn, "ПолучательСчет": to,
            "Получатель1": "ООО Провайдер", "НазначениеПлатежа": purpose}


@pytest.fixture
def people(root, tm):
    a = add_subscriber(root, "Кузнецов Иван")
    b = add_subscriber(root, "ООО Ромашка")
    tm.commit()
    return a, b


def run(root, db, tm, data, fmt, layout=None, bank="sber"):
    lines = parse(data, fmt, layout)
    tm.commit()
    return bankmod.import_statement(db, bank, lines, "test", source="test")


def test_1c_cp1251_several_payments_matched_and_unmatched(db, root, tm, people):
    a, b = people
    text = one_c([
        doc("101", "1500.00", f"Оплата услуг связи по л/с {a.account.number}, НДС не облагается"),
        doc("102", "700.50", f"Оплата по договору № {b.number} за ноябрь", inn="7709876543"),
        doc("103", "99.00", "Оплата за интернет", inn="5001112223", payer="ИП Неизвестный"),
        doc("104", "5000.00", "Аренда", to="40702810999999999999"),     # outgoing
    ])
    data = text.encode("cp1251")
    total = run(root, db, tm, data, "1c")
    assert total == {"lines": 3, "posted": 2, "suspense": 1, "skipped": 0}
    tm.begin()
    assert a.account.balance == 150000 and b.account.balance == 70050
    posting = next(iter(a.account.ledger.values()))
    assert posting.cause == "bank:sber:2026-11-12/101/40702810100000000001"
    assert "Ромашка" in posting.text
    waiting = root["payments"].bank.waiting_items()
    assert [w.line[2] for w in waiting] == [9900] and root["payments"].bank.waiting() == 1
    # The same statement again changes nothing.
    assert run(root, db, tm, data, "1c") == {"lines": 3, "posted": 0, "suspense": 0, "skipped": 3}
    # The accountant assigns the unmatched one; its payer is remembered ...
    tm.begin()
    bankmod.assign(root, "sber", waiting[0].ref, a.account.number, "accountant")
    tm.commit()
    assert a.account.balance == 159900 and root["payments"].bank.waiting() == 0
    # ... so the payer's next payment, naming nothing, finds the account.
    later = one_c([doc("120", "10.00", "Оплата", inn="5001112223", date="20.11.2026")])
    assert run(root, db, tm, later.encode("cp1251"), "1c")["posted"] == 1
    tm.begin()
    assert a.account.balance == 160900
    report = check_books(root, root._p_jar)
    assert report.ok, report.problems
    assert report.counts["payments received"] == 4


def test_1c_dos_encoding_and_multiline_purpose(db, root, tm, people):
    a, _ = people
    d = doc("7", "12.50", "Оплата")
    d["НазначениеПлатежа1"] = f"лицевой счет {a.account.number}"
    data = one_c([d], "Кодировка=DOS").encode("cp866")
    lines = parse(data, "1c")
    assert lines[0].purpose == f"Оплата лицевой счет {a.account.number}" and lines[0].amount == 1250


def test_ambiguous_purpose_or_closed_contract_goes_to_suspense(db, root, tm, people):
    a, b = people
    text = one_c([doc("9", "10.00", f"за {a.account.number} и {b.account.number}")])
    assert run(root, db, tm, text.encode("cp1251"), "1c")["suspense"] == 1
    tm.begin()
    b.set_status("terminated", "moved")
    tm.commit()
    text = one_c([doc("10", "10.00", f"за {b.account.number}", inn="3333333333")])
    assert run(root, db, tm, text.encode("cp1251"), "1c")["suspense"] == 1


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-25T10:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S-77</Id>
   <Ntry><Amt Ccy="RUB">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-24</Dt></BookgDt><AcctSvcrRef>E-1</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Кузнецов И.</Nm></Dbtr></RltdPties>
     <RmtInf><Ustrd>Оплата л/с {a}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="RUB">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-11-24</Dt></BookgDt><AcctSvcrRef>E-2</AcctSvcrRef>
    <NtryDtls>
     <TxDtls><Refs><AcctSvcrRef>T-1</AcctSvcrRef></Refs><Amt Ccy="RUB">600.00</Amt>
      <RltdPties><Dbtr><Nm>ООО Ромашка</Nm><Id><OrgId><Othr><Id>7701234567</Id></Othr></OrgId></Id></Dbtr></RltdPties>
      <RmtInf><Ustrd>Договор {c}</Ustrd></RmtInf></TxDtls>
     <TxDtls><Refs><AcctSvcrRef>T-2</AcctSvcrRef></Refs><Amt Ccy="RUB">400.00</Amt>
      <RmtInf><Ustrd>без назначения</Ustrd></RmtInf></TxDtls>
    </NtryDtls></Ntry>
   <Ntry><Amt Ccy="RUB">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-24</Dt></BookgDt><AcctSvcrRef>E-3</AcctSvcrRef></Ntry>
  </Stmt></BkToCstmrStmt></Document>"""


def test_camt053_batch_entry(db, root, tm, people):
    a, b = people
    data = CAMT.format(a=a.account.number, c=b.number).encode()
    lines = parse(data, "camt053")
    assert [(l.ref, l.amount) for l in lines] == [("E-1", 30000), ("T-1", 60000), ("T-2", 40000)]
    assert lines[1].payer_tax_id == "7701234567"
    total = run(root, db, tm, data, "camt053")
    assert total == {"lines": 3, "posted": 2, "suspense": 1, "skipped": 0}
    tm.begin()
    assert a.account.balance == 30000 and b.account.balance == 60000


def test_csv_layout_cp1251(db, root, tm, people):
    a, b = people
    rows = ["Дата;Сумма;Назначение;ИНН",
            f"01.11.2026;1 234,56;Оплата {a.account.number};",
            f"01.11.2026;100,00;Оплата {b.number};7701234567",
            f"01.11.2026;100,00;Оплата {b.number};7701234567",   # a second, identical payment
            "02.11.2026;5,00;кто-то;"]
    data = "\r\n".join(rows).encode("cp1251")
    layout = CsvLayout.from_text("date=Дата,amount=Сумма,purpose=Назначение,payer_tax_id=ИНН",
                                 group=" ")     # this bank writes "1 234,56"
    total = run(root, db, tm, data, "csv", layout)
    assert total == {"lines": 4, "posted": 3, "suspense": 1, "skipped": 0}
    tm.begin()
    assert a.account.balance == 123456 and b.account.balance == 20000
    assert run(root, db, tm, data, "csv", layout)["skipped"] == 4


@pytest.mark.parametrize("fmt,data", [
    ("1c", b"not a 1C file"),
    ("1c", one_c([doc("1", "abc", "x")]).encode("cp1251")),
    ("1c", one_c([doc("1", "-5.00", "x")]).encode("cp1251")),
    ("camt053", b"<Document><unclosed></Document>"),
    ("camt053", b"<!DOCTYPE x [<!ENTITY a 'b'>]><Document>&a;</Document>"),
])
def test_bad_files_are_refused_whole(fmt, data):
    with pytest.raises(StatementError):
        parse(data, fmt)


def test_csv_bad_layout():
    with pytest.raises(StatementError):
        CsvLayout.from_text("amount=Сумма")
    layout = CsvLayout.from_text("date=Дата,amount=Сумма")
    with pytest.raises(StatementError, match="line 2"):
        parse("Дата;Сумма\r\n32.13.2026;1,00\r\n".encode("cp1251"), "csv", layout)


def test_a_line_repeated_in_one_file_posts_once(db, root, tm, people):
    a, _ = people
    d = doc("5", "10.00", f"л/с {a.account.number}")
    u = doc("6", "1.00", "nothing", inn="2222222222")
    total = run(root, db, tm, one_c([d, d, u, u]).encode("cp1251"), "1c")
    assert total == {"lines": 4, "posted": 1, "suspense": 1, "skipped": 2}
    tm.begin()
    assert a.account.balance == 1000 and root["payments"].bank.waiting() == 1


def test_payer_tax_id_finds_the_one_subscriber_with_it(db, root, tm):
    """The catalog's tax id index: a line naming nothing but the payer's INN
    goes to the organisation with that INN; two with one INN wait for a person."""
    org = add_subscriber(root, "ООО Вектор", tax_id="7712345678")
    add_subscriber(root, "ООО Альфа", tax_id="7800000001")
    add_subscriber(root, "ООО Альфа-2", tax_id="7800000001")
    tm.commit()
    assert list(root.catalog.tax_ids.ids("7712345678")) == [org.__parent__.id]
    text = one_c([doc("201", "250.00", "Оплата по счету 15", inn="7712345678"),
                  doc("202", "300.00", "Оплата по счету 16", inn="7800000001")])
    total = run(root, db, tm, text.encode("cp1251"), "1c")
    assert total["posted"] == 1 and total["suspense"] == 1
    tm.begin()
    assert org.account.balance == 25000
    # A changed tax id moves its index entry (the model keeps the index).
    org.__parent__.update(tax_id="7712345679")
    tm.commit()
    assert not root.catalog.tax_ids.ids("7712345678")
    assert list(root.catalog.tax_ids.ids("7712345679")) == [org.__parent__.id]


def test_tax_id_index_evolve_step_fills_it_from_existing_subscribers(root, tm):
    from portmonet.payments.evolve import tax_id_index
    sub = add_subscriber(root, "ООО Старое", tax_id="5009998887").__parent__
    del root.catalog.tax_ids            # as a database from before the index
    tm.commit()
    tax_id_index(root)
    tm.commit()
    assert list(root.catalog.tax_ids.ids("5009998887")) == [sub.id]

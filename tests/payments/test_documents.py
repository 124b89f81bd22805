"""PDF receipts and card sheets (read back with pypdf), journal retention."""
import datetime
import io
import os

import pypdf
import pytest
import ZEO

from conftest import run_portmonet
from portmonet.model.root import get_root
from portmonet.payments.journal import Journal
from portmonet.payments.pdf import card_sheet_pdf

from web.conftest import cheap_argon2, csrf_of, site  # noqa: F401,E402  (fixtures)

DAY_US = 86_400_000_000


def pdf_text(data):
    assert data[:5] == b"%PDF-"
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_cash_desk_receipt_as_pdf(site):  # noqa: F811
    client = site.login("cashier")
    token = csrf_of(client.get("/search?q=x", expect_errors=True))
    client.post("/payments/cashdesk/open", {"csrf_token": token}, status=302)
    res = client.post("/payments/cashdesk/pay", {
        "csrf_token": token, "account": site.ids["ivanov_account"], "amount": "150.00",
        "token": "rcpt0001"}, status=302)
    html = res.follow()
    assert "receipt.pdf?no=rcpt0001" in html.text
    pdf = client.get("/payments/cashdesk/receipt.pdf", {"no": "rcpt0001"})
    assert pdf.content_type == "application/pdf"
    pages, text = pdf_text(pdf.body)
    assert pages == 1
    for expected in ("Payment receipt", "rcpt0001", site.ids["ivanov_account"], "Ivanov Ivan",
                     "150.00 RUB", "cashier"):
        assert expected in text, (expected, text)
    # Another cashier's receipt, or none, is not shown.
    other = site.login("manager")
    assert other.get("/payments/cashdesk/receipt.pdf", {"no": "rcpt0001"},
                     expect_errors=True).status_int == 400
    assert site.login("auditor").get("/payments/cashdesk/receipt.pdf", {"no": "rcpt0001"},
                                     expect_errors=True).status_int == 403


def test_cash_desk_pages_forms_work_as_a_browser_submits_them(site):  # noqa: F811
    """The desk's own forms carry the CSRF token: open a shift, find, pay."""
    client = site.login("cashier")
    desk = client.get("/payments/cashdesk/")
    desk.forms[0].submit(status=302)
    desk = client.get("/payments/cashdesk/", {"q": site.ids["ivanov_account"]})
    pay = next(f for f in desk.forms.values() if f.action.endswith("/pay"))
    pay["amount"] = "12.34"
    receipt = pay.submit(status=302).follow()
    assert "12.34" in receipt.text and "Payment receipt" in receipt.text
    assert site.read(lambda root: root.catalog.accounts.get(
        site.ids["ivanov_account"]).balance) == 50000 + 1234


def test_card_sheet_has_every_serial_and_pin_and_cyrillic_prints(root):
    cards = root["payments"].cards
    batch, pins = cards.generate("ПК", 50000, 30, datetime.date(2030, 1, 1))
    pages, text = pdf_text(card_sheet_pdf(batch, pins))
    assert pages == 2                                   # 24 cards a page
    assert "Batch ПК" in text and "500.00 RUB" in text
    for serial, pin in pins:
        assert f"Serial {serial}" in text and f"PIN {pin[:4]} {pin[4:8]} {pin[8:]}" in text


@pytest.mark.integration
def test_cards_generate_writes_csv_and_pdf_once_with_mode_600(zeo_server, tmp_path):
    ini = zeo_server.ini(tmp_path / "t.ini")
    run_portmonet("init", ini=ini)
    csv_path, pdf_path = tmp_path / "a.csv", tmp_path / "a.pdf"
    run_portmonet("payments", "cards", "generate", "--series", "A", "--nominal", "100",
                  "--count", "5", "--expires", "2030-01-01", "--out", str(csv_path),
                  "--pdf", str(pdf_path), ini=ini)
    for path in (csv_path, pdf_path):
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    rows = [line.split(",") for line in csv_path.read_text().splitlines()[1:]]
    _, text = pdf_text(pdf_path.read_bytes())
    assert len(rows) == 5
    for serial, pin, *_ in rows:
        assert serial in text and f"{pin[:4]} {pin[4:8]} {pin[8:]}" in text
    # A file already there stops the generation before any card is made.
    again = run_portmonet("payments", "cards", "generate", "--series", "B", "--nominal", "100",
                          "--count", "5", "--expires", "2030-01-01", "--out",
                          str(tmp_path / "b.csv"), "--pdf", str(pdf_path), ini=ini, check=False)
    assert again.returncode != 0 and "exists" in again.stderr
    assert not (tmp_path / "b.csv").exists()
    db = ZEO.DB(zeo_server.address, wait_timeout=30)
    with db.transaction() as conn:
        assert "B" not in get_root(conn.root())["payments"].cards
    db.close()


def _entries(journal, now):
    made = {}
    for n, (age, status) in enumerate([(40, "done"), (40, "error"), (39, "rejected"),
                                       (35, "done"), (35, "received"), (2, "done")]):
        entry = journal.record("osmp", "t", "127.0.0.1", "GET", "/payments/t/osmp",
                               f"txn_id={n}", b"x" * (5000 if n == 0 else 10), (),
                               ext_id=str(n), status=status, outcome="o",
                               received_us=now - age * DAY_US)
        made[n] = entry.key
    return made


def test_journal_purge_removes_old_settled_entries_in_batches(root):
    journal = root["payments"].journal
    from portmonet.payments.clock import now_us
    now = now_us()
    made = _entries(journal, now)
    assert journal.bodies is not None and made[0] in journal.bodies   # a large body kept apart
    removed = kept = 0
    after = None
    batches = 0
    while True:
        gone, held, after = journal.purge(now - 30 * DAY_US, 2, after)
        removed, kept, batches = removed + gone, kept + held, batches + 1
        if after is None:
            break
    assert (removed, kept) == (3, 2) and batches >= 3
    assert sorted(k for k in journal.entries.keys()) == sorted([made[1], made[4], made[5]])
    assert journal.for_ext_id("t", "0") == [] and journal.for_ext_id("t", "3") == []
    assert [e.status for e in journal.for_ext_id("t", "1")] == ["error"]
    assert made[0] not in journal.bodies


def test_journal_records_are_values_in_the_bucket_and_big_bodies_are_apart():
    journal = Journal()
    small = journal.record("callback", "p", "127.0.0.1", "POST", "/x", "", b'{"a": 1}',
                           [("Content-Type", "application/json"), ("Cookie", "secret")])
    big = journal.record("bank", "b", "", "FILE", "s.txt", "", "й".encode() * 3000, ())
    assert not hasattr(small, "_p_oid")               # no persistent object per entry
    assert small.headers == (("Content-Type", "application/json"),)
    assert big.body == b"" and big.big and journal.text(big) == "й" * 3000
    done = journal.finish(small.key, "done", "ok", ext_id="k1")
    assert journal.get(small.key) == done and done.status == "done" and done.done_us
    assert journal.for_ext_id("p", "k1") == [done]


@pytest.mark.integration
def test_journal_purge_command(zeo_server, tmp_path):
    ini = zeo_server.ini(tmp_path / "t.ini")
    run_portmonet("init", ini=ini)
    from portmonet.payments.clock import now_us
    db = ZEO.DB(zeo_server.address, wait_timeout=30)
    with db.transaction() as conn:
        _entries(get_root(conn.root())["payments"].journal, now_us())
    out = run_portmonet("payments", "journal", "purge", "--older-than", "30", "--batch", "2",
                        ini=ini).stdout
    assert "removed 3 journal entries older than 30 days; kept 2" in out
    listed = run_portmonet("payments", "journal", "--channel", "osmp", ini=ini).stdout
    assert len(listed.strip().splitlines()) == 3
    bad = run_portmonet("payments", "journal", "purge", "--older-than", "0", ini=ini, check=False)
    assert bad.returncode != 0
    db.close()

"""The notifications folder on an older database: invoices issued before
it get no letter; the ones after it do."""
from portmonet import evolve
from portmonet.billing.model import Invoice
from portmonet.ledger.account import now_us
from portmonet.notify import sources

STEP = "2026-12-04-notify-01-notify-folder"


def _invoice(billing, number, contract):
    key = (f"2026-{number:02d}", contract.account.number)
    billing.invoices[key] = Invoice(
        number=number, period=key[0], account=contract.account.number,
        contract=contract.number, subscriber=1, name="x", address="", currency="RUB",
        issued_us=now_us(), opening=0, closing=0, charges=0, payments=0, other=0, tax=0,
        lines=(), usage=())
    billing.invoice_numbers[number] = key
    billing.next_invoice = number + 1


def test_old_database_gains_the_folder_without_old_invoice_letters(root, tm, people):
    billing = root["billing"]
    for number in (1, 2, 3):
        _invoice(billing, number, people[502])
    root.remove("notify")
    root.evolved.remove(STEP)
    tm.commit()
    assert evolve.run(root, tm=tm) == [STEP]
    notify = root["notify"]
    assert notify.invoices_through == 3
    assert sources.invoices(root, notify) == 0
    _invoice(billing, 4, people[502])
    assert sources.invoices(root, notify) == 1
    assert "invoice-issued:4" in root.outbox.keys and "invoice-issued:3" not in root.outbox.keys

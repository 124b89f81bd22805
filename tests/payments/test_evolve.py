"""The evolve step installs /payments on an older database, once."""
from portmonet import evolve
from portmonet.payments.folder import Payments

STEP = "2026-11-25-payments-01-folder"


def test_evolve_adds_the_folder_to_an_old_database(root, tm):
    assert isinstance(root["payments"], Payments) and STEP in root.evolved
    root.remove("payments")
    root.evolved.remove(STEP)
    tm.commit()
    assert evolve.run(root, tm=tm) == [STEP]
    assert root["payments"].journal is root["payments"]["journal"]
    del root["payments"].wallets          # a part added by a later release
    from portmonet.payments.evolve import add_payments_folder
    add_payments_folder(root)             # idempotent, fills in what is missing
    assert root["payments"].wallets.__parent__ is root["payments"]

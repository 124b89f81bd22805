import pytest
import transaction

from portmonet import evolve
from portmonet.model.root import get_root, install
from portmonet.model.subscriber import Subscriber

PHONE_STEP = "2026-11-25-core-01-normalize-contact-phones"


def test_new_database_is_born_evolved(root):
    assert evolve.pending(root) == []
    assert PHONE_STEP in root.evolved
    assert root.usage is not None and root.outbox is not None


def test_old_shaped_subscriber_is_evolved(root, tm):
    sub = root["subscribers"].add_subscriber(Subscriber("Old Timer"))
    # The shape of an early database: the phone stored as typed, unindexed.
    sub.__dict__["phone"] = "+7 (495) 765-43-21"
    sub._p_changed = True
    bad = root["subscribers"].add_subscriber(Subscriber("Bad Phone"))
    bad.__dict__["phone"] = "call me"
    bad._p_changed = True
    root.evolved.remove(PHONE_STEP)
    tm.commit()
    assert evolve.pending(root) == [PHONE_STEP]
    assert evolve.run(root, tm=tm) == [PHONE_STEP]
    assert sub.phone == "74957654321"
    assert list(root.catalog.phones.ids("74957654321")) == [sub.id]
    assert bad.phone is None and "call me" in bad.notes
    assert evolve.pending(root) == []
    assert evolve.run(root, tm=tm) == []


def test_evolve_records_who_and_why(tmp_path):
    import ZODB
    from ZODB.FileStorage import FileStorage
    db = ZODB.DB(FileStorage(str(tmp_path / "Data.fs")))
    with db.transaction() as conn:
        root = install(conn.root())
        root.evolved.remove(PHONE_STEP)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    evolve.run(get_root(conn.root()), tm=tm)
    last = db.undoLog(0, 1)[0]
    assert last["user_name"] == "portmonet evolve"
    assert PHONE_STEP in last["description"]
    conn.close()
    db.close()


def test_web_refuses_to_start_on_an_unevolved_database(tmp_path, zeo_server):
    from pyramid.paster import get_app
    db = zeo_server.open_db()
    with db.transaction() as conn:
        install(conn.root()).evolved.remove(PHONE_STEP)
    db.close()
    ini = zeo_server.ini(tmp_path / "app.ini")
    text = open(ini).read().replace("portmonet.evolve_on_start = true",
                                    "portmonet.evolve_on_start = false")
    open(ini, "w").write(text)
    with pytest.raises(RuntimeError, match="portmonet evolve"):
        get_app(ini, "main")
    open(ini, "w").write(text.replace("evolve_on_start = false", "evolve_on_start = true"))
    app = get_app(ini, "main")
    import webtest
    assert webtest.TestApp(app).get("/health").json["status"] == "ok"

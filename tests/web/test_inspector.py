"""The administrator's object inspector, history and undo (FileStorage, which undoes)."""
import pytest

from .conftest import Site, make_app, populate


@pytest.fixture
def file_site(tmp_path):
    s = Site(make_app(f"file://{tmp_path}/Data.fs"))
    s.change(populate)
    yield s
    s.db.close()


def test_walks_attributes_and_children(site):
    client = site.login("administrator")
    root = client.get("/@@inspect")
    assert "Root" in root.text and "catalog" in root.text
    catalog = root.click(href=r"oid=", index=0)
    assert catalog.status_int == 200
    card = client.get("/subscribers/1001/@@inspect")
    assert "Ivanov Ivan" in card.text and "1001-1" in card.html.find(id="children").text
    assert "_identity" not in card.text or "•••" in card.text
    assert client.get("/@@inspect", {"oid": "zz"}, expect_errors=True).status_int == 404
    assert client.get("/@@inspect", {"oid": "ffffff"}, expect_errors=True).status_int == 404


def test_edit_simple_fields_with_validation(site):
    client = site.login("administrator")
    form = client.get("/subscribers/1001/@@inspect").forms["form"]
    form["name"] = ""                        # the model refuses an empty name
    res = form.submit(status=400)
    assert "a name is 1 to 200 characters" in res.text
    form = client.get("/subscribers/1001/@@inspect").forms["form"]
    form["name"] = "Ivanova Maria"
    form.submit(status=302)
    assert site.read(lambda r: list(r.catalog.words.ids("ivanova"))) == [1001]
    form = client.get("/staff/cashier/@@inspect").forms["form"]
    form["failed_logins"] = "many"           # an int field
    form.submit(status=400)
    fields = client.get("/staff/cashier/@@inspect").forms["form"].fields
    assert "password_hash" not in fields and "login" not in fields      # secret; folder key
    assert "name" in fields


def test_history_and_undo(file_site):
    client = file_site.login("administrator")
    form = client.get("/subscribers/1001/@@edit").forms["form"]
    form["name"] = "Renamed Person"
    form.submit(status=302)
    page = client.get("/subscribers/1001/@@inspect")
    history = page.html.find(id="history")
    assert "administrator" in history.text and "Renamed Person" in history.text
    undo_form = [f for f in page.forms.values() if f.action.endswith("@@undo")][0]
    res = undo_form.submit(status=302).follow()
    assert "Transaction undone" in res.text
    assert file_site.read(lambda r: r["subscribers"]["1001"].name) == "Ivanov Ivan"


def test_undo_refused_when_later_changes_conflict(file_site):
    client = file_site.login("administrator")
    for name in ("First Name", "Second Name"):
        form = client.get("/subscribers/1001/@@edit").forms["form"]
        form["name"] = name
        form.submit(status=302)
    page = client.get("/subscribers/1001/@@inspect")
    undo_forms = [f for f in page.forms.values() if f.action.endswith("@@undo")]
    res = undo_forms[1].submit(status=302).follow()     # the older change
    assert "Cannot undo" in res.text
    assert file_site.read(lambda r: r["subscribers"]["1001"].name) == "Second Name"

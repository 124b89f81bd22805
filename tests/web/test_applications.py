"""Registration in the office; staff approve or reject."""
from portmonet.web.applications import Application


def _apply(client, **fields):
    form = client.get("/@@office-register").forms["form"]
    values = dict(name="Kozlova Anna", phone="+7 903 555 44 33", email="anna@example.org",
                  address="Lenina 5", password="anna secret 1", confirm="anna secret 1")
    values.update(fields)
    for k, v in values.items():
        form[k] = v
    return form.submit(expect_errors=True)


def test_apply_approve_and_sign_in(site):
    anon = site.client()
    bad = _apply(anon, phone="no phone", name="<b>x</b>" * 100)
    assert bad.status_int == 400
    assert _apply(anon).status_int == 302
    manager = site.login("manager")
    listing = manager.get("/applications/")
    assert "Kozlova Anna" in listing.text
    form = listing.click("Kozlova Anna").forms["form"]
    form["decision"] = "approved"
    card = form.submit(status=302).follow()
    assert card.html.find(id="subscriber-name").text == "Kozlova Anna"
    number = card.html.find(id="contracts").find("a").text
    office = site.office_login(number, "anna secret 1")
    assert "Kozlova Anna" in office.get("/office").follow().text
    assert "Kozlova Anna" not in manager.get("/applications/").text
    # Deciding twice is refused.
    key = site.read(lambda r: next(iter(r["applications"].keys())))
    form = manager.get(f"/applications/{key}/").forms["form"]
    form["decision"] = "rejected"
    assert "already approved" in form.submit(status=400).text


def test_registration_throttled_per_address(site):
    anon = site.client()
    for n in range(5):
        assert _apply(anon, name=f"Person {n}").status_int == 302
    res = _apply(anon, name="Person 6")
    assert res.status_int == 400 and "Too many applications" in res.text
    assert site.read(lambda r: len(r["applications"])) == 5


def test_pending_newest_first_without_reading_all(root):
    folder = root["applications"]
    keys = []
    for n in range(5):
        app = Application(f"P{n}", "", "", "", "h")
        keys.append(folder.add(folder.new_key(), app).__name__)
    folder[keys[1]].decide("rejected", "test")
    assert [a.name for a in folder.pending()] == ["P4", "P3", "P2", "P0"]
    assert [a.name for a in folder.pending(limit=2)] == ["P4", "P3"]


def test_office_tariff_request_approved_by_staff(site):
    from portmonet.model.simple import Tariff
    def tariffs(root):
        root["tariffs"].add("home-50", Tariff("home-50", "Home 50"))
        root["tariffs"].add("home-500", Tariff("home-500", "Home 500"))
    site.change(tariffs)
    office = site.office_login("ivanov", "inet-pass-1")
    form = office.get("/subscribers/1001/@@office-tariff").forms["form"]
    form["tariff"] = "home-500"
    form.submit(status=302)
    # Another subscriber's service cannot be named.
    page = office.get("/subscribers/1001/@@office-tariff")
    res = office.post("/subscribers/1001/@@office-tariff",
                      {"csrf_token": page.forms["form"]["csrf_token"].value,
                       "login": "petrov", "tariff": "home-50"}, expect_errors=True)
    assert res.status_int == 400
    manager = site.login("manager")
    listing = manager.get("/applications/")
    assert "ivanov -&gt; home-500" in listing.text or "ivanov -> home-500" in listing.html.text
    form = listing.click("Ivanov Ivan").forms["form"]
    form["decision"] = "approved"
    form.submit(status=302)
    assert site.read(lambda r: r.catalog.logins.get("ivanov").tariff.name) == "home-500"

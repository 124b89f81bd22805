"""The workflows through the real application (WebTest): requests walked
end to end by the roles they name, the work queue, the office's own
moves, a forbidden move, a definition edited in the workplace."""
import pytest

from portmonet import crypto

from web.conftest import cheap_argon2, csrf_of, site  # noqa: F401  (fixtures)


def _move(client, page, transition, status=302):
    form = next(f for f in page.forms.values()
                if f.fields.get("transition") and f["transition"].value == transition)
    return form.submit(status=status)


def _state(site, key):
    return site.read(lambda root: root["workflows"].requests[key].state)


@pytest.fixture
def office_site(site):
    site.change(lambda root: setattr(root["subscribers"][site.ids["ivanov"]],
                                     "office_password_hash", crypto.hash_password("office-pw-1")))
    return site


def test_a_connection_request_walked_by_manager_and_engineer(site):
    manager = site.login("manager")
    card = manager.get(f"/subscribers/{site.ids['ivanov']}/")
    assert "requests-section" in card.text
    form = card.click(href="@@new-request").forms["form"]
    form["workflow"] = "connection-request"
    page = form.submit(status=302).follow()
    key = page.request.path.rstrip("/").rsplit("/", 1)[1]
    assert "New request" in page.text
    cashier = site.login("cashier")
    assert key not in cashier.get("/workflows/@@queue").text
    res = cashier.post(f"/workflows/requests/{key}/@@take",
                       {"csrf_token": csrf_of(cashier.get(f"/workflows/requests/{key}")),
                        "transition": "accept", "state": "new"}, status=302).follow()
    assert "Not done" in res.text and _state(site, key) == "new"
    _move(manager, manager.get(f"/workflows/requests/{key}"), "accept")
    engineer = site.login("engineer")
    assert key in engineer.get("/workflows/@@queue").text
    _move(engineer, engineer.get(f"/workflows/requests/{key}"), "address-ok")
    _move(engineer, engineer.get(f"/workflows/requests/{key}"), "installed")
    stale = manager.get(f"/workflows/requests/{key}")
    _move(manager, stale, "activate")
    again = _move(manager, stale, "activate").follow()       # the same form twice
    assert "already moved to" in again.text

    def look(root):
        request = root["workflows"].requests[key]
        contract = root.catalog.contracts.get(request.contract)
        return request.state, contract.status, [h[1] for h in request.history]
    assert site.read(look) == ("active", "active",
                                        ["manager", "manager", "engineer", "engineer", "manager"])


def test_the_office_reports_a_problem_and_confirms_the_fix(office_site):
    site = office_site
    office = site.office_login("ivanov", "office-pw-1")
    home = office.get(f"/subscribers/{site.ids['ivanov']}/@@office")
    form = home.click(href="@@office-repair").forms["form"]
    form["comment"] = "No Internet since the storm <script>alert(1)</script>"
    home = form.submit(status=302).follow()
    assert "requests-section" in home.text and "Repair ticket" in home.text
    assert "<script>alert(1)</script>" not in home.text
    key = site.read(lambda root: next(iter(root["workflows"].requests.keys())))
    engineer = site.login("engineer")
    page = engineer.get(f"/workflows/requests/{key}")
    assert "&lt;script&gt;" in page.text
    _move(engineer, page, "take")
    _move(engineer, engineer.get(f"/workflows/requests/{key}"), "fixed")
    home = office.get(f"/subscribers/{site.ids['ivanov']}/@@office")
    _move(office, home, "confirm").follow()
    assert _state(site, key) == "closed"
    # another subscriber cannot move it
    other = site.read(lambda root: root["subscribers"][site.ids["petrov"]].id)
    res = office.post(f"/subscribers/{other}/@@office-request",
                      {"csrf_token": csrf_of(home), "request": key, "transition": "confirm"},
                      expect_errors=True)
    assert res.status_int in (403, 404)


def test_a_definition_edited_in_the_workplace(site):
    admin = site.login("administrator")
    page = admin.get("/workflows/repair")
    assert "transitions" in page.text
    # the diagram, drawn by Graphviz: a node per state, titled
    diagram = page.html.find(id="diagram")
    assert diagram is not None and diagram.find("svg") is not None
    assert "Engineer working" in diagram.text and "Confirm it works" in diagram.text
    form = page.forms["form"]
    form["text"] = form["text"].value.replace("sla: 4h", "sla: 4x")
    res = form.submit(status=400)
    assert "line 9: sla" in res.text and "4x" in res.text
    form = admin.get("/workflows/repair").forms["form"]
    form["text"] = form["text"].value.replace("sla: 4h", "sla: 6h")
    form.submit(status=302)
    assert site.read(lambda root: root["workflows"]["repair"].current.version) == 2
    manager = site.login("manager")
    page = manager.get("/workflows/repair")
    assert 'id="form"' not in page.text
    manager.post("/workflows/repair", {"csrf_token": csrf_of(page), "text": "x"})
    assert site.read(lambda root: root["workflows"]["repair"].current.version) == 2

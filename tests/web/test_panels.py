"""Panels and links come from the configured features: a feature known
only to this test adds a panel to the card and the office (and a failing
one that does not break the page); a deployment without RADIUS starts and
shows no sessions, no "Online" and no kick."""
import logging

from portmonet.features import BUILTIN

from .conftest import Site, make_app, populate

WITH_TEST_FEATURE = " ".join(BUILTIN + ("web.panel_feature",))


def site_with(features):
    site = Site(make_app("memory://", **{"portmonet.features": features}))
    site.change(populate)
    return site


def test_a_features_panel_shows_on_the_card_and_the_office_and_a_failing_one_is_a_box(caplog):
    site = site_with(WITH_TEST_FEATURE)
    caplog.set_level(logging.ERROR, logger="portmonet.web.panels")
    card = site.login("manager").get("/subscribers/1001/")
    assert card.html.find(id="greeting-card").find(class_="words").text == "Hello, Ivanov Ivan"
    box = card.html.find(id="panel-broken")
    assert "panel-error" in box["class"] and "could not be shown" in box.text
    assert card.html.find(id="online") is not None          # the built-in panels still there
    assert card.html.find(id="nav-greetings")["href"].endswith("/@@greetings")
    assert "this panel's data source is down" in caplog.text

    office = site.office_login("ivanov", "inet-pass-1")
    home = office.get("/subscribers/1001/@@office")
    assert home.html.find(id="greeting-office") is not None
    assert home.html.find(id="panel-broken") is not None
    # the panel's own pages: staff's and the office's, each with its permission
    page = site.login("manager").get("/subscribers/1001/@@greeting")
    assert page.html.find(id="greeting-card") is not None
    assert office.get("/subscribers/1001/@@office-greeting").html.find(id="greeting-office")
    assert office.get("/subscribers/1002/@@office-greeting", expect_errors=True).status_int == 403


def test_the_office_shows_only_panels_registered_for_it():
    site = site_with(WITH_TEST_FEATURE)
    home = site.office_login("ivanov", "inet-pass-1").get("/subscribers/1001/@@office")
    assert home.html.find(id="online") is not None              # sessions: card and office
    assert home.html.find(id="rejects") is None                 # refusals: the card only


def test_without_radius_the_app_starts_without_its_pages():
    site = site_with("tariffs rating billing payments")
    client = site.login("manager")
    card = client.get("/subscribers/1001/")
    assert card.html.find(id="online") is None and card.html.find(id="plot-traffic") is None
    assert card.html.find(id="payments-1001-1") is not None     # the payments feature's panel
    assert card.html.find(id="nav-online") is None and card.html.find(id="nav-tariffs")
    contract = client.get("/subscribers/1001/1001-1/")
    assert not [f for f in contract.forms.values() if f.action.endswith("@@kick")]
    assert contract.html.find("a", class_="tariff") is not None
    assert client.get("/subscribers/1001/@@sessions", expect_errors=True).status_int == 404
    assert client.get("/@@sessions", expect_errors=True).status_int == 404
    dashboard = client.get("/")
    assert dashboard.html.find(id="op-online") is None           # radius's figure
    assert dashboard.html.find(id="op-debtors") is not None      # billing's
    assert dashboard.html.find(id="figure-rating-errors") is not None


def test_a_read_conflict_in_a_panel_retries_the_request_instead_of_a_box():
    """A ConflictError is no broken panel: it leaves the page, so that
    pyramid_retry runs the request again."""
    import pytest
    from pyramid import testing
    from zope.interface import directlyProvides
    from ZODB.POSException import ReadConflictError

    from portmonet.interfaces import ISubscriber
    from portmonet.web.panels import draw_panels

    def conflicting(context, request, slot):
        raise ReadConflictError()
    with testing.testConfig() as config:
        config.include("portmonet.web.directives")
        config.testing_securitypolicy(userid="manager", permissive=True)
        config.add_panel("racy", conflicting, where=("card",), renderer="unused.pt")
        config.commit()
        subscriber = testing.DummyResource()
        directlyProvides(subscriber, ISubscriber)
        with pytest.raises(ReadConflictError):
            draw_panels(testing.DummyRequest(context=subscriber), subscriber, "card")

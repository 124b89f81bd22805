"""A feature that exists only in the tests (``portmonet.features = ...
web.panel_feature``): a greeting panel on the card and the office, a panel
that always fails, and a navigation link."""
import os

from portmonet.interfaces import ISubscriber
from portmonet.web.navigation import under

TEMPLATE = os.path.join(os.path.dirname(__file__), "templates", "greeting_panel.pt")


def greeting(subscriber, request, slot):
    return {"words": f"Hello, {subscriber.name}", "where": slot.where}


def broken(subscriber, request, slot):
    raise RuntimeError("this panel's data source is down")


def includeme(config):
    config.add_panel("greeting", greeting, context=ISubscriber, where=("card", "office"),
                     order=1, title="Greeting", renderer=TEMPLATE)
    config.add_panel("broken", broken, context=ISubscriber, where=("card", "office"),
                     order=2, title="Broken", renderer=TEMPLATE, page=False)
    config.add_link("nav", "greetings", "Greetings", under("@@greetings"), order=5)

"""Tariffs: versioned plans (fees, Internet, telephony, TV), loaded from
YAML/TOML/JSON by ``portmonet import tariffs`` and used by the rater and
the billing run."""
from ..interfaces import ITariffBook
from ..web.i18n import _
from ..web.navigation import if_present, service_view
from .book import BOOK


def includeme(config):
    """Its views and pages (``config.scan``), and the tariff book the core
    asks (``ITariffBook``)."""
    config.registry.registerUtility(BOOK, ITariffBook)
    config.add_link("nav", "tariffs", _("Tariffs"), if_present("tariffs", "tariffs/"), order=20)
    config.add_link("service", "tariff", _("Change tariff"), service_view("tariff"), order=10,
                    permission="edit")
    config.scan(ignore=[".tests"])

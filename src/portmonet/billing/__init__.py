"""The billing run: periodic fees, auto-payment, invoices, debt control,
promised payments and accountants' reports (``portmonet bill`` ...)."""
from ..interfaces import IDiscountGroups
from ..web.i18n import _
from ..web.navigation import if_present
from .groups import known_discount_groups


def includeme(config):
    """Its views and pages (``config.scan``), and the discount groups the
    contract form offers (those the tariffs' discounts name)."""
    config.registry.registerUtility(known_discount_groups, IDiscountGroups)
    config.include(".subscribers")
    config.include(".panels")
    config.include(".office")
    config.add_link("nav", "debtors", _("Debtors"),
                    if_present("billing", "billing/@@report?kind=debtors"), order=70,
                    permission="view_reports")
    config.scan(ignore=[".tests"])

"""The billing run: periodic fees, auto-payment, invoices, debt control,
promised payments and accountants' reports (``portmonet bill`` ...)."""
from ..interfaces import IDiscountGroups
from .groups import known_discount_groups


def includeme(config):
    """Its views and pages (``config.scan``), and the discount groups the
    contract form offers (those the tariffs' discounts name)."""
    config.registry.registerUtility(known_discount_groups, IDiscountGroups)
    config.scan(ignore=[".tests"])

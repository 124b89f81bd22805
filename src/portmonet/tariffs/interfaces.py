"""Marker interfaces of the tariffs feature."""
from ..interfaces import ITariff
from zope.interface import Interface


class IRatedTariff(ITariff):
    """A tariff with versions by effective date."""


class ITariffVersion(Interface):
    """One version (plan) of a tariff."""

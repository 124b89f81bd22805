"""Marker interfaces of the billing feature."""
from zope.interface import Interface


class IBilling(Interface):
    """``/billing``: runs, fee records, invoices, debt control."""

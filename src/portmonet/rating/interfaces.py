"""Marker interfaces of the rating feature."""
from zope.interface import Interface


class IRating(Interface):
    """``/rating``: rated records and the error queue."""

"""Marker interfaces of the RADIUS feature."""
from ..interfaces import IEquipment
from zope.interface import Interface


class INas(IEquipment):
    """A network access server: BRAS, hotspot, VPN concentrator, Wi-Fi controller."""


class ISession(Interface):
    """One access session reported by a NAS's accounting."""


class IRadiusState(Interface):
    """``root.radius``: online sessions, session history, rejects."""


class IIpPool(Interface):
    """An IPv4 range Portmonet leases addresses from."""

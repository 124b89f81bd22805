"""The NAS registry: NAS objects under ``/equipment`` with an encrypted secret.

The server keeps an in-memory map address -> NAS (:class:`NasTable`),
reloaded when ``/equipment`` changes, so a packet from an unknown address is
dropped without touching the database.
"""
import ipaddress

from BTrees.OOBTree import OOBTree
from zope.interface import implementer

from .. import crypto
from ..model.simple import Device
from .interfaces import INas

VENDORS = ("generic", "mikrotik", "cisco")


class NasError(ValueError):
    pass


def normalize_address(value):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise NasError(f"NAS address {value!r} is not an IP address") from None


@implementer(INas)
class Nas(Device):
    """A NAS: address, shared secret (encrypted at rest), vendor, CoA port.

    ``sessions`` holds every session it reported, keyed by Acct-Session-Id
    (unique per NAS); ``online`` the open ones.
    """

    kind = "nas"
    coa_port = None          # None: the server's radius.coa_port (3799)
    access_point = ""        # where it stands: a site, a building, a POP
    _secret = None

    def __init__(self, name, address, secret, vendor="generic", title="", coa_port=None,
                 access_point=""):
        vendor = (vendor or "generic").lower()
        if vendor not in VENDORS:
            raise NasError(f"vendor must be one of {', '.join(VENDORS)}")
        super().__init__(name, kind="nas", address=normalize_address(address),
                         vendor=vendor, title=title)
        self.set_secret(secret)
        self.coa_port = int(coa_port) if coa_port else None
        self.access_point = access_point
        self.sessions = OOBTree()
        self.online = OOBTree()

    def set_secret(self, secret):
        if not secret or len(secret) > 128:
            raise NasError("a NAS secret is 1 to 128 characters")
        self._secret = crypto.encrypt(secret)

    def secret(self):
        """The clear shared secret; never log it."""
        return crypto.decrypt(self._secret).encode("utf-8")


def nases(root):
    return [d for d in root["equipment"].values() if INas.providedBy(d)]


def find_by_address(root, address):
    for nas in nases(root):
        if nas.address == address:
            return nas
    return None


def add_nas(root, nas):
    if nas.name in root["equipment"]:
        raise NasError(f"equipment {nas.name!r} exists")
    if find_by_address(root, nas.address) is not None:
        raise NasError(f"a NAS with address {nas.address} exists")
    return root["equipment"].add(nas.name, nas)


class NasEntry:
    """What the server keeps of a NAS in memory (secret included)."""

    __slots__ = ("name", "address", "secret", "vendor", "coa_port")

    def __init__(self, nas):
        self.name = nas.name
        self.address = nas.address
        self.secret = nas.secret()
        self.vendor = nas.vendor
        self.coa_port = nas.coa_port


class NasTable:
    """Address -> NasEntry, rebuilt when the equipment folder changed."""

    def __init__(self):
        self.by_address = {}
        self._serial = None

    def refresh(self, root):
        # A NAS added, removed or edited changes this key.
        current = nases(root)
        serial = tuple((n.name, n._p_serial) for n in current)
        if serial == self._serial:
            return False
        self.by_address = {n.address: NasEntry(n) for n in current}
        self._serial = serial
        return True

    def get(self, address):
        return self.by_address.get(address)

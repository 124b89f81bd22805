"""``/traffic`` and its exporter registry.

An exporter is known by its source address; packets from any other
address are counted and dropped by the collector.  Its ``sampling`` (1 in
N packets) scales what it reports; ``nas`` names the NAS / access point
in ``/equipment`` it belongs to, which its traffic is counted against.
"""
import ipaddress

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..model.folder import Folder
from .interfaces import IExporter, IExporters, ITraffic

MAX_SAMPLING = 1 << 20


class TrafficError(ValueError):
    pass


@implementer(ITraffic)
class Traffic(Folder):
    """``root["traffic"]``.

    ``series``: (scope, name, hour_us, class) -> (octets in, octets out),
    scope one of ``subscriber`` (a login), ``exporter``, ``unknown`` (an
    exporter's traffic no subscriber held the address of);
    ``windows``: id of each committed part of a window -> (records, time),
    so a commit retried after an ambiguous failure adds nothing twice;
    ``errors``: (source, kind) -> count of refused packets and flows.
    """
    title = "Traffic"

    def __init__(self):
        super().__init__()
        self.series = OOBTree()
        self.windows = OOBTree()
        self.errors = OOBTree()
        self.add("exporters", Exporters())
        from .classes import TrafficClasses
        self.classes = TrafficClasses()
        self.classes.__parent__ = self

    @property
    def exporters(self):
        return self["exporters"]


@implementer(IExporters)
class Exporters(Folder):
    title = "Flow exporters"


def normalize_address(value):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise TrafficError(f"exporter address {value!r} is not an IP address") from None


@implementer(IExporter)
class Exporter(Persistent):
    __name__ = None
    __parent__ = None
    nas = ""                 # the NAS / access point (a name in /equipment), or ""
    sampling = 1             # 1 in N packets sampled; flows are scaled by N
    title = ""

    def __init__(self, name, address, nas="", sampling=1, title=""):
        if not name or "/" in name or len(name) > 64:
            raise TrafficError(f"exporter name {name!r}: 1-64 characters, no '/'")
        self.name = name
        self.address = normalize_address(address)
        self.nas = nas or ""
        self.sampling = check_sampling(sampling)
        self.title = title or name


def check_sampling(value):
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise TrafficError(f"sampling {value!r} is not a number") from None
    if not 1 <= value <= MAX_SAMPLING:
        raise TrafficError(f"sampling is 1 (every packet) to {MAX_SAMPLING}")
    return value


def traffic(root):
    return root["traffic"]


def add_exporter(root, exporter):
    folder = traffic(root).exporters
    if exporter.name in folder:
        raise TrafficError(f"exporter {exporter.name!r} exists")
    for other in folder.values():
        if other.address == exporter.address:
            raise TrafficError(f"exporter {other.name} has the address {exporter.address}")
    if exporter.nas and exporter.nas not in root["equipment"]:
        raise TrafficError(f"no NAS or device named {exporter.nas!r} in /equipment")
    return folder.add(exporter.name, exporter)


def remove_exporter(root, name):
    folder = traffic(root).exporters
    if name not in folder:
        raise TrafficError(f"no exporter named {name!r}")
    folder.remove(name)

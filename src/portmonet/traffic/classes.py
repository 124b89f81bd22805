"""Traffic classes: the operator's prefix lists (local network, peering/IX,
free resources, ...) and the longest-prefix match of a flow's remote end.

A list is a text file, one ``PREFIX CLASS`` per line (``#`` comments):

    10.0.0.0/8        local
    192.0.2.0/24      peering
    198.51.100.10/32  free

An address no prefix covers is ``internet``.  Class names are the ones
tariffs price (``attrs["class"]`` of the usage record, ``docs/tariffs.md``).
A file is checked whole before anything is stored: one bad line and
nothing changes.
"""
import ipaddress
import re

import pytricia
from BTrees.OOBTree import OOBTree
from persistent import Persistent

DEFAULT_CLASS = "internet"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class ClassesError(ValueError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"line {n}: {why}" for n, why in errors[:5]) +
                         (f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""))


class TrafficClasses(Persistent):
    """``/traffic``'s prefix lists: prefix text -> class name.  ``version``
    grows with each load, so collectors know to rebuild their table."""
    __name__ = "classes"
    __parent__ = None
    version = 0

    def __init__(self):
        self.prefixes = OOBTree()

    def load(self, mapping, replace=True):
        if replace:
            self.prefixes.clear()
        self.prefixes.update(mapping)
        self.version += 1
        return len(mapping)


def parse(text):
    """``{prefix text: class}`` of a prefix-list file, or ClassesError
    listing every bad line."""
    out, errors = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            errors.append((number, f"expected 'PREFIX CLASS', got {line!r}"))
            continue
        prefix, name = parts
        try:
            network = ipaddress.ip_network(prefix, strict=True)
        except ValueError:
            errors.append((number, f"{prefix!r} is not a network (host bits must be zero)"))
            continue
        if not _NAME.match(name):
            errors.append((number, f"class {name!r}: a lower-case word (a-z, 0-9, _ -)"))
            continue
        key = str(network)
        if out.get(key, name) != name:
            errors.append((number, f"{key} is already in class {out[key]}"))
            continue
        out[key] = name
    if errors:
        raise ClassesError(errors)
    return out


class ClassTable:
    """The longest-prefix match over the stored lists (a prefix trie, not
    a scan), with a cache of the remote addresses seen (they recur)."""

    CACHE_MAX = 500_000

    def __init__(self, prefixes=()):
        self.v4 = pytricia.PyTricia(32)
        self.v6 = pytricia.PyTricia(128)
        for prefix, name in dict(prefixes).items():
            network = ipaddress.ip_network(prefix)
            (self.v4 if network.version == 4 else self.v6)[prefix] = name
        self.cache = {}
        self.version = None

    def classify(self, address, v6=False):
        """The class of an address (an int)."""
        key = -address - 1 if v6 else address
        name = self.cache.get(key)
        if name is None:
            if v6:       # pytricia takes IPv4 addresses as ints, IPv6 as text
                name = self.v6.get(str(ipaddress.IPv6Address(address)))
            else:
                name = self.v4.get(address)
            name = name or DEFAULT_CLASS
            if len(self.cache) >= self.CACHE_MAX:
                self.cache.clear()
            self.cache[key] = name
        return name


def table_of(classes, current=None):
    """A ClassTable of *classes* (the persistent lists), reusing *current*
    when the lists have not changed."""
    if current is not None and current.version == classes.version:
        return current
    table = ClassTable(classes.prefixes.items())
    table.version = classes.version
    return table

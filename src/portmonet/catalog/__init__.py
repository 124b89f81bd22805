"""The catalog: every lookup that is not by path.

Kept up to date by the model itself (see :mod:`portmonet.model.indexing`):
an object that is added, changed or removed updates its own entries.
"""
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .indexes import DuplicateKeyError, MultiIndex, UniqueIndex  # noqa: F401

UNIQUE = {
    "logins": ("login", False),
    "accounts": ("account number", False),
    "contracts": ("contract number", False),
    "lines": ("telephone number", False),
    "ips": ("IP address", True),
    "networks": ("IP network", False),   # 'a.b.c.d/n' held by an Internet service
}
MULTI = {
    "words": "name word",
    "phones": "contact phone",
    "emails": "e-mail",
    "tax_ids": "tax id (INN)",     # bank statements name payers by it
}


class Catalog(Persistent):
    """Holds the indexes as attributes (each its own BTree)."""

    __name__ = "catalog"
    __parent__ = None

    def __init__(self):
        for name, (title, integer_keys) in UNIQUE.items():
            setattr(self, name, UniqueIndex(title, integer_keys))
        for name, title in MULTI.items():
            setattr(self, name, MultiIndex(title))
        # cause -> (account number, posting key): a cause is posted once.
        self.causes = OOBTree()

    def index(self, name):
        return getattr(self, name)

    def apply(self, before, after):
        """Move index entries from *before* to *after*: sets of (index, key, target).

        Uniqueness is checked for every new entry before anything changes,
        so a refused change leaves the catalog as it was.
        """
        removed = before - after
        added = after - before
        for name, key, target in added:
            held = self.index(name)
            if name in UNIQUE:
                existing = held.get(key)
                if existing is not None and existing is not target and \
                        (name, key, existing) not in removed:
                    raise DuplicateKeyError(f"{held.title} {key!r} is already taken")
        for name, key, target in removed:
            self.index(name).discard(key, target)
        for name, key, target in added:
            self.index(name).add(key, target)

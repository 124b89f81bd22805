"""BTree-backed folders in the manner of Substance D.

Children live in an ``OOBTree`` (or ``LOBTree`` for integer-keyed folders);
large folders keep their size in a ``BTrees.Length`` so that ``len()`` is
O(1) and concurrent adds merge instead of conflicting.  Every child gets
``__name__`` and ``__parent__`` on add.
"""
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..interfaces import IFolder


class FolderKeyError(KeyError):
    pass


@implementer(IFolder)
class Folder(Persistent):
    """A folder of children keyed by text names.

    ``counted`` folders (the big top-level ones) keep a Length; small ones
    (a subscriber's contracts) count their BTree, which is one bucket.
    """

    __name__ = None
    __parent__ = None
    _num_objects = None
    title = ""

    def __init__(self, counted=False):
        self.data = self._make_tree()
        if counted:
            self._num_objects = Length()

    @staticmethod
    def _make_tree():
        return OOBTree()

    # Keys as they appear in URLs are text; subclasses may convert.
    def _key(self, name):
        if not isinstance(name, str) or not name:
            raise FolderKeyError(name)
        return name

    def __getitem__(self, name):
        return self.data[self._key(name)]

    def get(self, name, default=None):
        try:
            return self[name]
        except (KeyError, ValueError):
            return default

    def __contains__(self, name):
        try:
            return self._key(name) in self.data
        except (KeyError, ValueError):
            return False

    def __len__(self):
        if self._num_objects is not None:
            return self._num_objects()
        return len(self.data)

    def __iter__(self):
        return iter(self.data.keys())

    def __bool__(self):
        return True

    def keys(self, min=None, max=None):
        return self.data.keys(min, max)

    def values(self, min=None, max=None):
        return self.data.values(min, max)

    def items(self, min=None, max=None):
        return self.data.items(min, max)

    def add(self, name, child):
        key = self._key(name)
        if key in self.data:
            raise FolderKeyError(f"{name!r} already exists in {self.__name__ or 'folder'}")
        child.__name__ = str(name)
        child.__parent__ = self
        self.data[key] = child
        if self._num_objects is not None:
            self._num_objects.change(1)
        added = getattr(child, "_on_added", None)
        if added is not None:
            added()
        return child

    def remove(self, name):
        key = self._key(name)
        child = self.data[key]
        removed = getattr(child, "_on_removed", None)
        if removed is not None:
            removed()
        del self.data[key]
        if self._num_objects is not None:
            self._num_objects.change(-1)
        return child


class IntFolder(Folder):
    """A folder keyed by integer ids (subscribers): compact, ordered keys."""

    @staticmethod
    def _make_tree():
        return LOBTree()

    def _key(self, name):
        if isinstance(name, int) and not isinstance(name, bool):
            return name
        if isinstance(name, str) and name.isdigit() and len(name) < 19:
            return int(name)
        raise FolderKeyError(name)

    def __iter__(self):
        return (str(k) for k in self.data.keys())

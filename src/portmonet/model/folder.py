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

    ``counted`` folders (the big top-level ones) keep a Length.  A folder
    whose class sets ``small_max`` keeps up to that many children inline, in
    a tuple replaced on each change, and moves them into a BTree when it
    grows past it: a subscriber's one contract and a contract's one or two
    services then cost no extra objects, which is what lets a million
    subscribers be written in minutes.
    """

    __name__ = None
    __parent__ = None
    _num_objects = None
    title = ""
    _btree = None          # the BTree, or None while the folder is small
    _small = ()            # ((key, child), ...) sorted by key, while small
    small_max = 0          # 0: always a BTree

    def __init__(self, counted=False):
        if not self.small_max:
            self._btree = self._make_tree()
        if counted:
            self._num_objects = Length()

    @staticmethod
    def _make_tree():
        return OOBTree()

    def __setstate__(self, state):
        # Databases written before 0.1 kept the BTree in ``data``; read it
        # under its new name (written back when the folder next changes).
        if isinstance(state, dict) and "data" in state:
            state = dict(state)
            state["_btree"] = state.pop("data")
        super().__setstate__(state)

    @property
    def data(self):
        """The children as a BTree, for reading (ranges, maxKey ...).  While the
        folder is small this is a transient copy: change children with
        ``add``/``remove`` only."""
        if self._btree is not None:
            return self._btree
        tree = self._make_tree()
        tree.update(list(self._small))
        return tree

    # Keys as they appear in URLs are text; subclasses may convert.
    def _key(self, name):
        if not isinstance(name, str) or not name:
            raise FolderKeyError(name)
        return name

    def _small_get(self, key):
        for k, child in self._small:
            if k == key:
                return child
        raise FolderKeyError(key)

    def __getitem__(self, name):
        key = self._key(name)
        if self._btree is not None:
            return self._btree[key]
        return self._small_get(key)

    def get(self, name, default=None):
        try:
            return self[name]
        except (KeyError, ValueError):
            return default

    def __contains__(self, name):
        try:
            self[name]
            return True
        except (KeyError, ValueError):
            return False

    def __len__(self):
        if self._num_objects is not None:
            return self._num_objects()
        return len(self._btree) if self._btree is not None else len(self._small)

    def __iter__(self):
        return iter(self.keys())

    def __bool__(self):
        return True

    def items(self, min=None, max=None):
        if self._btree is not None:
            return self._btree.items(min, max)
        return [(k, c) for k, c in self._small
                if (min is None or k >= min) and (max is None or k <= max)]

    def keys(self, min=None, max=None):
        if self._btree is not None:
            return self._btree.keys(min, max)
        return [k for k, _ in self.items(min, max)]

    def values(self, min=None, max=None):
        if self._btree is not None:
            return self._btree.values(min, max)
        return [c for _, c in self.items(min, max)]

    def add(self, name, child):
        key = self._key(name)
        if key in self:
            raise FolderKeyError(f"{name!r} already exists in {self.__name__ or 'folder'}")
        child.__name__ = str(name)
        child.__parent__ = self
        if self._btree is None and len(self._small) >= self.small_max:
            self._btree = self._make_tree()
            self._btree.update(self._small)
            self._small = ()
        if self._btree is not None:
            self._btree[key] = child
        else:
            self._small = tuple(sorted(self._small + ((key, child),), key=lambda kc: kc[0]))
        if self._num_objects is not None:
            self._num_objects.change(1)
        added = getattr(child, "_on_added", None)
        if added is not None:
            added()
        return child

    def remove(self, name):
        key = self._key(name)
        child = self[key]
        removed = getattr(child, "_on_removed", None)
        if removed is not None:
            removed()
        if self._btree is not None:
            del self._btree[key]
        else:
            self._small = tuple(kc for kc in self._small if kc[0] != key)
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
        return (str(k) for k in self.keys())

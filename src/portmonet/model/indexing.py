"""Objects that keep their own catalog entries current.

A class lists what it indexes in ``_index_entries()`` as a set of
``(index name, key, target)``.  Adding it to the tree indexes it; removing
it unindexes it; :meth:`Indexed.update` changes attributes and moves the
entries in one step, refusing (and changing nothing) when a unique key is
taken.
"""
from .lineage import find_catalog


class Indexed:

    def _index_entries(self):
        return set()

    def _children(self):
        return ()

    def _subtree(self):
        yield self
        for child in self._children():
            sub = getattr(child, "_subtree", None)
            if sub is not None:
                yield from sub()

    def _on_added(self):
        catalog = find_catalog(self)
        if catalog is None:
            return
        for node in self._subtree():
            catalog.apply(set(), node._index_entries())

    def _on_removed(self):
        catalog = find_catalog(self)
        if catalog is None:
            return
        for node in self._subtree():
            catalog.apply(node._index_entries(), set())

    def update(self, **changes):
        """Set attributes (validated by the class's ``_normalize_<name>``)."""
        for name in changes:
            if name.startswith("_") or not hasattr(type(self), name):
                raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        normalized = {}
        for name, value in changes.items():
            normalize = getattr(self, f"_normalize_{name}", None)
            normalized[name] = normalize(value) if normalize else value
        catalog = find_catalog(self)
        before = self._index_entries() if catalog is not None else set()
        old = {name: getattr(self, name) for name in normalized}
        for name, value in normalized.items():
            setattr(self, name, value)
        if catalog is None:
            return
        try:
            catalog.apply(before, self._index_entries())
        except Exception:
            for name, value in old.items():
                setattr(self, name, value)
            raise

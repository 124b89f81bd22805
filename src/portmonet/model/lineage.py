"""Walking up the tree: the root, the catalog, the subscriber of anything."""


def lineage(resource):
    while resource is not None:
        yield resource
        resource = getattr(resource, "__parent__", None)


def find_root(resource):
    for node in lineage(resource):
        if node.__parent__ is None:
            return node
    return None


def find_catalog(resource):
    """The catalog of the tree *resource* is attached to, or None if detached."""
    for node in lineage(resource):
        catalog = getattr(node, "catalog", None)
        if catalog is not None and node.__parent__ is None:
            return catalog
    return None


def find_interface(resource, iface):
    for node in lineage(resource):
        if iface.providedBy(node):
            return node
    return None

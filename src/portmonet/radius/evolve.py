"""Evolve steps of the RADIUS feature."""
from ..evolve import step
from . import check  # noqa: F401  registers the books check


@step("2026-11-25-radius-01-state")
def add_radius_state(root):
    """``root.radius``: online sessions, history and rejects."""
    from .sessions import RadiusState
    if getattr(root, "radius", None) is None:
        root.radius = RadiusState()
        root.radius.__parent__ = root

"""Evolve steps of the web feature."""
from ..evolve import step


@step("2026-11-25-web-01-applications")
def add_applications(root):
    """``/applications``: the office's registration requests."""
    from .applications import Applications
    if "applications" not in root:
        root.add("applications", Applications())

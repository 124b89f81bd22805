"""Evolve steps of the web feature."""
from ..evolve import step


@step("2026-11-25-web-01-applications")
def add_applications(root):
    """``/applications``: the office's registration requests."""
    from .applications import Applications
    if "applications" not in root:
        root.add("applications", Applications())


@step("2026-11-25-web-02-day-figures")
def add_day_figures(root):
    """``root.day_figures``: per-day counters for the dashboard's plots."""
    from .figures import DayFigures
    if getattr(root, "day_figures", None) is None:
        root.day_figures = DayFigures()
        root.day_figures.__parent__ = root

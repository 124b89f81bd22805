"""Evolve steps of the traffic feature."""
from ..evolve import step


@step("2026-12-04-traffic-01-folder")
def add_traffic(root):
    """``/traffic``: flow exporters, traffic classes, counted series."""
    from .model import Traffic
    if "traffic" not in root:
        root.add("traffic", Traffic())

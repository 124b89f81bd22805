"""Install the rating feature's folder."""
from ..evolve import step
from . import checks  # noqa: F401  (registers the books check)
from .model import Rating


@step("2026-11-25-rating-01-rating-folder")
def add_rating(root):
    if "rating" not in root:
        root.add("rating", Rating())


@step("2026-11-25-rating-02-lanes")
def add_lanes(root):
    """Queue lanes (one rater per shard of them), records still queued
    moved into their lanes, and the rating's lanes (rated and parked
    records, allowances).  Records rated before stay where they are."""
    if "rating" not in root:
        root.add("rating", Rating())
    root.usage.add_lanes()
    root["rating"].add_lanes()

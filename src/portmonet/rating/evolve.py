"""Install the rating feature's folder."""
from ..evolve import step
from . import checks  # noqa: F401  (registers the books check)
from .model import Rating


@step("2026-11-25-rating-01-rating-folder")
def add_rating(root):
    if "rating" not in root:
        root.add("rating", Rating())

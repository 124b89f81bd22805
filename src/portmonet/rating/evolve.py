"""Install the rating feature's folder."""
from ..evolve import step
from .model import Rating


@step("2026-11-25-rating-01-rating-folder")
def add_rating(root):
    if "rating" not in root:
        root.add("rating", Rating())

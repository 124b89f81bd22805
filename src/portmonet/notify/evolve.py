"""Install the notifications feature's folder."""
from ..evolve import step
from .model import Notify


@step("2026-12-04-notify-01-notify-folder")
def add_notify(root):
    if "notify" not in root:
        root.add("notify", Notify())

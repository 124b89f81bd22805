"""Install the notifications feature's folder."""
from ..evolve import step
from .model import Notify


@step("2026-12-04-notify-01-notify-folder")
def add_notify(root):
    """The folder; invoices numbered before it get no letter now (on an
    older database that would be every invoice ever issued)."""
    if "notify" not in root:
        notify = root.add("notify", Notify())
        billing = root.get("billing")
        if billing is not None:
            notify.invoices_through = billing.next_invoice - 1

"""Evolve steps of the core model."""
from ..catalog import normalize
from . import step


@step("2026-11-25-core-01-normalize-contact-phones")
def normalize_contact_phones(root):
    """Early databases stored contact phones as typed ('+7 (495) 123-45-67')
    and indexed nothing; store them normalized and index them."""
    catalog = root.catalog
    for subscriber in root["subscribers"].values():
        raw = subscriber.phone
        if not raw:
            continue
        try:
            phone = normalize.phone(raw)
        except normalize.InvalidValue:
            subscriber.notes = (subscriber.notes + f"\nunreadable phone kept: {raw}").strip()
            subscriber.phone = None
            continue
        if phone != raw or subscriber.id not in catalog.phones.ids(phone):
            catalog.phones.discard(raw, subscriber.id)
            subscriber.phone = phone
            catalog.phones.add(phone, subscriber.id)


@step("2026-11-25-core-02-usage-queue-and-outbox")
def add_usage_queue_and_outbox(root):
    """The usage queue (collectors -> rater) and the outbox (decisions -> effects)."""
    from ..outbox import Outbox
    from ..usage import UsageQueue
    if getattr(root, "usage", None) is None:
        root.usage = UsageQueue()
        root.usage.__parent__ = root
    if getattr(root, "outbox", None) is None:
        root.outbox = Outbox()
        root.outbox.__parent__ = root


@step("2026-11-25-core-03-outbox-pending-index")
def index_pending_outbox_messages(root):
    """Outboxes made before the pending index: index what is still to do."""
    from BTrees.OOBTree import OOBTree
    outbox = root.outbox
    if getattr(outbox, "pending", None) is not None:
        return
    outbox.pending = OOBTree()
    for channel, tree in outbox.channels.items():
        for slot, message in tree.items():
            message.__parent__, message.slot = outbox, slot
            if message.state in ("queued", "failed"):
                outbox.pending[(channel, slot)] = message

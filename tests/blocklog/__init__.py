"""The smallest complete feature (docs/architecture.md, "How a feature
plugs in"): it hears that a service was blocked and writes it down, shows
the notes in a panel on the subscriber's card, and prints them with
``portmonet block-log SUBSCRIBER``.  Turn it on with
``portmonet.features = ... blocklog`` (or an entry point in the
``portmonet.features`` group)."""
from BTrees.LOBTree import LOBTree

from portmonet.events import IServiceBlocked
from portmonet.interfaces import ISubscriber
from portmonet.ledger.account import now_us


def notes_of(subscriber):
    """The subscriber's block notes, oldest first (None: never blocked)."""
    return getattr(subscriber, "block_log", None)


def write_down(event):
    """An event subscriber: records in the deciding transaction, nothing else."""
    subscriber = event.service.__parent__.__parent__
    if notes_of(subscriber) is None:
        subscriber.block_log = LOBTree()
    subscriber.block_log[now_us()] = f"{event.service.__name__}: {event.reason}"


def block_log_panel(subscriber, request, slot):
    """A panel's view: the template's values, or None to show nothing."""
    notes = notes_of(subscriber)
    if not notes:
        return None
    return {"notes": list(notes.values())[-slot.limit:][::-1]}


def includeme(config):
    config.add_subscriber(write_down, IServiceBlocked)
    config.add_panel("block-log", block_log_panel, context=ISubscriber, where=("card",),
                     order=90, title="Blocks", renderer="blocklog:templates/block_log.pt",
                     page=False)

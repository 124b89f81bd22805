"""The notifications feature's objects: ``root["notify"]`` (a folder of mass
mailings) with the templates edited in the workplace, the subscribers'
office inboxes and the index of SMS receipts."""
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..ledger.account import now_us
from ..model.folder import Folder
from .interfaces import INotify


@implementer(INotify)
class Notify(Folder):
    """Children: mass mailings by id."""

    __name__ = "notify"
    title = "Notifications"
    invoices_through = 0       # the last invoice number turned into a notice

    def __init__(self):
        super().__init__()
        self.templates = OOBTree()   # (event, channel, lang) -> Template (edited; else the file)
        self.inboxes = LOBTree()     # subscriber id -> Inbox
        self.receipts = OOBTree()    # (gateway, external message id) -> outbox key

    def unread_of(self, subscriber_id):
        box = self.inboxes.get(subscriber_id)
        return box.unread() if box is not None else 0

    def inbox(self, subscriber_id, create=False):
        box = self.inboxes.get(subscriber_id)
        if box is None and create:
            box = self.inboxes[subscriber_id] = Inbox()
        return box


class Template(Persistent):
    """One event's text for one channel and language, as edited."""

    def __init__(self, subject, text, html="", user=""):
        self.subject = subject
        self.text = text
        self.html = html
        self.user = user
        self.changed_us = now_us()


class InboxItem(Persistent):
    read = False

    def __init__(self, key, event, subject, text, created_us):
        self.key = key               # the outbox key: one item per cause
        self.event = event
        self.subject = subject
        self.text = text
        self.created_us = created_us


class Inbox(Persistent):
    """A subscriber's office messages, newest last, and the unread count."""

    def __init__(self):
        self.items = LOBTree()       # time key -> InboxItem
        self.keys = OOBTree()        # outbox key -> time key
        self.unread = Length()

    def deliver(self, key, event, subject, text, slot):
        if key in self.keys:
            return False
        while slot in self.items:
            slot += 1
        self.items[slot] = InboxItem(key, event, subject, text, slot >> 8)
        self.keys[key] = slot
        self.unread.change(1)
        return True

    def mark_read(self, slot):
        item = self.items.get(slot)
        if item is not None and not item.read:
            item.read = True
            self.unread.change(-1)
        return item

    def newest(self, limit=50):
        keys = self.items.keys()
        count = len(keys)
        return [(keys[i], self.items[keys[i]]) for i in range(count - 1, max(count - limit, 0) - 1, -1)]

"""Mass mailings: an employee picks a segment, writes (or starts from an
event's) texts, previews them on a real subscriber and sends; the notifier
turns the segment into outbox messages a window at a time, so the
mailing never floods the queue ahead of the day's notices, at the
channel's rate; cancelling stops both the expansion and what is queued.
"""
import itertools

from BTrees.Length import Length
from persistent import Persistent
from zope.interface import implementer

from ..ledger.account import now_us
from .interfaces import IMailing
from .segments import Segment, members
from .texts import Text

STATES = ("sending", "queued-all", "done", "cancelled")
_ids = itertools.count()


@implementer(IMailing)
class Mailing(Persistent):
    __name__ = None
    __parent__ = None
    state = "sending"
    cursor = None              # the last subscriber id expanded
    finished_us = 0

    def __init__(self, title, segment, channels, subject, text, html="", marketing=True,
                 user=""):
        self.title = title
        self.segment = segment.as_dict()
        self.channels = tuple(channels)
        self.subject = subject
        self.text = text
        self.html = html
        self.marketing = bool(marketing)
        self.user = user
        self.created_us = now_us()
        self.queued = Length()
        self.done = {state: Length() for state in ("sent", "skipped", "given-up")}

    @property
    def title_line(self):
        return self.title

    def text_for(self, channel):
        if channel not in self.channels:
            return None
        return Text(self.subject, self.text, self.html if channel == "mail" else "")

    def count(self, state):
        held = self.done.get(state)
        if held is not None:
            held.change(1)

    def counts(self):
        return {"queued": self.queued(), **{k: v() for k, v in self.done.items()}}

    @property
    def settled(self):
        return sum(v() for v in self.done.values())

    @property
    def progress(self):
        """0..100: settled messages of those queued (of the segment, once all are)."""
        queued = self.queued()
        if not queued:
            return 100 if self.state in ("queued-all", "done") else 0
        return min(100, 100 * self.settled // queued)

    def cancel(self):
        if self.state in ("sending", "queued-all"):
            self.state = "cancelled"
            self.finished_us = now_us()


def new_id(notify):
    base = now_us() // 1000
    while str(base) in notify:
        base += 1
    return str(base)


def create(notify, mailing):
    name = new_id(notify)
    notify.add(name, mailing)
    return mailing


def expand(root, mailing, window, batch=500):
    """Queue the next subscribers' messages while fewer than *window* of
    this mailing wait; returns how many were queued."""
    if mailing.state != "sending":
        return 0
    waiting = mailing.queued() - mailing.settled
    room = window - waiting
    if room <= 0:
        return 0
    per = max(1, len(mailing.channels))
    found, last = members(root, Segment(**mailing.segment), mailing.cursor,
                          limit=max(1, min(batch, room // per)))
    queued = 0
    for subscriber in found:
        for channel in mailing.channels:
            key = f"mailing:{mailing.__name__}:{subscriber.id}:{channel}"
            if key in root.outbox.keys:
                continue
            root.outbox.queue(channel, key, {"event": "mailing", "mailing": mailing.__name__,
                                             "subscriber": subscriber.id,
                                             "marketing": mailing.marketing})
            queued += 1
    if queued:
        mailing.queued.change(queued)
    if last is None:
        mailing.state = "queued-all"
    else:
        mailing.cursor = last
    return queued


def finish(mailing):
    if mailing.state == "queued-all" and mailing.settled >= mailing.queued():
        mailing.state = "done"
        mailing.finished_us = now_us()
        return True
    return False

"""The outbox: effects on the outside world decided in a transaction and
carried out after it commits, by the process that owns the channel.

A web request or a billing run that decides to disconnect a subscriber or
send a letter queues a message here; the RADIUS process (channel
``radius``) or the notifier (``mail``, ``sms``, ``office``) takes it after the decision
is committed, performs it outside any transaction, then records the result
in a short transaction of its own.  A retried request that queues the same
``key`` twice makes one message.
"""
import random

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from . import crypto
from .ledger.account import now_us

_random = random.SystemRandom()
MAX_SLOT = 2 ** 63 - 1
# queued -> sent | failed (retried at next_try_us) | deferred (held until
# next_try_us, no attempt counted: quiet hours, a rate limit) | skipped
# (nothing to do: no address, the subscriber opted out) | given-up (the
# dead letter: attempts exhausted or a permanent refusal; last_error says why).
STATES = ("queued", "sent", "failed", "deferred", "skipped", "given-up")
SETTLED = ("sent", "skipped", "given-up")


# The notifier's channels (``portmonet notify``, docs/notifications.md).
NOTICE_CHANNELS = ("mail", "sms", "office")


class Message(Persistent):
    """One effect to carry out; ``payload`` is a small dict of plain values."""

    __parent__ = None        # the Outbox
    slot = None              # its key in the channel's tree
    state = "queued"
    attempts = 0
    last_error = ""
    done_us = 0
    next_try_us = 0
    delivery = ""            # what the far end reported later (an SMS receipt)

    def __init__(self, channel, key, payload, created_us):
        self.channel = channel
        self.key = key
        self.payload = dict(payload)
        self.created_us = created_us

    def sent(self, result=""):
        self.state = "sent"
        self.last_error = result
        self.done_us = now_us()
        self._settled()

    def failed(self, error, retry_in_s=60, max_attempts=10):
        self.attempts += 1
        self.last_error = str(error)[:500]
        if self.attempts >= max_attempts:
            self.state = "given-up"
            self._settled()
        else:
            self.state = "failed"
            self.next_try_us = now_us() + retry_in_s * 1_000_000

    def skipped(self, reason):
        self.state = "skipped"
        self.last_error = str(reason)[:500]
        self.done_us = now_us()
        self._settled()

    def deferred(self, until_us, reason):
        """Hold until *until_us* without counting an attempt."""
        self.state = "deferred"
        self.last_error = str(reason)[:500]
        self.next_try_us = until_us

    def give_up(self, error):
        """A permanent refusal: straight to the dead letters."""
        self.failed(error, max_attempts=self.attempts + 1)

    def requeue(self):
        """Queue a failed, deferred or given-up message again, now (a staff
        decision: the owner takes it on its next poll)."""
        if self.state in ("failed", "deferred", "given-up"):
            self.state = "queued"
            self.next_try_us = 0
            self.attempts = 0
            if self.__parent__ is not None:
                self.__parent__.pending[(self.channel, self.slot)] = self
        return self

    def _settled(self):
        if self.__parent__ is not None:
            self.__parent__.pending.pop((self.channel, self.slot), None)


class Outbox(Persistent):
    """``root.outbox``: per channel, messages by time key; keys unique."""

    __name__ = "outbox"
    __parent__ = None

    def __init__(self):
        self.channels = OOBTree()    # channel -> LOBTree(time key -> Message)
        self.keys = OOBTree()        # message key -> Message
        # (channel, time key) -> Message still to carry out, so a poll reads
        # what is due, not every message ever sent.
        self.pending = OOBTree()

    def queue(self, channel, key, payload):
        """Queue once per key; returns the (possibly earlier) message."""
        held = self.keys.get(key)
        if held is not None:
            return held
        tree = self.channels.get(channel)
        if tree is None:
            tree = self.channels[channel] = LOBTree()
        created = now_us()
        slot = (created << 8) | _random.getrandbits(8)
        while slot in tree:
            slot += 1
        message = Message(channel, key, payload, created)
        message.__parent__ = self
        message.slot = slot
        tree[slot] = message
        self.keys[key] = message
        self.pending[(channel, slot)] = message
        return message

    def newest(self, channel):
        """The channel's messages, newest first (a LOBTree has no reverse
        iteration; ``maxKey(k - 1)`` steps back in O(log n))."""
        tree = self.channels.get(channel)
        if not tree:
            return
        key = tree.maxKey()
        while True:
            yield tree[key]
            try:
                key = tree.maxKey(key - 1)
            except ValueError:
                return

    def due(self, channel, limit=100, now=None):
        """Messages to carry out now: queued, or failed / deferred and due."""
        now = now_us() if now is None else now
        out = []
        for message in self.pending.values((channel, 0), (channel, MAX_SLOT)):
            if message.state == "queued" or (message.state in ("failed", "deferred")
                                             and message.next_try_us <= now):
                out.append(message)
                if len(out) >= limit:
                    break
        return out


def queue_notice(outbox, key, subscriber, payload):
    """A notice (``payload["event"]`` names it) to *subscriber* by every
    channel that can reach them: a letter with an e-mail address, a text
    with a phone, the office inbox always.  The notifier picks the
    language, the template and the subscriber's choices when it sends.
    The letter keeps *key*; the others are ``key|sms``, ``key|office``."""
    payload = dict(payload, subscriber=getattr(subscriber, "id", None))
    out = []
    if getattr(subscriber, "email", None):
        out.append(outbox.queue("mail", key, dict(payload, to=subscriber.email)))
    if getattr(subscriber, "phone", None):
        out.append(outbox.queue("sms", f"{key}|sms", dict(payload, to=subscriber.phone)))
    out.append(outbox.queue("office", f"{key}|office", payload))
    return out


def seal(**values):
    """Values a message must carry but the database must not keep in clear
    (a one-time code): encrypted with the installation's keys, put in the
    payload as ``sealed``; the process that sends opens them in memory."""
    return {name: crypto.encrypt(str(value)) for name, value in values.items()}


def unseal(payload):
    """The sealed values of a payload, in clear (an empty dict without)."""
    return {name: crypto.decrypt(token) for name, token in (payload.get("sealed") or {}).items()}

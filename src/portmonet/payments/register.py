"""What each channel says it received, kept beside the ledger.

A row per payment (or cancellation) accepted from a channel, written in the
same transaction as its posting; reconciliation compares these rows with
the ledger ("received vs booked") per channel and day, and the books check
proves they agree.  Keyed ``(channel, day, cause)`` so a day of a channel
is one range of the tree.
"""
from BTrees.Length import Length
from persistent import Persistent

from .clock import day_of
from .trees import AppendOOBTree

# Cause prefixes of the channels that take money in (cause = "<channel>:...").
CHANNELS = ("osmp", "callback", "bank", "cash", "card")


class Register(Persistent):
    __name__ = "register"
    __parent__ = None

    def __init__(self):
        self.rows = AppendOOBTree()
        self.count = Length()

    def add(self, channel, cause, account_no, amount, agent, ext_id, when_us):
        if channel not in CHANNELS:
            raise ValueError(f"unknown payment channel {channel!r}")
        key = (channel, day_of(when_us), cause)
        if key in self.rows:
            return False
        self.rows[key] = (account_no, amount, agent, str(ext_id), when_us)
        self.count.change(1)
        return True

    def day(self, channel, day):
        """[(cause, (account_no, amount, agent, ext_id, when_us))] of one channel and day."""
        return [(key[2], row) for key, row in
                self.rows.items((channel, day, ""), (channel, day, "\U0010ffff"))]

    def channel(self, channel):
        return self.rows.items((channel, "", ""), (channel, "\U0010ffff", ""))

    def days(self, channel):
        seen = []
        key = (channel, "", "")
        while True:
            try:
                key = self.rows.minKey(key)
            except ValueError:
                break
            if key[0] != channel:
                break
            seen.append(key[1])
            key = (channel, key[1] + "\U0010ffff", "")
        return seen

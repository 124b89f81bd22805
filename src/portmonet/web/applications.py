"""Applications: a person asks for service in the office; staff approve
(making the subscriber and the contract) or reject.

Keys are the time in microseconds plus random bits, so applications made at
the same moment by several web processes never compete for one key.
"""
import random

from persistent import Persistent
from zope.interface import Interface, implementer

from ..ledger.account import now_us
from ..model.folder import Folder

_random = random.SystemRandom()
STATES = ("pending", "approved", "rejected")


class IApplications(Interface):
    """``/applications``: people asking to become subscribers."""


class IApplication(Interface):
    """One application."""


@implementer(IApplications)
class Applications(Folder):
    title = "Applications"

    def __init__(self):
        super().__init__(counted=True)

    def new_key(self):
        while True:
            key = f"{now_us():016d}{_random.getrandbits(16):04x}"
            if key not in self.data:
                return key

    def pending(self, limit=100, scan=2000):
        """The newest pending applications, walking keys downward."""
        out = []
        key = self.data.maxKey() if self.data else None
        for _ in range(scan):
            if key is None:
                break
            app = self.data[key]
            if app.state == "pending":
                out.append(app)
                if len(out) >= limit:
                    break
            try:
                key = self.data.maxKey(_just_below(key))
            except ValueError:
                key = None
        return out


def _just_below(key):
    """A bound above every key smaller than *key* and below *key* itself
    (keys are non-empty text), for walking a tree downward with maxKey."""
    return key[:-1] + chr(ord(key[-1]) - 1) + "\U0010ffff"


@implementer(IApplication)
class Application(Persistent):
    __name__ = None
    __parent__ = None
    state = "pending"
    decided_by = ""
    decided_us = 0
    subscriber_id = None
    note = ""

    def __init__(self, name, phone, email, address, password_hash, client_addr=""):
        self.name = name
        self.phone = phone
        self.email = email
        self.address = address
        self.password_hash = password_hash
        self.client_addr = client_addr
        self.created_us = now_us()

    @property
    def title(self):
        return self.name

    def decide(self, state, user, note=""):
        if self.state != "pending":
            raise ValueError(f"this application is already {self.state}")
        if state not in ("approved", "rejected"):
            raise ValueError(f"unknown decision {state!r}")
        self.state = state
        self.decided_by = user
        self.decided_us = now_us()
        self.note = note

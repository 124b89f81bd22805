"""Applications: a person asks for service in the office; staff approve
(making the subscriber and the contract) or reject.

Keys are the time in microseconds plus random bits, so applications made at
the same moment by several web processes never compete for one key.
"""
import random

from persistent import Persistent
from zope.interface import Interface, implementer

from ..features import current_registry
from ..interfaces import ITariffBook
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
    """A person's request to become a subscriber."""

    __name__ = None
    __parent__ = None
    kind = "registration"
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

    @property
    def summary(self):
        return f"{self.name}, {self.phone}, {self.email}, {self.address}"

    def carry_out(self, root, user):
        """Approved: the subscriber with a draft contract, signing in to the
        office with the password chosen in the application."""
        from ..model.subscriber import Subscriber
        sub = Subscriber(self.name, phone=self.phone or None, email=self.email or None,
                         address=self.address)
        root["subscribers"].add_subscriber(sub)
        sub.new_contract(status="draft", user=user)
        sub.office_password_hash = self.password_hash
        self.subscriber_id = sub.id
        return sub

    def decide(self, state, user, note=""):
        if self.state != "pending":
            raise ValueError(f"this application is already {self.state}")
        if state not in ("approved", "rejected"):
            raise ValueError(f"unknown decision {state!r}")
        self.state = state
        self.decided_by = user
        self.decided_us = now_us()
        self.note = note


class TariffRequest(Application):
    """A subscriber asks (in the office) for another tariff on a service."""

    kind = "tariff"

    def __init__(self, subscriber, service, tariff_name):
        self.name = subscriber.name
        self.phone = subscriber.phone or ""
        self.email = subscriber.email or ""
        self.address = subscriber.address
        self.password_hash = None
        self.client_addr = ""
        self.created_us = now_us()
        self.subscriber_id = subscriber.id
        self.login = service.login
        self.tariff_name = tariff_name

    @property
    def summary(self):
        return f"{self.name}: {self.login} -> {self.tariff_name}"

    def carry_out(self, root, user):
        service = root.catalog.logins.get(self.login)
        subscriber = root["subscribers"].get(str(self.subscriber_id))
        if service is None or subscriber is None or service.__parent__.__parent__ is not subscriber:
            raise ValueError("the service is no longer this subscriber's")
        tariff = root["tariffs"].get(self.tariff_name)
        if tariff is None or tariff.kind != service.kind:
            raise ValueError(f"no {service.kind} tariff {self.tariff_name!r}")
        book = current_registry().queryUtility(ITariffBook)
        if book is None:
            raise ValueError("this deployment has no tariffs feature")
        book.change(root, service, tariff, user)
        return subscriber

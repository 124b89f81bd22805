"""Subscribers (persons and organisations) and the folder that holds them."""
import random

from zope.interface import implementer

from .. import crypto
from ..catalog import normalize
from ..interfaces import ISubscriber, ISubscribers
from .contract import Contract, account_number
from .folder import Folder, IntFolder
from .indexing import Indexed

KINDS = ("person", "organisation")


@implementer(ISubscribers)
class Subscribers(IntFolder):
    title = "Subscribers"

    def __init__(self):
        super().__init__(counted=True)

    def new_id(self):
        """An id no other writer is likely to pick at the same moment.

        Each connection continues from its own random point past the
        highest id, so two processes adding subscribers do not fight over
        one key and one bucket.
        """
        candidate = getattr(self, "_v_next_id", None)
        if candidate is None:
            top = self.data.maxKey() if self.data else 0
            candidate = top + 1 + random.randrange(100) * 1000
        while candidate in self.data:
            candidate += 1
        self._v_next_id = candidate + 1
        return candidate

    def add_subscriber(self, subscriber, id=None):
        id = self.new_id() if id is None else id
        subscriber.id = id
        return self.add(id, subscriber)


@implementer(ISubscriber)
class Subscriber(Indexed, Folder):
    """A folder of contracts with the person's or organisation's details."""

    small_max = 8
    id = None
    kind = "person"
    name = ""
    phone = None
    email = None
    address = ""              # where services are delivered
    postal_address = ""
    legal_address = ""
    tax_id = ""               # INN
    tax_reason_code = ""      # KPP, for organisations
    bank_details = ""
    notes = ""
    _identity = None          # identity document, encrypted at rest
    office_password_hash = None   # argon2, for the self-service office
    notify_email = True       # notification settings the subscriber chooses
    notify_sms = True         # (the notifier reads them: portmonet.notify.prefs)
    notify_marketing = True   # mass mailings marked marketing
    notify_language = ""      # '' = the operator's (notify.language)
    quiet_hours = ""          # '' = the operator's window, 'off', or 'HH:MM-HH:MM'

    def __init__(self, name, kind="person", phone=None, email=None, **details):
        super().__init__()
        self.kind = self._normalize_kind(kind)
        self.name = self._normalize_name(name)
        self.phone = self._normalize_phone(phone)
        self.email = self._normalize_email(email)
        for key, value in details.items():
            if key.startswith("_") or not hasattr(type(self), key):
                raise AttributeError(f"Subscriber has no field {key!r}")
            setattr(self, key, value)

    @property
    def title(self):
        return self.name

    @staticmethod
    def _normalize_kind(value):
        if value not in KINDS:
            raise ValueError(f"subscriber kind must be one of {', '.join(KINDS)}")
        return value

    @staticmethod
    def _normalize_name(value):
        value = " ".join((value or "").split())
        if not value or len(value) > 200:
            raise ValueError("a name is 1 to 200 characters")
        return value

    @staticmethod
    def _normalize_phone(value):
        return normalize.phone(value) if value else None

    @staticmethod
    def _normalize_email(value):
        return normalize.email(value) if value else None

    def _index_entries(self):
        entries = {("words", w, self.id) for w in normalize.words(self.name)}
        if self.phone:
            entries.add(("phones", self.phone, self.id))
        if self.email:
            entries.add(("emails", self.email, self.id))
        if self.tax_id:
            entries.add(("tax_ids", self.tax_id, self.id))
        return entries

    def _children(self):
        return self.values()

    # -- identity document (personal data, encrypted) --------------------
    @property
    def identity_document(self):
        return crypto.decrypt(self._identity) if self._identity else ""

    @identity_document.setter
    def identity_document(self, text):
        self._identity = crypto.encrypt(text) if text else None

    # -- contracts --------------------------------------------------------
    def contracts(self):
        return list(self.values())

    def new_contract(self, number=None, **kwargs):
        seq = len(self) + 1
        number = number or f"{self.id}-{seq}"
        kwargs.setdefault("account_no", account_number(self.id, seq))
        return self.add(number, Contract(number, **kwargs))

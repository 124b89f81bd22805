"""Payment agents (terminal networks, OSMP) and providers (card gateways,
e-money, SMS aggregators: the signed JSON callback API).

An agent is an object under ``/payments/<name>``; its protocol is served at
its own place in the tree.  It has an IP allow-list, credentials (argon2)
and its own settlement account, on which every payment it brings in is
booked as a transfer: what the agent collected and owes the operator.
"""
import functools
import hashlib
import hmac
import ipaddress
import random
import re
import threading

from persistent import Persistent
from zope.interface import implementer

from .. import crypto
from ..ledger.account import Account
from .interfaces import IOsmpAgent, IProvider
from .trees import AppendOOBTree

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_random = random.SystemRandom()
PROTOCOLS = ("osmp", "callback")

# argon2 costs tens of milliseconds: a terminal sends credentials with every
# request, so a verified (hash, password digest) pair is remembered in this
# process (never stored, never logged).
_verified = {}
_verified_lock = threading.Lock()


class AgentError(ValueError):
    pass


def _networks(allow):
    nets = []
    for item in allow or ():
        try:
            nets.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise AgentError(f"{item!r} is not an IP address or network") from None
    return tuple(nets)


@functools.lru_cache(maxsize=256)
def _parsed(allow):
    """An allow-list's networks, parsed once per process (it is checked on
    every request)."""
    return tuple(ipaddress.ip_network(net) for net in allow)


def credentials_ok(credentials, login, password):
    """Whether *login*/*password* match ``(login, password_hash)`` of an
    agent (see :meth:`Agent.credentials`); argon2 runs once per hash and
    process, then a digest is compared."""
    want_login, password_hash = credentials
    if want_login is None and password_hash is None:
        return True
    if login != want_login or not password or password_hash is None:
        return False
    digest = hashlib.sha256(password.encode("utf-8")).digest()
    known = _verified.get(password_hash)
    if known is not None:
        return hmac.compare_digest(known, digest)
    # One argon2 run at a time: the threads of a busy process would all
    # run it at once at start-up otherwise.
    with _verified_lock:
        known = _verified.get(password_hash)
        if known is not None:
            return hmac.compare_digest(known, digest)
        if not crypto.verify_password(password_hash, password):
            return False
        _verified[password_hash] = digest
    return True


class Agent(Persistent):
    __name__ = None
    __parent__ = None
    protocol = None
    title = ""
    active = True
    login = None
    password_hash = None
    min_sum = 100                 # minor units
    max_sum = 15_000_000
    currency = "RUB"
    account = None

    def __init__(self, name, allow=(), login=None, password=None, title=""):
        if not _NAME.match(name or ""):
            raise AgentError(f"agent name {name!r}: lower-case letters, digits, '-', '_'")
        self.name = name
        self.title = title or name
        self.allow = _networks(allow)
        self.login = login or None
        if password:
            self.password_hash = crypto.hash_password(password)
        self.txns = AppendOOBTree()    # external id -> first final answer

    def open_account(self, catalog):
        """The agent's settlement account, indexed like every account so the
        books check covers it (payments refuse it: it has no contract)."""
        while True:
            number = "9" + "".join(str(_random.randrange(10)) for _ in range(11))
            if number not in catalog.accounts:
                break
        account = Account(number, self.currency)
        account.__parent__ = self
        catalog.accounts.add(number, account)
        self.account = account
        return account

    def allows(self, address):
        if not self.allow:
            return False
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in net for net in _parsed(tuple(self.allow)))

    def check_credentials(self, login, password):
        return credentials_ok(self.credentials(), login, password)

    def credentials(self):
        """What a caller's credentials are checked against (no secret:
        the argon2 hash), for :func:`credentials_ok` outside a transaction."""
        return (self.login, self.password_hash)

    def set_password(self, password):
        self.password_hash = crypto.hash_password(password)


@implementer(IOsmpAgent)
class OsmpAgent(Agent):
    protocol = "osmp"


@implementer(IProvider)
class Provider(Agent):
    """Signs with HMAC-SHA256; the shared secret is kept encrypted (it has
    to be read back to check a signature)."""

    protocol = "callback"
    max_skew_s = 300
    _secret = None
    pay_url = ""                  # where the office redirects a card payment

    def __init__(self, name, secret, allow=(), title="", pay_url=""):
        super().__init__(name, allow=allow, title=title)
        self.set_secret(secret)
        self.pay_url = pay_url

    def set_secret(self, secret):
        if not secret or len(secret) < 16:
            raise AgentError("a provider secret is at least 16 characters")
        self._secret = crypto.encrypt(secret)

    def secret(self):
        return crypto.decrypt(self._secret).encode("utf-8")

    def allows(self, address):
        # A provider without an allow-list is reachable from anywhere: its
        # signature is what authenticates it.
        return True if not self.allow else super().allows(address)


KINDS = {"osmp": OsmpAgent, "callback": Provider}

"""What a contract subscribes to: Internet access, telephone lines, TV, one-time services."""
import datetime
import hmac
import time

from BTrees.IOBTree import IOBTree
from BTrees.LOBTree import LOBTree
from persistent import Persistent
from zope.interface import implementer

from .. import clock
from .. import crypto
from ..catalog import normalize
from ..interfaces import (IInternetService, IOneTimeService, IService,
                          ITelephoneLine, ITvPackage)
from .indexing import Indexed


@implementer(IService)
class Service(Indexed, Persistent):
    """Common to every service: its tariff and when it runs."""

    kind = "service"
    title = "Service"
    __name__ = None
    __parent__ = None
    tariff = None          # a Tariff object (see portmonet.tariffs)
    started = None         # datetime.date
    ended = None           # datetime.date or None
    suspended = False
    # Suspension history, made on the first change (most services carry
    # none): date ordinal -> suspended from that day on.  The billing run
    # charges the tariff's suspended fee for exactly those days.
    _suspensions = None
    # Who changed it and why, made on the first change that gives a reason:
    # time (us) -> (day ordinal, suspended, reason, user).
    suspension_log = None

    def __init__(self, tariff=None, started=None):
        self.tariff = tariff
        self.started = started or clock.today()

    def set_suspended(self, suspended, day=None, today=None, reason="", user="", when_us=None):
        """Suspend (or resume) the service from *day* (today by default);
        ``suspended`` follows the history as of *today*.  A *reason* (and
        *user*) is kept in ``suspension_log``."""
        today = today or clock.today()
        day = day or today
        if self._suspensions is None:
            self._suspensions = IOBTree()
            self._suspensions[1] = self.suspended       # as it was until now
        self._suspensions[day.toordinal()] = bool(suspended)
        self.suspended = self.suspended_on(today)
        if reason or user:
            if self.suspension_log is None:
                self.suspension_log = LOBTree()
            when_us = when_us or int(time.time() * 1_000_000)
            while when_us in self.suspension_log:
                when_us += 1
            self.suspension_log[when_us] = (day.toordinal(), bool(suspended), reason, user)

    def suspension_changes(self):
        """[(day, suspended)] of the recorded history, oldest first."""
        history = self._suspensions
        if not history:
            return []
        return [(datetime.date.fromordinal(k), v) for k, v in history.items() if k > 1]

    def suspended_on(self, day):
        history = self._suspensions
        if not history:
            return self.suspended
        return history[history.maxKey(day.toordinal())]

    @property
    def contract(self):
        return self.__parent__

    @property
    def active(self):
        return self.ended is None and not self.suspended


@implementer(IInternetService)
class InternetService(Service):
    """Internet access held on a contract.

    The password is kept encrypted, not hashed: RADIUS CHAP and MS-CHAP need
    it back in clear to check a challenge.
    """

    kind = "internet"
    title = "Internet access"
    login = None
    _password = None
    ip = None              # int key of a static IPv4 address, or None
    networks = ()          # static IPv4 networks ('a.b.c.d/n', sorted), e.g. a business /29
    mac = None             # Calling-Station-Id binding, or None
    port = None            # NAS-Port-Id / option 82 binding, or None
    max_sessions = 1

    def __init__(self, login, password=None, ip=None, tariff=None, started=None):
        super().__init__(tariff, started)
        self.login = self._normalize_login(login)
        self.ip = self._normalize_ip(ip)
        if password is not None:
            self.set_password(password)

    _normalize_login = staticmethod(normalize.login)

    @staticmethod
    def _normalize_ip(value):
        if value is None or value == "":
            return None
        return value if isinstance(value, int) else normalize.ipv4(value)

    @staticmethod
    def _normalize_networks(value):
        return normalize.ipv4_networks(value)

    @property
    def ip_text(self):
        return normalize.ipv4_text(self.ip) if self.ip is not None else ""

    def set_password(self, password):
        if not password or len(password) > 128:
            raise ValueError("an Internet password is 1 to 128 characters")
        self._password = crypto.encrypt(password)

    def password(self):
        """The clear password, for CHAP; never log it."""
        return crypto.decrypt(self._password) if self._password else None

    def check_password(self, candidate):
        """In constant time (the office accepts the Internet password)."""
        if self._password is None or not isinstance(candidate, str):
            return False
        return hmac.compare_digest(self.password().encode("utf-8"),
                                   candidate.encode("utf-8", "surrogatepass"))

    def _index_entries(self):
        entries = {("logins", self.login, self)}
        if self.ip is not None:
            entries.add(("ips", self.ip, self))
        for network in self.networks:
            entries.add(("networks", network, self))
        return entries


@implementer(ITelephoneLine)
class TelephoneLine(Service):
    kind = "phone"
    title = "Telephone line"
    number = None
    voip = False

    def __init__(self, number, tariff=None, started=None, voip=False):
        super().__init__(tariff, started)
        self.number = self._normalize_number(number)
        self.voip = bool(voip)

    _normalize_number = staticmethod(normalize.phone)

    def _index_entries(self):
        return {("lines", self.number, self)}


@implementer(ITvPackage)
class TvPackage(Service):
    kind = "tv"
    title = "Television"
    MEDIA = ("cable", "digital", "iptv")
    medium = "cable"
    package = ""

    def __init__(self, package, medium="cable", tariff=None, started=None):
        super().__init__(tariff, started)
        if medium not in self.MEDIA:
            raise ValueError(f"TV medium must be one of {', '.join(self.MEDIA)}")
        self.package = package
        self.medium = medium


@implementer(IOneTimeService)
class OneTimeService(Service):
    kind = "once"
    title = "One-time service"
    description = ""
    price = 0              # minor units

    def __init__(self, description, price, tariff=None, started=None):
        super().__init__(tariff, started)
        if not isinstance(price, int) or price < 0:
            raise ValueError("price is a non-negative int of minor units")
        self.description = description
        self.price = price


SERVICE_KINDS = {cls.kind: cls for cls in (InternetService, TelephoneLine, TvPackage, OneTimeService)}

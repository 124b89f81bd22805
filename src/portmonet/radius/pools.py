"""IP pools Portmonet manages: an address for a login without a static one.

A pool is an IPv4 prefix or range, for a NAS and/or a tariff (or for every
NAS and tariff).  At Access-Accept the server leases a free address of the
most specific pool that fits (NAS and tariff, then NAS, then tariff, then
neither), commits the lease, and only then answers.  The lease is bound to
the session by its Acct-Start (Framed-IP-Address) and released when the
session closes (Stop, stale, Accounting-On/Off); a lease no session took
within ``UNBOUND_TTL_US`` (the NAS refused the user, the link failed) is
released by the housekeeping.  A retransmitted Access-Request gets the
cached answer (same address); a new request of the same login takes a new
address and the unused one expires.

Leases live in the pool's ``leases`` (address as int -> (login, nas,
session id or "", since_us)).  Two processes leasing the same address write
the same key of the same bucket: ZODB's conflict resolution refuses that,
one transaction retries and takes another address, so no two sessions ever
hold one address.  The search starts at a random point of the range so
concurrent writers seldom meet in a bucket at all.
"""
import ipaddress
import random

from BTrees.LOBTree import LOBTree
from persistent import Persistent
from zope.interface import implementer

from ..ledger.account import now_us
from ..model.folder import Folder
from .interfaces import IIpPool

UNBOUND_TTL_US = 120 * 1_000_000
_random = random.Random()


class PoolError(ValueError):
    pass


def parse_range(text):
    """'10.1.0.0/24' (its hosts) or '10.1.0.10-10.1.0.50' -> (first, last) ints."""
    text = (text or "").strip()
    try:
        if "-" in text:
            a, b = (ipaddress.IPv4Address(x.strip()) for x in text.split("-", 1))
            first, last = int(a), int(b)
        else:
            net = ipaddress.ip_network(text, strict=False)
            if net.version != 4:
                raise PoolError("only IPv4 pools (Framed-IP-Address)")
            if net.prefixlen >= 31:
                first, last = int(net.network_address), int(net.broadcast_address)
            else:
                first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
    except PoolError:
        raise
    except ValueError:
        raise PoolError(f"{text!r} is not an IPv4 prefix or range a.b.c.d-e.f.g.h") from None
    if first > last:
        raise PoolError(f"{text!r}: the range is empty")
    return first, last


def text_address(key):
    return str(ipaddress.IPv4Address(key))


@implementer(IIpPool)
class IpPool(Persistent):
    __name__ = None
    __parent__ = None
    nas = ""                 # NAS name, or "" for any
    tariff = ""              # tariff name, or "" for any

    def __init__(self, name, prefix, nas="", tariff=""):
        self.prefix = prefix.strip()
        self.first, self.last = parse_range(prefix)
        self.nas = nas or ""
        self.tariff = tariff or ""
        self.leases = LOBTree()

    @property
    def size(self):
        return self.last - self.first + 1

    @property
    def used(self):
        return len(self.leases)

    def specificity(self):
        return (2 if self.nas else 0) + (1 if self.tariff else 0)

    def fits(self, nas, tariff):
        return self.nas in ("", nas) and self.tariff in ("", tariff)

    def lease(self, login, nas, when_us, taken=None):
        """Lease a free address to *login*: the address (int), or None when
        the pool is full.  *taken(address)* says whether an address is used
        elsewhere (a static one)."""
        if len(self.leases) >= self.size:
            return None
        start = _random.randint(self.first, self.last)
        for lo, hi in ((start, self.last), (self.first, start - 1)):
            address = self._free_in(lo, hi, taken)
            if address is not None:
                self.leases[address] = (login, nas, "", when_us)
                return address
        return None

    def _free_in(self, lo, hi, taken):
        if lo > hi:
            return None
        address = lo
        for used in self.leases.keys(lo, hi):
            while address < used:
                if taken is None or not taken(address):
                    return address
                address += 1
            address = used + 1
        while address <= hi:
            if taken is None or not taken(address):
                return address
            address += 1
        return None

    def bind(self, address, login, nas, session_id):
        """The session that uses *address* (from its Acct-Start); True if
        the lease is (now) this session's."""
        held = self.leases.get(address)
        if held is None:
            return False
        who, where, sid, since = held
        if who != login:
            return False
        if sid != session_id or where != nas:
            self.leases[address] = (login, nas, session_id, since)
        return True

    def release(self, address, login, session_id=None):
        held = self.leases.get(address)
        if held is None or held[0] != login:
            return False
        if session_id is not None and held[2] and held[2] != session_id:
            return False
        del self.leases[address]
        return True

    def expire_unbound(self, older_than_us, limit=1000):
        """Release leases no session took since *older_than_us*."""
        gone = [a for a, (_, _, sid, since) in self.leases.items()
                if not sid and since < older_than_us][:limit]
        for address in gone:
            del self.leases[address]
        return len(gone)


class IpPools(Folder):
    """``root.radius.pools``."""
    title = "IP pools"


def pools(root):
    return getattr(root.radius, "pools", None)


def add_pool(root, name, prefix, nas="", tariff=""):
    folder = pools(root)
    if name in folder:
        raise PoolError(f"pool {name!r} exists")
    if nas and nas not in root["equipment"]:
        raise PoolError(f"no NAS named {nas!r}")
    if tariff and tariff not in root["tariffs"]:
        raise PoolError(f"no tariff named {tariff!r}")
    pool = IpPool(name, prefix, nas, tariff)
    for other in folder.values():
        if pool.first <= other.last and other.first <= pool.last:
            raise PoolError(f"{prefix} overlaps pool {other.__name__} ({other.prefix})")
    return folder.add(name, pool)


def choose(root, nas, tariff):
    """The pools that fit a NAS and tariff name, most specific first."""
    folder = pools(root)
    if folder is None:
        return []
    fitting = [p for p in folder.values() if p.fits(nas, tariff)]
    fitting.sort(key=lambda p: (-p.specificity(), p.__name__))
    return fitting


def lease_for(root, login, nas, tariff, when_us=None):
    """(address text, pool name) leased to *login*, or (None, reason) when
    every fitting pool is full, or (None, None) when no pool fits."""
    fitting = choose(root, nas, tariff)
    if not fitting:
        return None, None
    when_us = now_us() if when_us is None else when_us
    ips = root.catalog.ips

    def taken(address):
        return ips.get(address) is not None
    for pool in fitting:
        address = pool.lease(login, nas, when_us, taken)
        if address is not None:
            return text_address(address), pool.__name__
    return None, "IP pool " + ", ".join(p.__name__ for p in fitting) + " exhausted"


def pool_of(root, address_text):
    """The pool an address belongs to, or None."""
    folder = pools(root)
    if folder is None or not address_text:
        return None, None
    try:
        address = int(ipaddress.IPv4Address(address_text))
    except ValueError:
        return None, None
    for pool in folder.values():
        if pool.first <= address <= pool.last:
            return pool, address
    return None, None


def bind_session(root, session):
    pool, address = pool_of(root, session.framed_ip)
    if pool is not None:
        pool.bind(address, session.login, session.nas, session.session_id)


def release_session(root, session):
    pool, address = pool_of(root, session.framed_ip)
    if pool is not None:
        pool.release(address, session.login, session.session_id)

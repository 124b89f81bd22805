"""Whose is an address at a moment: the inside end of a flow -> a login.

In this order: a static address held by an Internet service (the
catalog's ``ips``), the RADIUS session that held the address at that
moment (``root.radius.session_at``: the Framed-IP-Address of the latest
session that started by then and had not stopped), a static network held
by a service (a business customer's /29, the catalog's ``networks``,
longest prefix).  Else nobody: the flow is counted as the exporter's
``unknown``.

Answers are cached per address with the span of time they hold for (a
session's start to its stop, or to ``horizon_us`` past the lookup while it
is open); :meth:`AddressBook.reset` empties the cache, which the collector
does at each window so that new sessions and addresses are seen.
"""
import pytricia

from ..ops.bulk import prefetch
from ..rating.warm import BucketFinder

FAR = 1 << 62
CHUNK = 5000


def warm(root, progress=None):
    """Load what attribution reads into the connection's cache, in
    pipelined rounds (``Connection.prefetch``): the buckets of the static
    addresses and their services, the buckets of the sessions-by-address
    index and the sessions that are online.  Without it a new collector
    looks each new address up with ZEO round trips and, with 100,000
    active addresses, reads its socket far slower than exporters send.
    Returns the number of objects asked for."""
    conn = root._p_jar
    if conn is None:
        return 0
    asked = 0

    def load(objects):
        nonlocal asked
        for start in range(0, len(objects), CHUNK):
            chunk = objects[start:start + CHUNK]
            prefetch(conn, chunk)
            for obj in chunk:                # into the connection's cache now,
                obj._p_activate()            # before the client cache drops it
            asked += len(chunk)
            if progress is not None:
                progress(asked)
    # a small tree keeps its one bucket inline: then the tree is the bucket
    ips = root.catalog.ips.tree
    buckets = BucketFinder(ips).first(1 << 40) or [ips]
    load(buckets)
    load([service for bucket in buckets for service in bucket.values()])
    if root.radius is not None and root.radius.by_ip is not None:
        load(BucketFinder(root.radius.by_ip).first(1 << 40) or [root.radius.by_ip])
    for nas in root["equipment"].values():
        online = getattr(nas, "online", None)
        if online is not None:
            load(list(online.values()))
    return asked


class AddressBook:

    CACHE_MAX = 1_000_000

    def __init__(self, horizon_us=60_000_000):
        self.horizon_us = horizon_us
        self.cache = {}              # address -> (login or None, from_us, until_us)
        self.networks = pytricia.PyTricia(32)
        self.root = None
        self.lookups = 0

    def reset(self, root):
        """Use *root* (a fresh transaction's) from now on; forget answers."""
        self.root = root
        self.cache = {}
        networks = getattr(root.catalog, "networks", None)
        table = pytricia.PyTricia(32)
        if networks is not None:
            for prefix, service in networks.tree.items():
                table[prefix] = service.login
        self.networks = table

    def login_at(self, address, when_us):
        """The login that held IPv4 *address* (an int) at *when_us*, or None."""
        held = self.cache.get(address)
        if held is not None and held[1] <= when_us < held[2]:
            return held[0]
        held = self._lookup(address, when_us)
        if len(self.cache) >= self.CACHE_MAX:
            self.cache = {}
        self.cache[address] = held
        return held[0]

    def _lookup(self, address, when_us):
        self.lookups += 1
        root = self.root
        service = root.catalog.ips.get(address)
        if service is not None:
            return service.login, 0, FAR
        session = root.radius.session_at(address, when_us) if root.radius is not None else None
        if session is not None:
            until = session.stop_us + 1 if session.stop_us else when_us + self.horizon_us
            return session.login, session.start_us, until
        login = self.networks.get(address)
        if login is not None:
            return login, 0, FAR
        # Nobody: the same until the next session that takes the address.
        return None, when_us, when_us + self.horizon_us

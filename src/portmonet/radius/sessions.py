"""Access sessions and where they are kept.

A session lives in its NAS's ``sessions`` (keyed by Acct-Session-Id, unique
per NAS: a retransmitted Start finds the first one) and, while open, in its
``online``.  ``root.radius`` keeps the cross-NAS index by login (online and
closed sessions in one tree, see :class:`RadiusState`), and ``rejects`` by
(login, time) with the reason an employee sees on the subscriber's card.
"""
import ipaddress

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..ledger.account import now_us
from .interfaces import IRadiusState, ISession

GIGA = 1 << 32


def octets(low, gigawords):
    """Total octets from a 32-bit counter and its Gigawords (RFC 2869)."""
    return (gigawords or 0) * GIGA + (low or 0)


@implementer(ISession)
class Session(Persistent):
    __parent__ = None        # the Nas (sessions live in its ``sessions``)
    stop_us = 0
    terminate_cause = ""
    framed_ip = ""
    mac = ""
    port_id = ""
    octets_in = 0            # from the subscriber (Acct-Input), with Gigawords
    octets_out = 0
    seconds = 0              # Acct-Session-Time as last reported
    updates = 0              # interim updates that advanced the counters
    # What has been turned into usage records so far.
    billed_in = 0
    billed_out = 0
    billed_seconds = 0
    records = 0
    implausible = 0          # updates refused as implausible (radius.plausible)

    def __init__(self, nas, session_id, login, start_us):
        self.nas = nas
        self.session_id = session_id
        self.login = login
        self.start_us = start_us
        self.last_us = start_us

    # Not stored twice: a session's state is kept small, a Start writes it whole.
    @property
    def __name__(self):
        return self.session_id

    @property
    def online(self):
        return not self.stop_us



ONLINE, CLOSED = 0, 1
FAR = 1 << 62


@implementer(IRadiusState)
class RadiusState(Persistent):
    """``root.radius``.

    One index serves both "online now" and "history" by login:
    ``by_login[(login, ONLINE|CLOSED, start_us, nas, session id)]`` ->
    Session.  A Start writes one bucket of it (not one of an online index and
    one of a history index); a Stop moves the key from ONLINE to CLOSED,
    which lands in the same bucket or its neighbour.  Counting a login's open
    sessions reads keys only, no session objects.
    """

    __name__ = "radius"
    __parent__ = None
    by_login = None          # made by __init__, or the evolve step for older databases
    pools = None             # IpPools, made by the evolve step
    daily = None             # (login, day) -> traffic totals of purged sessions (retention)
    by_ip = None             # (address int, start_us, nas, session id) -> Session (evolve radius-05)
    online = history = None  # the two indexes of before 2026-11-25-radius-02

    def __init__(self):
        self.by_login = OOBTree()
        self.by_ip = OOBTree()
        self.rejects = OOBTree()    # (login, time_us) -> (reason, nas, detail)

    # -- online ---------------------------------------------------------
    def online_for(self, login):
        return list(self.by_login.values((login, ONLINE), (login, ONLINE, FAR)))

    def online_count(self, login, limit=None):
        n = 0
        for _ in self.by_login.keys((login, ONLINE), (login, ONLINE, FAR)):
            n += 1
            if limit is not None and n >= limit:
                break
        return n

    def online_keys(self):
        """Every open session's key (a full pass: for the books check)."""
        return [k for k in self.by_login.keys() if k[1] == ONLINE]

    def sessions_of(self, login, since_us=0, until_us=FAR):
        """The login's sessions that started in [since, until), newest first."""
        items = list(self.by_login.items((login, ONLINE, since_us), (login, ONLINE, until_us),
                                         excludemax=True))
        items += self.by_login.items((login, CLOSED, since_us), (login, CLOSED, until_us),
                                     excludemax=True)
        items.sort(key=lambda kv: kv[0][2], reverse=True)
        return [v for k, v in items]

    def closed_before(self, login, before_us):
        """(key, session) of the login's closed sessions that started before."""
        return list(self.by_login.items((login, CLOSED), (login, CLOSED, before_us),
                                        excludemax=True))

    def opened(self, session):
        self.by_login[_key(session, ONLINE)] = session
        self.addressed(session)

    # -- who held an address when (flow attribution, abuse requests) -----
    def addressed(self, session):
        """Index *session* by its Framed-IP-Address (at its Start, or when
        an Interim-Update first names the address)."""
        key = _ip_key(session)
        if key is not None and self.by_ip is not None:
            self.by_ip[key] = session

    def session_at(self, address, when_us):
        """The session that held IPv4 *address* (an int) at *when_us*: the
        latest one that started at or before that moment, unless it had
        stopped before it; else None.  An address another subscriber got
        later is that subscriber's from the moment their session started."""
        if self.by_ip is None:
            return None
        try:
            key = self.by_ip.maxKey((address, when_us + 1))
        except ValueError:
            return None
        if key[0] != address:
            return None
        session = self.by_ip[key]
        if session.stop_us and session.stop_us < when_us:
            return None
        return session

    def closed(self, session):
        self.by_login.pop(_key(session, ONLINE), None)
        self.by_login[_key(session, CLOSED)] = session

    def forget(self, session):
        """Drop a session from the index (retention purge, NAS removal)."""
        self.by_login.pop(_key(session, ONLINE), None)
        self.by_login.pop(_key(session, CLOSED), None)
        key = _ip_key(session)
        if key is not None and self.by_ip is not None:
            self.by_ip.pop(key, None)

    # -- rejects --------------------------------------------------------
    def record_reject(self, login, reason, nas, detail="", when_us=None):
        when_us = now_us() if when_us is None else when_us
        while (login, when_us) in self.rejects:
            when_us += 1
        self.rejects[(login, when_us)] = (reason, nas, detail)

    def rejects_of(self, login, limit=50):
        """[(time_us, reason, nas, detail)], newest first: walked down from
        the newest key, so a login a NAS retries every second costs *limit*
        steps, not all its rejects."""
        out = []
        below = (login, 1 << 62)
        while len(out) < limit:
            try:
                key = self.rejects.maxKey(below)
            except ValueError:
                break
            if key[0] != login:
                break
            out.append((key[1], *self.rejects[key]))
            below = (login, key[1] - 1)
        return out


def _key(session, state):
    return (session.login, state, session.start_us, session.nas, session.session_id)


def _ip_key(session):
    if not session.framed_ip:
        return None
    try:
        address = int(ipaddress.IPv4Address(session.framed_ip))
    except ValueError:
        return None
    return (address, session.start_us, session.nas, session.session_id)


def radius_state(root):
    return root.radius

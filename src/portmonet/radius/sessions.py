"""Access sessions and where they are kept.

A session lives in its NAS's ``sessions`` (keyed by Acct-Session-Id, unique
per NAS: a retransmitted Start finds the first one).  ``root.radius`` keeps
the cross-NAS indexes: ``online`` by (login, nas, session id) for the
simultaneous-session check and the "online now" views, ``history`` by
(login, start, nas, session id), and ``rejects`` by (login, time) with the
reason an employee sees on the subscriber's card.
"""
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..ledger.account import now_us
from .interfaces import IRadiusState, ISession

GIGA = 1 << 32
HIGH = "\U0010ffff"


def octets(low, gigawords):
    """Total octets from a 32-bit counter and its Gigawords (RFC 2869)."""
    return (gigawords or 0) * GIGA + (low or 0)


@implementer(ISession)
class Session(Persistent):
    __name__ = None          # Acct-Session-Id
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

    def __init__(self, nas, session_id, login, start_us):
        self.nas = nas
        self.session_id = session_id
        self.__name__ = session_id
        self.login = login
        self.start_us = start_us
        self.last_us = start_us

    @property
    def online(self):
        return not self.stop_us

    def key(self):
        return (self.login, self.nas, self.session_id)

    def history_key(self):
        return (self.login, self.start_us, self.nas, self.session_id)


@implementer(IRadiusState)
class RadiusState(Persistent):
    """``root.radius``."""

    __name__ = "radius"
    __parent__ = None

    def __init__(self):
        self.online = OOBTree()     # (login, nas, session id) -> Session
        self.history = OOBTree()    # (login, start_us, nas, session id) -> Session
        self.rejects = OOBTree()    # (login, time_us) -> (reason, nas, detail)

    # -- online ---------------------------------------------------------
    def online_for(self, login):
        return list(self.online.values((login,), (login, HIGH)))

    def online_count(self, login, limit=None):
        n = 0
        for _ in self.online.keys((login,), (login, HIGH)):
            n += 1
            if limit is not None and n >= limit:
                break
        return n

    def sessions_of(self, login, since_us=0):
        """The login's sessions, newest first."""
        items = self.history.values((login, since_us), (login, 1 << 62))
        return sorted(items, key=lambda s: s.start_us, reverse=True)

    def opened(self, session):
        self.online[session.key()] = session
        self.history[session.history_key()] = session

    def closed(self, session):
        self.online.pop(session.key(), None)

    # -- rejects --------------------------------------------------------
    def record_reject(self, login, reason, nas, detail="", when_us=None):
        when_us = now_us() if when_us is None else when_us
        while (login, when_us) in self.rejects:
            when_us += 1
        self.rejects[(login, when_us)] = (reason, nas, detail)

    def rejects_of(self, login, limit=50):
        """[(time_us, reason, nas, detail)], newest first."""
        out = []
        for (who, us), (reason, nas, detail) in reversed(
                list(self.rejects.items((login, 0), (login, 1 << 62)))):
            out.append((us, reason, nas, detail))
            if len(out) >= limit:
                break
        return out


def radius_state(root):
    return root.radius

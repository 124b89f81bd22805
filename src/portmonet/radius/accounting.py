"""Accounting-Requests applied to sessions, and traffic turned into usage.

Every function here is idempotent for a repeated packet: a Start for a
known Acct-Session-Id, an Interim-Update whose counters did not advance, a
Stop for a closed session change nothing, so a retransmission (or a batch
retried after a ConflictError) is harmless.
"""
import logging

from ..ledger.account import now_us
from ..usage import UsageRecord
from ..web.figures import record as record_figure
from . import plausible
from .logbook import LIMITED
from .pools import bind_session, release_session
from .sessions import Session, octets

log = logging.getLogger(__name__)

START, STOP, INTERIM, ON, OFF = 1, 2, 3, 7, 8
STATUS_NAMES = {START: "Start", STOP: "Stop", INTERIM: "Interim-Update",
                ON: "Accounting-On", OFF: "Accounting-Off"}


# A NAS may hold an accounting packet for a while (RFC 2866 Acct-Delay-Time),
# not for weeks.
MAX_DELAY_S = 7 * 86400


class AcctError(ValueError):
    """A request that cannot be accounted (it is dropped, unanswered)."""


def _first(packet, code, default=None):
    values = packet.get(code)
    return values[0] if values else default


def _int(raw):
    """An integer attribute (the codec has checked its four octets)."""
    return int.from_bytes(raw, "big") if raw is not None else 0


def _text(raw):
    return raw.decode("utf-8", "replace") if raw is not None else ""


def parse(packet, received_us=None):
    """The plain values of an Accounting-Request (raw attributes, no dict lookups)."""
    status = _int(_first(packet, 40))
    if status not in STATUS_NAMES:
        raise AcctError(f"unsupported Acct-Status-Type {status}")
    received_us = now_us() if received_us is None else received_us
    delay = _int(_first(packet, 41))
    if delay > MAX_DELAY_S:
        raise AcctError(f"Acct-Delay-Time {delay} s is implausible")
    if _int(_first(packet, 46)) > plausible.MAX_SESSION_S:
        raise AcctError("Acct-Session-Time is implausible")
    ip = _first(packet, 8)
    record = {
        "status": status,
        "when_us": received_us - delay * 1_000_000,
        "session_id": _text(_first(packet, 44)),
        "login": _text(_first(packet, 1)),
        "octets_in": octets(_int(_first(packet, 42)), _int(_first(packet, 52))),
        "octets_out": octets(_int(_first(packet, 43)), _int(_first(packet, 53))),
        "seconds": _int(_first(packet, 46)),
        "framed_ip": ".".join(str(b) for b in ip) if ip and len(ip) == 4 else "",
        "mac": _text(_first(packet, 31)),
        "port_id": _text(_first(packet, 87)),
        "cause": _int(_first(packet, 49)),
    }
    if status in (START, STOP, INTERIM):
        if not record["session_id"]:
            raise AcctError("no Acct-Session-Id")
        if not record["login"]:
            raise AcctError("no User-Name")
    return record


def _open(root, nas, rec):
    start_us = rec["when_us"] - rec["seconds"] * 1_000_000
    session = Session(nas.name, rec["session_id"], rec["login"], start_us)
    session.__parent__ = nas
    # Empty values stay class defaults: a Start pickles only what it knows.
    for field in ("framed_ip", "mac", "port_id"):
        if rec[field]:
            setattr(session, field, rec[field])
    nas.sessions[session.session_id] = session
    nas.online[session.session_id] = session
    root.radius.opened(session)
    if session.framed_ip:
        bind_session(root, session)
    return session


def _advance(root, nas, session, rec, warn):
    """Take new counters; emit the traffic since the last record. Returns
    True if anything changed.  Implausible counters (:mod:`.plausible`)
    are not taken: logged (bounded), counted on the session, never billed."""
    new = (rec["octets_in"], rec["octets_out"], rec["seconds"])
    old = (session.octets_in, session.octets_out, session.seconds)
    if new == old:
        return False
    why = plausible.why_not(session, rec, plausible.link_bytes_per_s(nas))
    if why is not None:
        session.implausible += 1
        warn("implausible-counters", nas.name, "radius: %s/%s (%s): %s; not taken",
             nas.name, session.session_id, session.login, why)
        return False
    session.octets_in, session.octets_out, session.seconds = new
    if rec["framed_ip"] and not session.framed_ip:
        session.framed_ip = rec["framed_ip"]
        root.radius.addressed(session)
        bind_session(root, session)
    previous_us = session.last_us
    session.last_us = max(session.last_us, rec["when_us"])
    session.updates += 1
    _emit_usage(root, nas, session, previous_us)
    return True


def _emit_usage(root, nas, session, since_us):
    quantities = {
        "octets_in": session.octets_in - session.billed_in,
        "octets_out": session.octets_out - session.billed_out,
        "seconds": session.seconds - session.billed_seconds,
    }
    if not any(quantities.values()):
        return
    session.records += 1
    # The time first: the records of one batch then land in one bucket of
    # the queue's ``seen`` index instead of one bucket each (a retried packet
    # makes no record at all, so the id need not be computable from it alone).
    record = UsageRecord(
        f"radius:{session.last_us:016d}:{nas.name}:{session.session_id}:{session.records}",
        "traffic",
        session.login, since_us, session.last_us, quantities,
        {"nas": nas.name, "session_id": session.session_id, "ip": session.framed_ip})
    if root.usage.enqueue(record):
        # The dashboard's traffic per day: two Length counters per commit,
        # which merge across processes instead of conflicting.
        record_figure(root, "traffic", quantities["octets_in"] + quantities["octets_out"])
    session.billed_in = session.octets_in
    session.billed_out = session.octets_out
    session.billed_seconds = session.seconds


def close(root, nas, session, when_us, cause):
    session.stop_us = max(when_us, session.start_us) or 1
    session.terminate_cause = cause
    nas.online.pop(session.session_id, None)
    root.radius.closed(session)
    if session.framed_ip:
        release_session(root, session)


def apply(root, nas, rec, warn=None):
    """Apply one parsed Accounting-Request of *nas* (the persistent Nas);
    *warn* is the bounded logger (:meth:`logbook.Limited.warn`)."""
    warn = warn or LIMITED.warn
    status = rec["status"]
    if status in (ON, OFF):
        cause = "NAS-Reboot" if status == ON else "Accounting-Off"
        for session in list(nas.online.values()):
            close(root, nas, session, rec["when_us"], cause)
        return
    session = nas.sessions.get(rec["session_id"])
    if session is not None and session.login != rec["login"] and session.online:
        raise AcctError(f"Acct-Session-Id {rec['session_id']} belongs to {session.login}")
    if status == START:
        if session is None:
            _open(root, nas, rec)
        elif not session.online and rec["when_us"] > session.stop_us:
            # A NAS that restarted reuses its session ids: keep the closed
            # session under an archive key and open the new one.
            nas.sessions[f"{session.session_id}@{session.start_us}"] = nas.sessions.pop(
                session.session_id)
            _open(root, nas, rec)
        return
    if session is None:                  # the Start was lost: open it now
        session = _open(root, nas, rec)  # counters start at 0: all traffic is new
    if not session.online:
        return                           # a repeated or late packet for a closed session
    _advance(root, nas, session, rec, warn)
    if status == STOP:
        close(root, nas, session, rec["when_us"], STOP_CAUSES.get(rec["cause"], str(rec["cause"] or "")))


def close_stale(root, nas, older_than_us, when_us, limit=1000):
    """Close this NAS's sessions with no update since *older_than_us*."""
    closed = 0
    for session in list(nas.online.values()):
        if session.last_us < older_than_us:
            close(root, nas, session, when_us, "Stale")
            closed += 1
            if closed >= limit:
                break
    return closed


STOP_CAUSES = {1: "User-Request", 2: "Lost-Carrier", 3: "Lost-Service", 4: "Idle-Timeout",
               5: "Session-Timeout", 6: "Admin-Reset", 7: "Admin-Reboot", 8: "Port-Error",
               9: "NAS-Error", 10: "NAS-Request", 11: "NAS-Reboot", 12: "Port-Unneeded",
               13: "Port-Preempted", 14: "Port-Suspended", 15: "Service-Unavailable",
               16: "Callback", 17: "User-Error", 18: "Host-Request"}

"""CoA and Disconnect (RFC 5176) through the outbox channel ``radius``.

Deciders (a billing run blocking a debtor, an employee kicking a session, a
tariff change) call :func:`request_disconnect` / :func:`request_coa` inside
their transaction; the RADIUS process carries the message out after that
transaction committed (:func:`collect`, :class:`CoaSender`) and records the
NAS's answer on the message (:func:`record`): ``sent`` with "ACK ..." or
``failed`` with the NAK's Error-Cause or the timeout, retried later.
"""
import asyncio
import logging
import socket

from pyrad import packet as rp

from ..ledger.account import now_us
from .nas import NasEntry
from .policy import service_attributes

log = logging.getLogger(__name__)

CHANNEL = "radius"
ACTIONS = ("disconnect", "coa")
# Reply attributes a CoA may change on a live session.
COA_ATTRIBUTES = {"Mikrotik-Rate-Limit", "Cisco-AVPair", "Filter-Id",
                  "Mikrotik-Address-List", "Session-Timeout"}
SESSION_GONE = 503       # Error-Cause Session-Context-Not-Found: nothing left to do


def request(root, action, login, reason, user, key=None, session_id=None, nas=None):
    """Queue a Disconnect or CoA for *login*'s online sessions (or one)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    key = key or f"radius:{action}:{login}:{session_id or '*'}:{now_us()}"
    payload = {"action": action, "login": login, "reason": reason, "user": user}
    if session_id:
        payload.update(session_id=session_id, nas=nas)
    return root.outbox.queue(CHANNEL, key, payload)


def request_disconnect(root, login, reason, user, **kw):
    return request(root, "disconnect", login, reason, user, **kw)


def request_coa(root, login, reason, user, **kw):
    return request(root, "coa", login, reason, user, **kw)


def retry(root, key):
    """Queue a failed or given-up message of this channel again, now (a
    staff decision: the sender takes it on its next poll)."""
    outbox = root.outbox
    message = outbox.keys.get(key)
    if message is None or message.channel != CHANNEL:
        raise KeyError(key)
    return message.requeue()


class Job:
    """One outbox message: the packets to send, one per online session."""

    def __init__(self, key, action):
        self.key = key
        self.action = action
        self.sends = []          # (NasEntry, port, CoAPacket)
        self.results = []        # text per send
        self.ok = True


def build_packet(action, entry, session, service, dictionary, interim_interval):
    code = rp.DisconnectRequest if action == "disconnect" else rp.CoARequest
    pkt = rp.CoAPacket(code=code, secret=entry.secret, dict=dictionary)
    pkt.AddAttribute("User-Name", session.login)
    pkt.AddAttribute("Acct-Session-Id", session.session_id)
    if session.framed_ip:
        pkt.AddAttribute("Framed-IP-Address", session.framed_ip)
    if action == "coa" and service is not None:
        account = service.__parent__.account
        available = max(account.available, 0) if account is not None else 0
        for name, value in service_attributes(service, entry.vendor, available, interim_interval):
            if name in COA_ATTRIBUTES:
                pkt.AddAttribute(name, value)
    pkt.add_message_authenticator()
    return pkt


def collect(root, dictionary, default_port, interim_interval, limit=50):
    """Jobs for the due messages (read only; the caller aborts after)."""
    jobs = []
    for message in root.outbox.due(CHANNEL, limit=limit):
        payload = message.payload
        job = Job(message.key, payload.get("action"))
        jobs.append(job)
        if job.action not in ACTIONS:
            job.ok, job.results = False, [f"unknown action {job.action!r}"]
            continue
        login = payload.get("login", "")
        sessions = root.radius.online_for(login)
        if payload.get("session_id"):
            sessions = [s for s in sessions if s.session_id == payload["session_id"]
                        and (not payload.get("nas") or s.nas == payload["nas"])]
        service = root.catalog.logins.get(login) if login else None
        for session in sessions:
            nas = root["equipment"].get(session.nas)
            if nas is None:
                job.results.append(f"{session.nas}: NAS no longer registered")
                continue
            entry = NasEntry(nas)
            port = entry.coa_port or default_port
            job.sends.append((entry, port, build_packet(job.action, entry, session, service,
                                                        dictionary, interim_interval)))
        if not sessions:
            job.results.append("no online session")
    return jobs


def record(root, jobs):
    """Write the answers on the messages (in the caller's transaction)."""
    for job in jobs:
        message = root.outbox.keys.get(job.key)
        if message is None:
            continue
        text = "; ".join(job.results)[:500]
        if job.ok:
            message.sent(text)
        else:
            message.failed(text)


class CoaSender(asyncio.DatagramProtocol):
    """Sends requests from one socket and matches answers by (address, id)."""

    def __init__(self, timeout=2.0, tries=3):
        self.timeout = timeout
        self.tries = tries
        self.transport = None
        self.waiting = {}
        self._next_id = 0

    @classmethod
    async def open(cls, bind, **kw):
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        _, sender = await loop.create_datagram_endpoint(lambda: cls(**kw), local_addr=(bind, 0),
                                                        family=family)
        return sender

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) < 20:
            return
        future = self.waiting.get((addr[0], addr[1], data[1]))
        if future is not None and not future.done():
            future.set_result(data)

    def close(self):
        if self.transport is not None:
            self.transport.close()

    def _free_id(self, address, port):
        for _ in range(256):
            self._next_id = (self._next_id + 1) % 256
            if (address, port, self._next_id) not in self.waiting:
                return self._next_id
        raise RuntimeError("256 requests in flight to one NAS")

    async def send(self, entry, port, pkt):
        """Send one request; returns a text: 'ACK', 'NAK <cause>' or 'timeout'."""
        pkt.id = self._free_id(entry.address, port)
        pkt.authenticator = None
        raw = pkt.RequestPacket()
        key = (entry.address, port, pkt.id)
        loop = asyncio.get_running_loop()
        future = self.waiting[key] = loop.create_future()
        try:
            for _ in range(self.tries):
                self.transport.sendto(raw, (entry.address, port))
                try:
                    data = await asyncio.wait_for(asyncio.shield(future), self.timeout)
                    break
                except asyncio.TimeoutError:
                    continue
            else:
                return False, f"{entry.name}: no answer"
        finally:
            self.waiting.pop(key, None)
        try:
            reply = pkt.CreateReply(packet=data)
        except Exception as exc:
            return False, f"{entry.name}: malformed answer ({exc})"
        if not pkt.VerifyReply(reply, data):
            return False, f"{entry.name}: answer fails authentication"
        causes = reply.get(101) or []
        cause = int.from_bytes(causes[0], "big") if causes else None
        if reply.code in (rp.DisconnectACK, rp.CoAACK):
            return True, f"{entry.name}: ACK"
        if reply.code in (rp.DisconnectNAK, rp.CoANAK):
            if cause == SESSION_GONE and pkt.code == rp.DisconnectRequest:
                return True, f"{entry.name}: NAK {cause} (session already gone)"
            return False, f"{entry.name}: NAK Error-Cause {cause}"
        return False, f"{entry.name}: unexpected answer code {reply.code}"

    async def run(self, job):
        results = await asyncio.gather(*(self.send(e, p, pkt) for e, p, pkt in job.sends))
        for ok, text in results:
            job.ok = job.ok and ok
            job.results.append(text)
        return job


__all__ = ["request", "request_disconnect", "request_coa", "collect", "record", "CoaSender"]

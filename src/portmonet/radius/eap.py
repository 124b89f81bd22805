"""EAP over RADIUS (RFC 3579) with the EAP-MD5 method (RFC 3748 5.4).

EAP-MD5 is a challenge/response over the clear password (as CHAP), for
wired 802.1X and simple supplicants; it derives no keys, so it is no method
for WPA-Enterprise (that needs PEAP/EAP-TTLS/EAP-TLS, which are not here).

1. Access-Request with EAP-Response/Identity -> Access-Challenge with
   EAP-Request/MD5-Challenge and a State (nothing is looked up yet: the
   answer does not tell whether the login exists);
2. Access-Request with EAP-Response/MD5 and that State -> the policy, with
   the MD5 response checked against the password; Access-Accept carries
   EAP-Success, Access-Reject EAP-Failure.

A Nak (the supplicant wants another method) or another type is rejected.
The conversation state lives in the process's memory for 30 s: with several
processes on one port (SO_REUSEPORT), a NAS that sends both rounds from one
source port reaches the same process, as NASes do.
"""
import hashlib
import hmac
import os
import struct
import time

EAP_MESSAGE, STATE = 79, 24
REQUEST, RESPONSE, SUCCESS, FAILURE = 1, 2, 3, 4
IDENTITY, NAK, MD5 = 1, 3, 4
TTL = 30.0


class EapError(ValueError):
    pass


def message(req):
    """The EAP packet of a request (EAP-Message attributes concatenated)."""
    parts = req.get(EAP_MESSAGE)
    if not parts:
        return None
    data = b"".join(parts)
    if len(data) < 4:
        raise EapError("EAP packet shorter than its header")
    code, ident, length = struct.unpack("!BBH", data[:4])
    if length < 4 or length > len(data):
        raise EapError("bad EAP length")
    return code, ident, data[4:length]


def attributes(eap_packet):
    """EAP-Message attributes (split in 253-octet pieces)."""
    out = b""
    for i in range(0, len(eap_packet), 253):
        piece = eap_packet[i:i + 253]
        out += bytes((EAP_MESSAGE, len(piece) + 2)) + piece
    return out


def packet(code, ident, payload=b""):
    return struct.pack("!BBH", code, ident, 4 + len(payload)) + payload


class Step:
    """What to do with one EAP round: ``reply`` (an Access-Challenge's
    attributes), or ``reject`` (a reason), or go on to the policy with
    ``ident``/``challenge`` for the MD5 check."""
    __slots__ = ("reply", "reject", "ident", "challenge", "response")

    def __init__(self, reply=None, reject=None, ident=0, challenge=b"", response=b""):
        self.reply, self.reject = reply, reject
        self.ident, self.challenge, self.response = ident, challenge, response

    def matches(self, clear):
        """EAP-MD5: MD5(identifier + password + challenge) (RFC 1994)."""
        expected = hashlib.md5(bytes((self.ident,)) + clear.encode("utf-8") +
                               self.challenge).digest()
        return hmac.compare_digest(expected, self.response)

    def outcome(self, ok):
        return attributes(packet(SUCCESS if ok else FAILURE, self.ident))


class Conversations:
    """EAP state between the rounds, in memory, for ``TTL`` seconds."""

    def __init__(self, limit=100_000):
        self.pending = {}
        self.limit = limit

    def step(self, req, login):
        try:
            got = message(req)
        except EapError as exc:
            return Step(reject=str(exc))
        code, ident, data = got
        if code != RESPONSE or not data:
            return Step(reject="not an EAP-Response")
        kind = data[0]
        if kind == IDENTITY:
            return self._challenge(ident, login or data[1:].decode("utf-8", "replace"))
        state = req.first(STATE)
        held = self.pending.pop(state, None) if state else None
        if held is None or held[0] < time.monotonic():
            return Step(reject="EAP conversation unknown or expired", ident=ident)
        _, who, sent_ident, challenge = held
        if kind == NAK:
            wanted = ",".join(str(b) for b in data[1:])
            return Step(reject=f"EAP method not supported (the supplicant wants {wanted})",
                        ident=sent_ident)
        if kind != MD5:
            return Step(reject=f"EAP type {kind} not supported", ident=sent_ident)
        if ident != sent_ident or login != who:
            return Step(reject="EAP response does not match the challenge", ident=sent_ident)
        size = data[1] if len(data) > 1 else 0
        if size != 16 or len(data) < 18:
            return Step(reject="malformed EAP-MD5 response", ident=sent_ident)
        return Step(ident=sent_ident, challenge=challenge, response=data[2:18])

    def _challenge(self, ident, login):
        now = time.monotonic()
        if len(self.pending) >= self.limit:
            self.pending = {k: v for k, v in self.pending.items() if v[0] >= now}
            if len(self.pending) >= self.limit:
                return Step(reject="too many EAP conversations")
        ident = (ident + 1) % 256
        challenge, state = os.urandom(16), os.urandom(16)
        self.pending[state] = (now + TTL, login, ident, challenge)
        request = packet(REQUEST, ident, bytes((MD5, 16)) + challenge)
        return Step(reply=attributes(request) + bytes((STATE, 18)) + state)

"""The lean RADIUS codec of the request path (RFC 2865/2866/2869/3579).

pyrad's ``Packet`` is general (names, TLVs, tags) and costs several hundred
microseconds per request to decode and answer; the server's hot path needs
far less: the raw attributes of a request, its authenticators checked, and
a reply encoded from attributes the dictionary describes.  This module does
that with ``struct``/``hashlib`` and the project's pyrad dictionary.  The
tests check it against pyrad and the real radclient; CoA/Disconnect
(not a hot path) use pyrad's packets.
"""
import hashlib
import hmac
import socket
import struct

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCESS_CHALLENGE = 11
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
STATUS_SERVER = 12          # RFC 5997
MESSAGE_AUTHENTICATOR = 80
VENDOR_SPECIFIC = 26
ZERO16 = bytes(16)
MAX_LENGTH = 4096
_header = struct.Struct("!BBH")


class CodecError(ValueError):
    """A malformed packet: it is dropped."""


# Attributes of a fixed size (RFC 2865, 2866, 2869 "integer", "address",
# "time"): any other length makes the packet malformed, not a shorter or
# longer number read as something else.
FIXED_LENGTH = {code: 4 for code in (
    4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 27, 28, 29, 37, 38, 40, 41, 42, 43, 45, 46,
    47, 48, 49, 51, 52, 53, 55, 61, 62)}


class Request:
    """A decoded request: raw attribute values by code, vendor attributes by
    (vendor id, type); every value is ``bytes``."""

    __slots__ = ("code", "id", "authenticator", "raw", "attrs", "ma_offset", "secret", "eap")

    def __init__(self, code, pid, authenticator, raw, attrs, ma_offset):
        self.code = code
        self.id = pid
        self.authenticator = authenticator
        self.raw = raw
        self.attrs = attrs
        self.ma_offset = ma_offset
        self.secret = b""
        self.eap = None          # an eap.Step while an EAP-MD5 response is checked

    def get(self, key, default=None):
        return self.attrs.get(key, default)

    def __contains__(self, key):
        return key in self.attrs

    def first(self, key):
        values = self.attrs.get(key)
        return values[0] if values else None

    def text(self, key):
        value = self.first(key)
        return value.decode("utf-8", "replace") if value is not None else ""

    # -- authenticators -------------------------------------------------
    @property
    def message_authenticator(self):
        return self.ma_offset is not None

    def verify_message_authenticator(self):
        """RFC 3579 3.2: HMAC-MD5 over the packet with the MA zeroed (and, for
        accounting, the Request Authenticator zeroed as in RFC 2866)."""
        if self.ma_offset is None:
            return False
        raw, at = self.raw, self.ma_offset
        given = raw[at:at + 16]
        if self.code == ACCOUNTING_REQUEST:
            data = raw[:4] + ZERO16 + raw[20:at] + ZERO16 + raw[at + 16:]
        else:
            data = raw[:at] + ZERO16 + raw[at + 16:]
        return hmac.compare_digest(given, hmac.new(self.secret, data, "md5").digest())

    def verify_accounting_authenticator(self):
        """RFC 2866 3: MD5(code+id+length+16 zero octets+attributes+secret)."""
        raw = self.raw
        digest = hashlib.md5(raw[:4] + ZERO16 + raw[20:] + self.secret).digest()
        return hmac.compare_digest(digest, self.authenticator)

    # -- passwords ------------------------------------------------------
    def pap_password(self):
        """The clear User-Password (RFC 2865 5.2), as bytes."""
        hidden = self.first(2)
        if hidden is None or not hidden or len(hidden) % 16 or len(hidden) > 128:
            raise CodecError("malformed User-Password")
        out = bytearray()
        last = self.authenticator
        for i in range(0, len(hidden), 16):
            block = hidden[i:i + 16]
            key = hashlib.md5(self.secret + last).digest()
            out += (int.from_bytes(block, "big") ^ int.from_bytes(key, "big")).to_bytes(16, "big")
            last = block
        return bytes(out).rstrip(b"\0")

    def chap_matches(self, clear):
        """RFC 2865 2.2: MD5(CHAP ident + password + challenge)."""
        chap = self.first(3)
        if chap is None or len(chap) != 17:
            return False
        challenge = self.first(60) or self.authenticator
        return hmac.compare_digest(chap[1:], hashlib.md5(chap[:1] + clear + challenge).digest())

    def password_matches(self, clear):
        """(ok, reason if not) for PAP or CHAP against the clear password."""
        clear = clear.encode("utf-8")
        if 2 in self.attrs:
            try:
                given = self.pap_password()
            except CodecError:
                return False, "undecodable User-Password"
            return hmac.compare_digest(given, clear), "wrong password"
        if 3 in self.attrs:
            return self.chap_matches(clear), "wrong CHAP password"
        return False, "no PAP or CHAP credentials"


def decode(data):
    """Decode a received request or raise :class:`CodecError`."""
    if len(data) < 20:
        raise CodecError("shorter than a RADIUS header")
    code, pid, length = _header.unpack_from(data)
    if length < 20 or length > MAX_LENGTH or len(data) < length:
        raise CodecError(f"bad Length {length} for {len(data)} octets")
    raw = bytes(data[:length])      # octets past Length are padding (RFC 2865 3)
    attrs = {}
    ma_offset = None
    pos = 20
    while pos < length:
        if pos + 2 > length:
            raise CodecError("truncated attribute header")
        kind, alen = raw[pos], raw[pos + 1]
        if alen < 2 or pos + alen > length:
            raise CodecError(f"attribute {kind} has bad length {alen}")
        value = raw[pos + 2:pos + alen]
        if kind == VENDOR_SPECIFIC and alen >= 8:
            _vendor_attributes(value, attrs)
        else:
            if kind == MESSAGE_AUTHENTICATOR:
                if alen != 18 or ma_offset is not None:
                    raise CodecError("bad Message-Authenticator")
                ma_offset = pos + 2
            elif FIXED_LENGTH.get(kind, alen - 2) != alen - 2:
                raise CodecError(f"attribute {kind} is {alen - 2} octets, not {FIXED_LENGTH[kind]}")
            attrs.setdefault(kind, []).append(value)
        pos += alen
    return Request(code, pid, raw[4:20], raw, attrs, ma_offset)


def _vendor_attributes(value, attrs):
    vendor = int.from_bytes(value[:4], "big")
    sub = value[4:]
    pos = 0
    found = []
    while pos + 2 <= len(sub):
        kind, slen = sub[pos], sub[pos + 1]
        if slen < 2 or pos + slen > len(sub):
            found = None            # not the usual layout: keep it raw
            break
        found.append(((vendor, kind), sub[pos + 2:pos + slen]))
        pos += slen
    if found is None or pos != len(sub):
        attrs.setdefault(VENDOR_SPECIFIC, []).append(value)
        return
    for key, v in found:
        attrs.setdefault(key, []).append(v)


def encode_reply(code, pid, request_authenticator, secret, attributes=b"",
                 message_authenticator=True):
    """A reply with its Response Authenticator and (first) a Message-Authenticator."""
    if message_authenticator:
        body = b"\x50\x12" + ZERO16 + attributes
    else:
        body = attributes
    length = 20 + len(body)
    if length > MAX_LENGTH:
        raise CodecError("reply too long")
    header = _header.pack(code, pid, length)
    if message_authenticator:
        mac = hmac.new(secret, header + request_authenticator + body, "md5").digest()
        body = b"\x50\x12" + mac + attributes
    auth = hashlib.md5(header + request_authenticator + body + secret).digest()
    return header + auth + body


class AttributeEncoder:
    """Encodes (name, value) with the dictionary; results are cached since
    replies repeat the same few values (rate limits, service types)."""

    def __init__(self, dictionary, cache_limit=200_000):
        self.dict = dictionary
        self.cache = {}
        self.cache_limit = cache_limit

    def encode(self, name, value):
        key = (name, value)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        attr = self.dict.attributes[name]
        if isinstance(value, str) and attr.values.HasForward(value):
            value = attr.values.GetForward(value)    # pyrad keeps named values encoded
        data = value if isinstance(value, bytes) else self._value(attr.type, value)
        if len(data) > 247:
            raise CodecError(f"{name} value too long")
        if attr.vendor:
            vendor = self.dict.vendors.GetForward(attr.vendor)
            inner = bytes((attr.code, len(data) + 2)) + data
            out = bytes((VENDOR_SPECIFIC, len(inner) + 6)) + vendor.to_bytes(4, "big") + inner
        else:
            out = bytes((attr.code, len(data) + 2)) + data
        if len(self.cache) >= self.cache_limit:
            self.cache.clear()
        self.cache[key] = out
        return out

    @staticmethod
    def _value(kind, value):
        if kind == "string":
            return value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if kind == "octets":
            return bytes(value)
        if kind in ("integer", "date"):
            return int(value).to_bytes(4, "big")
        if kind == "ipaddr":
            return socket.inet_aton(value)
        raise CodecError(f"cannot encode a {kind} attribute")

    def encode_all(self, pairs):
        return b"".join(self.encode(name, value) for name, value in pairs)

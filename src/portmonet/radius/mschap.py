"""MS-CHAP v1 (RFC 2433) and v2 (RFC 2759) with MPPE keys (RFC 3079,
RFC 2548), for PPTP/L2TP and hotspot users.

MD4 is written out here because OpenSSL 3 no longer offers it by default;
DES comes from ``cryptography``'s TripleDES with a single key.
"""
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

MS = 311
CHAP_RESPONSE, CHAP_ERROR, CHAP_CHALLENGE = (MS, 1), (MS, 2), (MS, 11)
CHAP2_RESPONSE, CHAP2_SUCCESS = (MS, 25), (MS, 26)

# -- MD4 (RFC 1320) ------------------------------------------------------


def _rotl(x, n):
    x &= 0xFFFFFFFF
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def md4(data):
    msg = bytearray(data)
    bit_len = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bit_len)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d

        def f(x_, y, z):
            return (x_ & y) | (~x_ & z)

        def g(x_, y, z):
            return (x_ & y) | (x_ & z) | (y & z)

        def h(x_, y, z):
            return x_ ^ y ^ z

        for i in (0, 4, 8, 12):
            a = _rotl(a + f(b, c, d) + x[i], 3)
            d = _rotl(d + f(a, b, c) + x[i + 1], 7)
            c = _rotl(c + f(d, a, b) + x[i + 2], 11)
            b = _rotl(b + f(c, d, a) + x[i + 3], 19)
        for i in (0, 1, 2, 3):
            a = _rotl(a + g(b, c, d) + x[i] + 0x5A827999, 3)
            d = _rotl(d + g(a, b, c) + x[i + 4] + 0x5A827999, 5)
            c = _rotl(c + g(d, a, b) + x[i + 8] + 0x5A827999, 9)
            b = _rotl(b + g(c, d, a) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):
            a = _rotl(a + h(b, c, d) + x[i] + 0x6ED9EBA1, 3)
            d = _rotl(d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = _rotl(c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = _rotl(b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1, 15)
        a, b, c, d = ((a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF,
                      (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF)
    return struct.pack("<4I", a, b, c, d)


# -- RFC 2759 building blocks -------------------------------------------

def nt_password_hash(password):
    return md4(password.encode("utf-16-le"))


def _des_key(seven):
    """7 octets -> an 8-octet DES key (parity bits ignored by DES)."""
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def _des(key7, block):
    key = _des_key(key7)
    # Triple DES with three equal keys is single DES.
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def challenge_response(challenge8, password_hash):
    z = password_hash + bytes(5)
    return _des(z[0:7], challenge8) + _des(z[7:14], challenge8) + _des(z[14:21], challenge8)


def challenge_hash(peer_challenge, authenticator_challenge, username):
    return hashlib.sha1(peer_challenge + authenticator_challenge + username).digest()[:8]


def nt_response_v2(authenticator_challenge, peer_challenge, username, password):
    return challenge_response(challenge_hash(peer_challenge, authenticator_challenge, username),
                              nt_password_hash(password))


MAGIC1 = b"Magic server to client signing constant"
MAGIC2 = b"Pad to make it do more than one iteration"


def authenticator_response(password, nt_response, peer_challenge, authenticator_challenge,
                           username):
    hash_hash = md4(nt_password_hash(password))
    digest = hashlib.sha1(hash_hash + nt_response + MAGIC1).digest()
    digest = hashlib.sha1(digest + challenge_hash(peer_challenge, authenticator_challenge,
                                                  username) + MAGIC2).digest()
    return "S=" + digest.hex().upper()


# -- MPPE keys (RFC 3079 3.3, 128-bit) ------------------------------------

MPPE_MAGIC1 = b"This is the MPPE Master Key"
MPPE_MAGIC2 = (b"On the client side, this is the send key; "
               b"on the server side, it is the receive key.")
MPPE_MAGIC3 = (b"On the client side, this is the receive key; "
               b"on the server side, it is the send key.")
SHS_PAD1 = bytes(40)
SHS_PAD2 = b"\xf2" * 40


def mppe_keys(password, nt_response):
    """(server send key, server receive key), 16 octets each."""
    hash_hash = md4(nt_password_hash(password))
    master = hashlib.sha1(hash_hash + nt_response + MPPE_MAGIC1).digest()[:16]

    def start_key(magic):
        return hashlib.sha1(master + SHS_PAD1 + magic + SHS_PAD2).digest()[:16]
    return start_key(MPPE_MAGIC3), start_key(MPPE_MAGIC2)


def salt_encrypt(key, secret, request_authenticator, salt=None):
    """RFC 2548 2.4.2: the value of MS-MPPE-Send-Key / Recv-Key."""
    salt = salt or bytes((0x80 | os.urandom(1)[0] & 0x7F, os.urandom(1)[0]))
    plain = bytes((len(key),)) + key
    plain += bytes(-len(plain) % 16)
    out = bytearray(salt)
    last = request_authenticator + salt
    for i in range(0, len(plain), 16):
        b = hashlib.md5(secret + last).digest()
        c = bytes(p ^ k for p, k in zip(plain[i:i + 16], b))
        out += c
        last = c
    return bytes(out)


def salt_decrypt(value, secret, request_authenticator):
    """The inverse of :func:`salt_encrypt` (what a NAS does)."""
    salt, data = value[:2], value[2:]
    if len(data) % 16 or not data:
        raise ValueError("salt-encrypted value is not a multiple of 16 octets")
    plain = bytearray()
    last = request_authenticator + salt
    for i in range(0, len(data), 16):
        b = hashlib.md5(secret + last).digest()
        plain += bytes(c ^ k for c, k in zip(data[i:i + 16], b))
        last = data[i:i + 16]
    return bytes(plain[1:1 + plain[0]])


# -- the server side ----------------------------------------------------------

def verify(request, username, password):
    """Check an MS-CHAP v2 or v1 request; returns (ok, reason, reply pairs).

    The reply pairs are raw (key, bytes) vendor attributes: MS-CHAP2-Success
    (or MS-CHAP-Error) and the MPPE keys for an accepted v2 login.
    """
    challenge = request.first(CHAP_CHALLENGE)
    v2 = request.first(CHAP2_RESPONSE)
    if challenge is None:
        return False, "MS-CHAP without MS-CHAP-Challenge", []
    if v2 is not None:
        if len(v2) != 50 or len(challenge) != 16:
            return False, "malformed MS-CHAP2-Response", []
        ident, peer_challenge, nt_response = v2[:1], v2[2:18], v2[26:50]
        # The user name in the challenge hash is without a domain (RFC 2759 4).
        name = username.split("\\")[-1].encode("utf-8")
        expected = nt_response_v2(challenge, peer_challenge, name, password)
        if not hmac.compare_digest(expected, nt_response):
            return False, "wrong MS-CHAPv2 password", [
                (CHAP_ERROR, ident + b"E=691 R=0 C=" + challenge.hex().upper().encode() +
                 b" V=3 M=Authentication failed")]
        success = authenticator_response(password, nt_response, peer_challenge, challenge, name)
        send, recv = mppe_keys(password, nt_response)
        return True, "", [
            (CHAP2_SUCCESS, ident + success.encode()),
            ((MS, 7), (1).to_bytes(4, "big")),           # encryption allowed
            ((MS, 8), (6).to_bytes(4, "big")),           # RC4 40 or 128 bit
            ((MS, 16), salt_encrypt(send, request.secret, request.authenticator)),
            ((MS, 17), salt_encrypt(recv, request.secret, request.authenticator)),
        ]
    v1 = request.first(CHAP_RESPONSE)
    if v1 is not None:
        if len(v1) != 50 or len(challenge) != 8:
            return False, "malformed MS-CHAP-Response", []
        ident, flags, nt_response = v1[:1], v1[1], v1[26:50]
        if flags != 1:
            return False, "MS-CHAPv1 LAN Manager responses are not accepted", []
        expected = challenge_response(challenge, nt_password_hash(password))
        if not hmac.compare_digest(expected, nt_response):
            return False, "wrong MS-CHAP password", [
                (CHAP_ERROR, ident + b"E=691 R=0")]
        return True, "", []
    return False, "no MS-CHAP response", []


def encode_vendor(pairs):
    out = b""
    for (vendor, kind), value in pairs:
        inner = bytes((kind, len(value) + 2)) + value
        out += bytes((26, len(inner) + 6)) + vendor.to_bytes(4, "big") + inner
    return out

"""RADIUS under hostile input (issue 20): floods of bad packets give a
bounded log and counted events; absurd accounting counters are never
taken or billed; integer attributes of the wrong length are malformed;
the decoder and the accounting parser survive anything (Hypothesis)."""
import hashlib
import logging
import os
import socket
import struct

import pytest
from hypothesis import given, settings, strategies as st

from portmonet.radius import accounting, codec, plausible
from portmonet.lograte import Limited
from portmonet.radius.sessions import Session

from .conftest import SECRET, acct, radclient, read, wait_for


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_limited_keys_by_source_and_class_not_by_text(caplog):
    clock = Clock()
    book = Limited(logging.getLogger("portmonet.radius"), period=60, burst=3, clock=clock)
    with caplog.at_level(logging.WARNING, "portmonet.radius"):
        for n in range(1000):                       # one sender, a different text each time
            book.warn("malformed", "192.0.2.1", "bad packet %d", n)
        for n in range(1000):                       # spoofed senders, one each
            book.warn("unknown-nas", f"10.{n // 250}.{n % 250}.1", "from %d", n)
        assert len(caplog.records) == 1 + 3          # once per source, burst per class
        assert book.counts == {"malformed": 1000, "unknown-nas": 1000}
        assert book.suppressed == {"malformed": 999, "unknown-nas": 997}
        clock.now += 60                              # a minute later: one more line, with the tally
        book.warn("malformed", "192.0.2.1", "bad packet %d", 1000)
    assert "(999 more malformed left out)" in caplog.records[-1].getMessage()
    assert book.stats()["bad_malformed_unlogged"] == 999


def accounting_packet(secret, attrs, pid=1):
    """An Accounting-Request with a correct Request Authenticator and the
    raw (type, value) attributes given, even ill-formed ones."""
    body = b"".join(bytes([kind, len(value) + 2]) + value for kind, value in attrs)
    length = 20 + len(body)
    header = struct.pack("!BBH", codec.ACCOUNTING_REQUEST, pid, length)
    auth = hashlib.md5(header + bytes(16) + body + secret.encode()).digest()
    return header + auth + body


def test_a_flood_of_different_malformed_packets_gives_a_bounded_log(radius, caplog):
    server, db = radius
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with caplog.at_level(logging.WARNING, "portmonet.radius"):
        for n in range(300):
            junk = os.urandom(20 + n % 40)         # every one malformed differently
            junk = bytes([4, n % 256]) + struct.pack("!H", 5000 + n) + junk[4:]
            sock.sendto(junk, ("127.0.0.1", server.acct_port))
        for n in range(100):                       # integer attributes of the wrong length
            sock.sendto(accounting_packet(SECRET, [(40, b"\x00\x01"), (1, b"alice"),
                                                   (44, f"X{n}".encode()), (42, bytes(n % 9))],
                                          pid=n), ("127.0.0.1", server.acct_port))
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            sock.recvfrom(4096)                    # nothing malformed is answered
        limited = server.server.limited
        wait_for(lambda: limited.counts["malformed"] >= 400)
    sock.close()
    lines = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert limited.counts["malformed"] == 400 and len(lines) == 1, [r.getMessage() for r in lines]
    assert server.server.stats["dropped"] == 400


def test_absurd_counters_are_never_taken_or_billed(radius):
    server, db = radius

    def send(status, **extra):
        rc, out = radclient(server.acct_port, "acct", acct(status, "alice", "H1", **extra))
        assert rc == 0 and "Accounting-Response" in out, out
    send("Start")
    # All-ones octets and Gigawords: 2^64 - 1 octets in a minute.
    send("Interim-Update", Acct_Input_Octets=0xFFFFFFFF, Acct_Input_Gigawords=0xFFFFFFFF,
         Acct_Output_Octets=0xFFFFFFFF, Acct_Output_Gigawords=0xFFFFFFFF, Acct_Session_Time=60)
    # A day of session time reported a moment after the Start.
    send("Interim-Update", Acct_Input_Octets=1000, Acct_Session_Time=86400)
    # A plausible one, then one smaller than it, then one from the past.
    send("Interim-Update", Acct_Input_Octets=5000, Acct_Session_Time=30)
    send("Interim-Update", Acct_Input_Octets=4000, Acct_Session_Time=31)
    send("Interim-Update", Acct_Input_Octets=6000, Acct_Session_Time=32, Acct_Delay_Time=3600)
    send("Stop", Acct_Input_Octets=7000, Acct_Session_Time=40, Acct_Terminate_Cause="User-Request")

    def look(root):
        s = root["equipment"]["bras1"].sessions["H1"]
        usage = [r.quantities for _, r in root.usage.items() if r.subject == "alice"]
        return s.octets_in, s.seconds, s.implausible, s.online, usage
    octets_in, seconds, implausible, online, usage = read(db, look)
    assert (octets_in, seconds, online) == (7000, 40, False)
    assert implausible == 4
    assert usage == [{"octets_in": 5000, "octets_out": 0, "seconds": 30},
                     {"octets_in": 2000, "octets_out": 0, "seconds": 10}]
    assert server.server.limited.counts["implausible-counters"] == 4


@pytest.mark.parametrize("attrs,why", [
    ([(40, b"\x00\x00\x01")], "attribute 40 is 3 octets"),
    ([(40, b"\x00\x00\x00\x01"), (42, b"\x00" * 8)], "attribute 42 is 8 octets"),
    ([(40, b"\x00\x00\x00\x01"), (8, b"\x0a\x00\x00")], "attribute 8 is 3 octets"),
    ([(40, b"")], "attribute 40 is 0 octets"),
])
def test_integer_and_address_attributes_of_the_wrong_length_are_malformed(attrs, why):
    with pytest.raises(codec.CodecError, match=why):
        codec.decode(accounting_packet(SECRET, attrs))


def test_implausible_timing_is_refused_at_parse():
    ok = [(40, b"\x00\x00\x00\x03"), (1, b"a"), (44, b"s")]
    for extra, why in (((41, struct.pack("!I", 8 * 86400)), "Acct-Delay-Time"),
                       ((46, struct.pack("!I", 0xFFFFFFFF)), "Acct-Session-Time")):
        req = codec.decode(accounting_packet(SECRET, ok + [extra]))
        with pytest.raises(accounting.AcctError, match=why):
            accounting.parse(req, received_us=10 ** 16)


def test_plausibility_rules():
    s = Session("n", "s", "u", start_us=0)
    rec = {"octets_in": 0, "octets_out": 0, "seconds": 0, "when_us": 0}
    rate = plausible.link_bytes_per_s(None)
    minute = 60 * 10 ** 6
    assert plausible.why_not(s, dict(rec, octets_in=rate * 100, seconds=60, when_us=minute),
                             rate) is None
    assert "link" in plausible.why_not(s, dict(rec, octets_in=rate * 200, seconds=60,
                                                when_us=minute), rate)
    assert "session time" in plausible.why_not(s, dict(rec, seconds=3600, when_us=minute), rate)
    s.last_us, s.seconds = 10 * minute, 10
    assert "went back" in plausible.why_not(s, dict(rec, seconds=20, when_us=minute), rate)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=120))
def test_decoder_and_parser_fuzz(data):
    """Anything a socket can receive: CodecError or AcctError, nothing else."""
    for blob in (data, accounting_packet(SECRET, [(data[0] if data else 40, data[1:40])])):
        try:
            req = codec.decode(blob)
        except codec.CodecError:
            continue
        req.secret = SECRET.encode()
        req.verify_accounting_authenticator()
        try:
            rec = accounting.parse(req, received_us=10 ** 16)
        except accounting.AcctError:
            continue
        assert rec["octets_in"] < 2 ** 64 and rec["seconds"] <= plausible.MAX_SESSION_S

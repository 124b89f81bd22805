"""Hand-built export packets: what softflowd never sends (bad input,
templates out of order, sampling) and a fast sender for the crash test."""
import socket
import struct
import time

V5_RECORD = struct.Struct("!IIIHHIIIIHHxBBBHHBBxx")


def ip(text):
    return struct.unpack("!I", socket.inet_aton(text))[0]


def v5(flows, uptime=100_000, secs=None, sampling=0, sequence=0):
    """A v5 packet of *flows*: (src text, dst text, octets[, packets])."""
    secs = int(time.time()) if secs is None else secs
    head = struct.pack("!HHIIIIBBH", 5, len(flows), uptime, secs, 0, sequence, 0, 0, sampling)
    body = b"".join(V5_RECORD.pack(ip(f[0]), ip(f[1]), 0, 0, 0, f[3] if len(f) > 3 else 1,
                                   f[2], uptime - 1000, uptime - 10, 1000, 80, 0, 6, 0, 0, 0,
                                   0, 0) for f in flows)
    return head + body


V9_FIELDS = [(8, 4), (12, 4), (1, 4), (2, 4), (21, 4)]     # src dst octets packets last


def v9_template(tid=256, fields=V9_FIELDS):
    body = struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    return struct.pack("!HH", 0, 4 + len(body)) + body


def v9_data(flows, tid=256, uptime=100_000):
    body = b"".join(struct.pack("!IIIII", ip(s), ip(d), o, 1, uptime - 10) for s, d, o in flows)
    return struct.pack("!HH", tid, 4 + len(body)) + body


def v9(*sets, uptime=100_000, source_id=0, sequence=0):
    return struct.pack("!HHIIII", 9, len(sets), uptime, int(time.time()), sequence,
                       source_id) + b"".join(sets)


IPFIX_FIELDS = [(8, 4), (12, 4), (1, 8), (2, 8), (153, 8)]  # ... flowEndMilliseconds


def ipfix_template(tid=256, fields=IPFIX_FIELDS, set_id=2):
    body = struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def ipfix_withdraw(tid=256):
    return struct.pack("!HHHH", 2, 8, tid, 0)


def ipfix_data(flows, tid=256, end_ms=None):
    end_ms = int(time.time() * 1000) if end_ms is None else end_ms
    body = b"".join(struct.pack("!IIQQQ", ip(s), ip(d), o, 1, end_ms) for s, d, o in flows)
    return struct.pack("!HH", tid, 4 + len(body)) + body


def ipfix(*sets, domain=0, sequence=0):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), sequence, domain) + body


def send(packets, port, source="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        for packet in packets:
            s.sendto(packet, ("127.0.0.1", port))

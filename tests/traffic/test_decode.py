"""The decoder on its own: templates per exporter and domain, padding,
enterprise fields, IPv6, waiting data, and any bytes at all."""
import struct

import pytest
from hypothesis import given, settings, strategies as st

from portmonet.traffic.decode import DecodeError, Decoder

from . import packets as P


def decoder():
    reported = []
    return Decoder(template_wait=5, report=lambda *a: reported.append(a[:2])), reported


def test_a_packet_with_one_bad_template_takes_none_of_its_templates():
    d, _ = decoder()
    packet = P.v9(P.v9_template(256), P.v9_template(257, [(8, 4), (12, 70000 % 65536)]))
    with pytest.raises(DecodeError, match="bad template"):
        d.decode("e", packet, 0)
    assert all(not dom.templates for dom in d.domains.values())
    # the good template alone is taken; data then decodes
    flows, _ = d.decode("e", P.v9(P.v9_template(256),
                                  P.v9_data([("10.0.0.1", "10.0.0.2", 77)])), 0)
    assert [(f[3], f[2]) for f in flows] == [(77, False)]


def test_templates_are_per_exporter_and_domain():
    d, reported = decoder()
    d.decode("a", P.v9(P.v9_template(256), source_id=1), 0)
    flows, _ = d.decode("a", P.v9(P.v9_data([("10.0.0.1", "10.0.0.2", 5)]), source_id=2), 0)
    assert flows == []                                   # domain 2 has no template 256
    flows, _ = d.decode("b", P.v9(P.v9_data([("10.0.0.1", "10.0.0.2", 5)]), source_id=1), 0)
    assert flows == []                                   # nor has exporter b
    assert d.expire(10) == 2 and reported == [("a", "no template"), ("b", "no template")]


def test_softflowd_style_padding_and_redefinition():
    d, _ = decoder()
    data = P.v9_data([("10.0.0.1", "10.0.0.2", 5), ("10.0.0.3", "10.0.0.4", 6)])
    odd = struct.pack("!HH", 256, len(data) + 3) + data[4:] + b"\0\0\0"
    flows, _ = d.decode("e", P.v9(P.v9_template(256), odd), 0)
    assert [f[3] for f in flows] == [5, 6]
    # redefined: octets now first, 8 bytes wide
    fields = [(1, 8), (8, 4), (12, 4), (2, 4), (21, 4)]
    body = struct.pack("!QIIII", 123, 1, 2, 1, 99_990)
    flows, _ = d.decode("e", P.v9(P.v9_template(256, fields),
                                  struct.pack("!HH", 256, 4 + len(body)) + body), 0)
    assert [(f[0], f[1], f[3]) for f in flows] == [(1, 2, 123)]


def test_ipfix_enterprise_fields_ipv6_and_time():
    d, _ = decoder()
    fields = struct.pack("!HH", 0x8000 | 5, 4) + struct.pack("!I", 9) + \
        b"".join(struct.pack("!HH", *f) for f in [(27, 16), (28, 16), (1, 4), (152, 8)])
    template = struct.pack("!HH", 2, 8 + len(fields)) + struct.pack("!HH", 300, 5) + fields
    src, dst = (0x20010db8 << 96) | 1, (0x20010db8 << 96) | 2
    record = b"\0" * 4 + src.to_bytes(16, "big") + dst.to_bytes(16, "big") + \
        struct.pack("!IQ", 4242, 0)
    data = struct.pack("!HH", 300, 4 + len(record)) + record
    flows, _ = d.decode("e", P.ipfix(template, data), 0)
    assert len(flows) == 1 and flows[0][:4] == (src, dst, True, 4242)
    end = 1_800_000_000_123
    flows, _ = d.decode("e", P.ipfix(P.ipfix_template(301),
                                     P.ipfix_data([("10.0.0.1", "10.0.0.2", 1)], 301, end)), 0)
    assert flows[0][5] == end


def test_v5_times_and_announced_sampling():
    d, _ = decoder()
    flows, sampling = d.decode("e", P.v5([("10.0.0.1", "10.0.0.2", 10)], uptime=100_000,
                                         secs=1_800_000_000, sampling=(1 << 14) | 64), 0)
    assert sampling == 64
    assert flows[0][5] == 1_800_000_000_000 - 10          # last switched 10 ms before export


def test_waiting_data_is_bounded():
    d, reported = decoder()
    for n in range(100):
        d.decode("e", P.v9(P.v9_data([("10.0.0.1", "10.0.0.2", 1)], tid=999), sequence=n), 0)
    assert len(reported) == 100 - 64
    flows, _ = d.decode("e", P.v9(P.v9_template(999)), 0)
    assert len(flows) == 64


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"\x00\x05", b"\x00\x09", b"\x00\x0a"]))
def test_any_bytes_decode_or_are_refused(tail, version):
    d, _ = decoder()
    d.decode("e", P.v9(P.v9_template(256)), 0)
    d.decode("e", P.ipfix(P.ipfix_template(256)), 0)
    for data in (version + tail, P.v9(P.v9_template(256))[:20] + tail,
                 P.ipfix(P.ipfix_template(256))[:16] + tail):
        try:
            flows, _ = d.decode("e", data, 0)
        except DecodeError:
            continue
        assert all(len(f) == 6 for f in flows)


def test_ipfix_variable_length_fields():
    d, reported = decoder()
    fields = [(8, 4), (82, 65535), (12, 4), (1, 8), (96, 65535)]   # interfaceName, applicationName
    body = struct.pack("!HH", 310, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    template = struct.pack("!HH", 2, 4 + len(body)) + body
    short = struct.pack("!I", P.ip("10.0.0.1")) + b"\x03eth" + struct.pack("!IQ", P.ip("8.8.8.8"), 11) + b"\x00"
    long_name = b"x" * 300
    long = struct.pack("!I", P.ip("10.0.0.2")) + b"\x00" + struct.pack("!IQ", P.ip("8.8.4.4"), 22) \
        + b"\xff" + struct.pack("!H", len(long_name)) + long_name
    records = short + long + b"\0\0"                                  # and padding
    data = struct.pack("!HH", 310, 4 + len(records)) + records
    flows, _ = d.decode("e", P.ipfix(template, data), 0)
    assert [(f[0], f[1], f[3]) for f in flows] == [
        (P.ip("10.0.0.1"), P.ip("8.8.8.8"), 11), (P.ip("10.0.0.2"), P.ip("8.8.4.4"), 22)]
    cut = struct.pack("!HH", 310, 4 + len(short) + 40) + short + long[:40]   # a set cut short
    flows, _ = d.decode("e", P.ipfix(cut), 0)
    assert flows == [] and reported == [("e", "truncated")]      # none of the set is taken

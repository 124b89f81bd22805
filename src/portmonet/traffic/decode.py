"""Export packets -> flows: NetFlow v5, NetFlow v9 (RFC 3954), IPFIX (RFC 7011).

Why not the ``netflow`` package from PyPI: measured here, it cannot read
softflowd's own v9 packets (a data set whose length is not a multiple of
four makes it unpack one record past the end: "unpack requires a buffer of
42 bytes"), its ``parse_packet`` passes v9 templates a list where it needs
a dict, it keeps templates by id only (not per exporter and observation
domain), loops forever on a template with no fields, prints to stdout on
bad addresses, and builds a dict and an object per flow (see
``bench/flows.py`` for its rate).  This module reads only what billing
needs, with one compiled ``struct`` per template.

A flow is ``(src, dst, v6, octets, packets, end_ms)``: addresses as ints,
the flow's end in ms since the epoch (from the exporter's clock).

Templates are kept per (exporter, observation domain / source id).  A
packet is checked whole before any of its templates is taken: a packet
with a bad set length or a template with absurd field lengths raises
:class:`DecodeError` and changes nothing.  A data set whose template is not
known yet waits (bounded in number and time, ``template_wait``) and is
decoded when the template arrives; one that waits too long is counted
(``no template``) and dropped.  IPFIX template withdrawal (a record with no
fields) and redefinition are honoured.
"""
import collections
import operator
import struct

SET = struct.Struct("!HH")
V5_HEADER = struct.Struct("!HHIIIIBBH")
V5_RECORD = struct.Struct("!II8xII4xI16x")      # src dst packets octets last
V9_HEADER = struct.Struct("!HHIIII")
IPFIX_HEADER = struct.Struct("!HHIII")

MAX_FIELDS = 128            # fields in one template
MAX_RECORD = 1024           # octets of one fixed-length record
MAX_TEMPLATES = 1024        # per exporter and domain
MAX_DOMAINS = 64            # per exporter
MAX_WAITING = 64            # data sets waiting for a template, per domain
VARIABLE = 65535            # IPFIX variable-length field

# Information elements (the same numbers in v9 and IPFIX).
OCTETS, PACKETS, SRC4, DST4, SRC6, DST6 = 1, 2, 8, 12, 27, 28
END_UPTIME, END_SECONDS, END_MS = 21, 151, 153
SAMPLING_V9, SAMPLING_IPFIX, INIT_MS = 34, 305, 160
_INT = {1: "B", 2: "H", 4: "I", 8: "Q"}


class DecodeError(ValueError):
    """A packet refused whole; ``kind`` is the error class counted."""

    def __init__(self, kind, detail=""):
        self.kind = kind
        super().__init__(f"{kind}: {detail}" if detail else kind)


def _signed32(value):
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


class Template:
    """A compiled data template: one struct for a whole record, and where
    in it the fields billing reads are."""

    __slots__ = ("tid", "size", "struct", "pick", "time", "v6", "varlen", "wanted", "fields")

    def __init__(self, tid, fields):
        self.tid = tid
        self.fields = tuple(fields)
        self.varlen = any(length == VARIABLE for _, length in fields)
        self.size = 0 if self.varlen else sum(length for _, length in fields)
        fmt, where = ["!"], {}
        for ie, length in fields:
            code = _INT.get(length) if ie is not None else None
            if ie in (SRC6, DST6) and length == 16:
                code = "16s"
            if code is None or ie in where:
                fmt.append(f"{length}x")
                continue
            where[ie] = sum(1 for f in fmt[1:] if not f.endswith("x"))
            fmt.append(code)
        self.wanted = where
        self.struct = None if self.varlen else struct.Struct("".join(fmt))
        self.v6 = SRC6 in where and DST6 in where
        src, dst = (SRC6, DST6) if self.v6 else (SRC4, DST4)
        self.time = next((ie for ie in (END_MS, END_SECONDS, END_UPTIME) if ie in where), None)
        self.pick = None
        if src in where and dst in where and OCTETS in where:
            order = [where[src], where[dst], where[OCTETS], where.get(PACKETS, where[OCTETS])]
            order.append(where[self.time] if self.time else where[OCTETS])
            self.pick = operator.itemgetter(*order)


class Domain:
    """What one exporter's observation domain (v9 source id) taught us."""

    __slots__ = ("templates", "options", "waiting", "init_ms", "sampling")

    def __init__(self):
        self.templates = {}      # template id -> Template
        self.options = {}        # options template id -> Template
        self.waiting = collections.deque()   # (expires, tid, body, context)
        self.init_ms = None      # IPFIX systemInitTimeMilliseconds (options data)
        self.sampling = 0        # sampling interval the exporter announced


class Decoder:
    """Decodes packets of many exporters; keeps their templates.

    ``report(exporter, kind, detail, n)`` hears of what is counted and
    dropped below packet level (data sets that waited too long for their
    template, data sets of variable-length templates)."""

    def __init__(self, template_wait=30.0, report=None):
        self.template_wait = template_wait
        self.report = report or (lambda *a: None)
        self.domains = {}        # (exporter, version, domain id) -> Domain

    def decode(self, exporter, data, now):
        """The flows of one packet and the sampling interval it announces
        (0: none); DecodeError if the packet is refused."""
        if len(data) < 4:
            raise DecodeError("truncated", f"{len(data)} octets")
        version = data[0] << 8 | data[1]
        if version == 5:
            return self._v5(data)
        if version in (9, 10):
            return self._templated(exporter, version, data, now)
        raise DecodeError("wrong version", str(version))

    # -- v5 ----------------------------------------------------------------
    @staticmethod
    def _v5(data):
        if len(data) < V5_HEADER.size:
            raise DecodeError("truncated", f"v5 header of {len(data)} octets")
        _, count, uptime, secs, nsecs, _, _, _, sampling = V5_HEADER.unpack_from(data)
        end = V5_HEADER.size + V5_RECORD.size * count
        if not 1 <= count <= 30:
            raise DecodeError("bad count", f"v5 with {count} records")
        if len(data) < end:
            raise DecodeError("truncated", f"v5 of {count} records in {len(data)} octets")
        base = secs * 1000 + nsecs // 1_000_000 - uptime
        flows = [(src, dst, False, octets, packets, base + _signed32(last - uptime) + uptime)
                 for src, dst, packets, octets, last in
                 V5_RECORD.iter_unpack(data[V5_HEADER.size:end])]
        return flows, sampling & 0x3FFF

    # -- v9 and IPFIX --------------------------------------------------------
    def _templated(self, exporter, version, data, now):
        ipfix = version == 10
        if ipfix:
            if len(data) < IPFIX_HEADER.size:
                raise DecodeError("truncated", f"IPFIX header of {len(data)} octets")
            _, length, secs, _, domain_id = IPFIX_HEADER.unpack_from(data)
            if length > len(data):
                raise DecodeError("truncated", f"IPFIX message of {length} in {len(data)} octets")
            if length < IPFIX_HEADER.size:
                raise DecodeError("bad length", f"IPFIX message length {length}")
            data = data[:length]
            context = (secs * 1000, None)
            offset = IPFIX_HEADER.size
            sets = (2, 3)
        else:
            if len(data) < V9_HEADER.size:
                raise DecodeError("truncated", f"v9 header of {len(data)} octets")
            _, _, uptime, secs, _, domain_id = V9_HEADER.unpack_from(data)
            context = (secs * 1000, uptime)
            offset = V9_HEADER.size
            sets = (0, 1)
        parts = self._split(data, offset, ipfix)
        # Check every template before taking any (nothing half-taken).
        staged = []
        for set_id, body in parts:
            if set_id == sets[0]:
                staged += _templates(body, ipfix)
            elif set_id == sets[1]:
                staged += _option_templates(body, ipfix)
        key = (exporter, version, domain_id)
        domain = self.domains.get(key)
        if domain is None:
            if sum(1 for k in self.domains if k[0] == exporter) >= MAX_DOMAINS:
                raise DecodeError("too many domains", f"domain {domain_id}")
            domain = self.domains[key] = Domain()
        for kind, tid, fields in staged:
            self._take(domain, kind, tid, fields)
        flows = []
        for set_id, body in parts:
            if set_id >= 256:
                self._data(exporter, domain, set_id, body, context, flows, now)
        if staged and domain.waiting:
            self._retry(exporter, domain, flows)
        return flows, domain.sampling

    @staticmethod
    def _split(data, offset, ipfix):
        parts = []
        while offset + 4 <= len(data):
            set_id, length = SET.unpack_from(data, offset)
            if length < 4 or offset + length > len(data):
                raise DecodeError("bad set length", f"set {set_id} of {length} octets at {offset}")
            if set_id in (0, 1, 2, 3) if ipfix else set_id in (0, 1):
                pass
            elif set_id < 256:
                raise DecodeError("bad set id", str(set_id))
            parts.append((set_id, data[offset + 4:offset + length]))
            offset += length
        if ipfix and offset != len(data):
            raise DecodeError("bad set length", f"{len(data) - offset} octets after the last set")
        return parts

    def _take(self, domain, kind, tid, fields):
        table = domain.templates if kind == "data" else domain.options
        if fields is None:                   # IPFIX withdrawal
            if tid in (2, 3):
                table.clear()
            else:
                table.pop(tid, None)
            return
        if tid not in table and len(domain.templates) + len(domain.options) >= MAX_TEMPLATES:
            raise DecodeError("too many templates", f"template {tid}")
        table[tid] = Template(tid, fields)
        (domain.options if kind == "data" else domain.templates).pop(tid, None)

    def _data(self, exporter, domain, tid, body, context, flows, now):
        template = domain.templates.get(tid)
        if template is None:
            options = domain.options.get(tid)
            if options is not None:
                _read_options(domain, options, body)
                return
            if len(domain.waiting) >= MAX_WAITING:
                self.report(exporter, "no template", f"template {tid}: too many sets waiting", 1)
                return
            domain.waiting.append((now + self.template_wait, tid, body, context))
            return
        if template.pick is None:
            return                           # a template without addresses/octets
        try:
            flows += _records(template, body, context, domain.init_ms)
        except DecodeError as exc:           # a variable-length record past its set
            self.report(exporter, exc.kind, str(exc), 1)

    def _retry(self, exporter, domain, flows):
        still = collections.deque()
        for item in domain.waiting:
            expires, tid, body, context = item
            template = domain.templates.get(tid)
            if template is None or template.pick is None:
                still.append(item)
                continue
            flows += _records(template, body, context, domain.init_ms)
        domain.waiting = still

    def expire(self, now):
        """Drop data sets that waited past ``template_wait``; returns how many."""
        dropped = 0
        for (exporter, _, domain_id), domain in self.domains.items():
            while domain.waiting and domain.waiting[0][0] <= now:
                _, tid, _, _ = domain.waiting.popleft()
                self.report(exporter, "no template",
                            f"data set of template {tid} (domain {domain_id}) never got one", 1)
                dropped += 1
        return dropped

    def forget(self, exporter):
        """Drop an exporter's templates (it was removed or re-registered)."""
        for key in [k for k in self.domains if k[0] == exporter]:
            del self.domains[key]


def _varlen_rows(template, body):
    """The records of a template with variable-length fields (RFC 7011
    section 7: one length octet, or 255 and two length octets), one at a time."""
    readers = {}
    for ie, length in template.fields:
        if ie in template.wanted and length != VARIABLE:
            code = "16s" if ie in (SRC6, DST6) else _INT[length]
            readers[ie] = (struct.Struct("!" + code).unpack_from, length)
    minimum = sum(1 if length == VARIABLE else length for _, length in template.fields)
    offset, end = 0, len(body)
    while end - offset >= minimum:           # what is left after the last record: padding
        values = [None] * len(template.wanted)
        for ie, length in template.fields:
            if length == VARIABLE:
                if offset >= end:
                    raise DecodeError("truncated", "a variable-length field past its set")
                length, offset = body[offset], offset + 1
                if length == 255:
                    if offset + 2 > end:
                        raise DecodeError("truncated", "a variable-length field past its set")
                    length, offset = body[offset] << 8 | body[offset + 1], offset + 2
            if offset + length > end:
                raise DecodeError("truncated", "a record past its set")
            reader = readers.get(ie)
            if reader is not None and reader[1] == length:
                values[template.wanted[ie]] = reader[0](body, offset)[0]
            offset += length
        yield template.pick(values)


def _records(template, body, context, init_ms):
    if template.varlen:
        rows = list(_varlen_rows(template, body))
    else:
        count = len(body) // template.size
        rows = map(template.pick, template.struct.iter_unpack(body[:count * template.size]))
    base_ms, uptime = context
    v6 = template.v6
    if template.time == END_UPTIME:
        if uptime is not None:           # v9: relative to the header's uptime
            start = base_ms - uptime
            out = [(s, d, v6, o, p, start + uptime + _signed32(t - uptime)) for s, d, o, p, t in rows]
        else:                            # IPFIX: relative to the init time
            start = init_ms if init_ms is not None else None
            out = [(s, d, v6, o, p, base_ms if start is None else start + _signed32(t))
                   for s, d, o, p, t in rows]
    elif template.time == END_MS:
        out = [(s, d, v6, o, p, t) for s, d, o, p, t in rows]
    elif template.time == END_SECONDS:
        out = [(s, d, v6, o, p, t * 1000) for s, d, o, p, t in rows]
    else:
        out = [(s, d, v6, o, p, base_ms) for s, d, o, p, _ in rows]
    if v6:
        big = int.from_bytes
        out = [(big(s, "big"), big(d, "big"), True, o, p, t) for s, d, _, o, p, t in out]
    return out


def _read_options(domain, template, body):
    if template.varlen or template.struct is None or not template.size:
        return
    for values in template.struct.iter_unpack(body[:len(body) // template.size * template.size]):
        where = template.wanted
        if INIT_MS in where:
            domain.init_ms = values[where[INIT_MS]]
        for ie in (SAMPLING_IPFIX, SAMPLING_V9):
            if ie in where and values[where[ie]] > 1:
                domain.sampling = values[where[ie]]


def _field_list(body, offset, count, ipfix):
    """(ie or None for an enterprise field, length) * count, and the offset after."""
    fields = []
    for _ in range(count):
        if offset + 4 > len(body):
            raise DecodeError("truncated", "template runs past its set")
        ie, length = SET.unpack_from(body, offset)
        offset += 4
        if ipfix and ie & 0x8000:
            offset += 4                      # enterprise number: a field we do not read
            ie = None
            if offset > len(body):
                raise DecodeError("truncated", "template runs past its set")
        if length == 0 or (length > MAX_RECORD and not (ipfix and length == VARIABLE)):
            raise DecodeError("bad template", f"field {ie} of length {length}")
        fields.append((ie, length))
    if sum(length for _, length in fields if length != VARIABLE) > MAX_RECORD:
        raise DecodeError("bad template", "records longer than %d octets" % MAX_RECORD)
    return fields, offset


def _templates(body, ipfix):
    out, offset = [], 0
    while offset + 4 <= len(body):
        tid, count = SET.unpack_from(body, offset)
        offset += 4
        if ipfix and count == 0:
            out.append(("data", tid, None))          # withdrawal
            continue
        if tid < 256 or not 1 <= count <= MAX_FIELDS:
            raise DecodeError("bad template", f"template {tid} with {count} fields")
        fields, offset = _field_list(body, offset, count, ipfix)
        out.append(("data", tid, fields))
    return out


def _option_templates(body, ipfix):
    out, offset = [], 0
    while offset + 4 <= len(body):
        if ipfix:
            tid, count = SET.unpack_from(body, offset)
            if count == 0:
                out.append(("options", tid, None))
                offset += 4
                continue
            if offset + 6 > len(body):
                raise DecodeError("truncated", "options template header")
            offset += 6                              # tid, count, scope count
        else:
            if offset + 6 > len(body):
                break                                # padding
            tid, scope_len, option_len = struct.unpack_from("!HHH", body, offset)
            offset += 6
            if scope_len % 4 or option_len % 4:
                raise DecodeError("bad template", f"options template {tid}")
            count = (scope_len + option_len) // 4
        if tid < 256 or not 1 <= count <= MAX_FIELDS:
            raise DecodeError("bad template", f"options template {tid} with {count} fields")
        fields, offset = _field_list(body, offset, count, ipfix)
        out.append(("options", tid, fields))
    return out

"""Flows summed in memory for one window of the collector.

A window is ``flows.window`` seconds of arrivals (default 60).  Its sums
are kept per (exporter, login or None, class, span of the flow's end --
a minute unless ``flows.span`` says otherwise):
``[octets in, octets out, flows]``, *in* being towards the subscriber
(download: what tariffs call ``in``), *out* from them.  A flow between two
subscribers counts for both; a flow no one's address is in counts once
for the exporter's ``unknown`` (class of its destination, direction in).
"""
MINUTE_MS = 60_000
# A flow is implausible (not counted, not billed: the same rule as RADIUS
# accounting's for every collector) if its packets could not hold its
# octets: more than an IP packet's 65,535 octets each, or octets with no
# packet.  (All-ones counters from a broken exporter are caught so.)
MAX_PACKET_OCTETS = 65_535


class Window:
    __slots__ = ("number", "sums", "flows", "octets", "span_ms")

    def __init__(self, number, span_ms=MINUTE_MS):
        self.number = number
        self.span_ms = span_ms
        self.sums = {}
        self.flows = 0
        self.octets = 0

    def __len__(self):
        return len(self.sums)

    def add(self, key, octets_in, octets_out):
        held = self.sums.get(key)
        if held is None:
            self.sums[key] = [octets_in, octets_out, 1]
        else:
            held[0] += octets_in
            held[1] += octets_out
            held[2] += 1


def count_flows(window, exporter, flows, scale, book, classes):
    """Attribute, class and sum *flows* (decoded tuples) of *exporter* into
    *window*, scaled by the sampling interval *scale*; returns how many were
    implausible and left out."""
    login_at, classify, add, span = book.login_at, classes.classify, window.add, window.span_ms
    implausible = 0
    for src, dst, v6, octets, packets, end_ms in flows:
        if octets > packets * MAX_PACKET_OCTETS:
            implausible += 1
            continue
        octets *= scale
        minute = end_ms - end_ms % span
        when_us = end_ms * 1000
        inside_src = None if v6 else login_at(src, when_us)
        inside_dst = None if v6 else login_at(dst, when_us)
        if inside_src is not None:
            add((exporter, inside_src, classify(dst, v6), minute), 0, octets)
        if inside_dst is not None:
            add((exporter, inside_dst, classify(src, v6), minute), octets, 0)
        if inside_src is None and inside_dst is None:
            add((exporter, None, classify(dst, v6), minute), octets, 0)
        window.flows += 1
        window.octets += octets
    return implausible

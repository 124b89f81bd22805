"""Summing flows in a window: an implausible flow (more octets than its
packets can hold, as an exporter with all-ones counters sends) is left out
and counted, never billed."""
from portmonet.traffic.window import MAX_PACKET_OCTETS, Window, count_flows


class Book:
    def login_at(self, address, when_us):
        return "anna" if address == 1 else None


class Classes:
    def classify(self, address, v6):
        return "internet"


def test_implausible_flows_are_left_out_and_counted():
    window = Window(1)
    flows = [(1, 2, False, 1500, 1, 60_000),                       # plausible upload
             (2, 1, False, 3 * MAX_PACKET_OCTETS, 3, 60_000),       # full-size packets: fine
             (2, 1, False, (1 << 64) - 1, 1, 60_000),               # all-ones counter
             (2, 1, False, 100, 0, 60_000)]                         # octets with no packet
    assert count_flows(window, "bras1", flows, 1, Book(), Classes()) == 2
    assert window.sums[("bras1", "anna", "internet", 60_000)][:2] == [3 * MAX_PACKET_OCTETS, 1500]
    assert window.flows == 2 and window.octets == 1500 + 3 * MAX_PACKET_OCTETS

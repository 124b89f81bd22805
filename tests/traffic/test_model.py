"""The exporter registry, prefix lists, networks on services and who held
an address when (in-memory database)."""
import ipaddress

import pytest

from portmonet.catalog.normalize import InvalidValue
from portmonet.radius.nas import Nas, add_nas
from portmonet.traffic.attribution import AddressBook, warm
from portmonet.traffic.classes import ClassesError, ClassTable, parse, table_of
from portmonet.traffic.model import Exporter, TrafficError, add_exporter, remove_exporter
from portmonet.traffic.networks import NetworkError, add_network, remove_network

from . import world
from radius.conftest import make_subscriber


def ip(text):
    return int(ipaddress.IPv4Address(text))


def test_exporters_are_checked_and_traversable(root):
    add_nas(root, Nas("bras1", "192.0.2.250", "x"))
    e = add_exporter(root, Exporter("gw1", "192.0.2.1", nas="bras1", sampling=100))
    assert root["traffic"]["exporters"]["gw1"] is e
    assert (e.__name__, e.__parent__.__parent__) == ("gw1", root["traffic"])
    with pytest.raises(TrafficError, match="exists"):
        add_exporter(root, Exporter("gw1", "192.0.2.9"))
    with pytest.raises(TrafficError, match="has the address"):
        add_exporter(root, Exporter("gw2", "192.0.2.1"))
    with pytest.raises(TrafficError, match="no NAS"):
        add_exporter(root, Exporter("gw3", "192.0.2.3", nas="nowhere"))
    for bad in (0, -1, "x", 1 << 30):
        with pytest.raises(TrafficError, match="sampling"):
            Exporter("gw4", "192.0.2.4", sampling=bad)
    with pytest.raises(TrafficError, match="not an IP"):
        Exporter("gw5", "999.1.1.1")
    remove_exporter(root, "gw1")
    assert "gw1" not in root["traffic"]["exporters"]


def test_prefix_lists_longest_match_and_refusal():
    table = ClassTable(parse("10.0.0.0/8 local\n10.5.0.0/16 peering  # IX\n\n"
                             "198.51.100.10/32 free\n2001:db8::/32 local\n"))
    assert table.classify(ip("10.5.1.1")) == "peering"
    assert table.classify(ip("10.6.1.1")) == "local"
    assert table.classify(ip("198.51.100.10")) == "free"
    assert table.classify(ip("198.51.100.11")) == "internet"
    assert table.classify(0x20010db8 << 96, v6=True) == "local"
    with pytest.raises(ClassesError) as refused:
        parse("10.0.0.0/8 local\n10.0.0.1/8 local\nnonsense\n10.0.0.0/8 free\n")
    assert [n for n, _ in refused.value.errors] == [2, 3, 4]


def test_loading_lists_bumps_the_version_the_collector_watches(root):
    classes = root["traffic"].classes
    first = table_of(classes)
    assert table_of(classes, first) is first
    classes.load(parse("10.0.0.0/8 local\n"))
    again = table_of(classes, first)
    assert again is not first and again.classify(ip("10.1.1.1")) == "local"
    classes.load(parse("192.0.2.0/24 peering\n"), replace=False)
    assert dict(classes.prefixes) == {"10.0.0.0/8": "local", "192.0.2.0/24": "peering"}


def test_networks_on_services_are_indexed_and_may_not_overlap(root):
    biz = make_subscriber(root, "biz")
    make_subscriber(root, "other", ip="10.2.0.9")
    add_network(root, "biz", "10.2.0.0/29")
    assert biz.networks == ("10.2.0.0/29",)
    assert root.catalog.networks.get("10.2.0.0/29") is biz
    with pytest.raises(NetworkError, match="overlaps"):
        add_network(root, "other", "10.2.0.4/30")
    with pytest.raises(NetworkError, match="10.2.0.9 of other"):
        add_network(root, "biz", "10.2.0.8/29")
    with pytest.raises(InvalidValue):
        add_network(root, "biz", "10.2.0.1/29")
    remove_network(root, "biz", "10.2.0.0/29")
    assert root.catalog.networks.get("10.2.0.0/29") is None and biz.networks == ()


def test_an_address_belongs_to_whoever_held_it_then(root):
    t0 = 1_800_000_000
    world.build(root, t0)
    root._p_jar.cacheMinimize()
    assert warm(root) >= len(world.STATIC) + 2          # services, buckets, sessions
    book = AddressBook()
    book.reset(root)
    shared = ip(world.SHARED)
    at = [(t0 + 60, "anna"), (t0 + 45 * 60, None), (t0 + 70 * 60, "boris"),
          (t0 + 10, "anna"), (t0 + 2 * 3600, None), (t0 - 1, None)]
    for when, login in at:
        assert book.login_at(shared, when * 1_000_000) == login, when - t0
    assert book.login_at(ip("10.1.0.2"), 0) == "s2"
    assert book.login_at(ip("10.2.0.7"), 0) == "biz"          # in the /29
    assert book.login_at(ip("10.2.0.8"), 0) is None
    # the index follows retention: a forgotten session holds nothing
    anna = root.radius.session_at(shared, (t0 + 60) * 1_000_000)
    root.radius.forget(anna)
    book.reset(root)
    assert book.login_at(shared, (t0 + 60) * 1_000_000) is None


def test_evolve_steps_index_an_older_database(root):
    from portmonet.evolve.core import add_network_index
    from portmonet.radius.evolve import add_by_ip
    t0 = 1_800_000_000
    world.build(root, t0)
    del root.radius.by_ip                       # as before 2026-12-04-radius-05
    del root.catalog.networks                   # as before 2026-12-04-core-06
    assert root.radius.session_at(ip(world.SHARED), (t0 + 60) * 1_000_000) is None
    add_by_ip(root)
    add_network_index(root)
    assert root.radius.session_at(ip(world.SHARED), (t0 + 60) * 1_000_000).login == "anna"
    assert root.radius.session_at(ip(world.SHARED), (t0 + 4000) * 1_000_000).login == "boris"
    assert len(root.catalog.networks) == 0
    add_by_ip(root)                             # a second run changes nothing
    assert len(root.radius.by_ip) == 2

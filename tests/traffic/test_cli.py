"""The real ``portmonet traffic`` commands on a real ZEO server."""
import pytest

from .peers import flows_ini, run_portmonet

pytestmark = pytest.mark.integration


def test_exporters_classes_and_networks_from_the_command_line(zeo_server, tmp_path):
    ini, _ = flows_ini(zeo_server, tmp_path)
    run_portmonet("nas", "add", "bras1", "192.0.2.250", "secret", ini=ini)
    out = run_portmonet("traffic", "exporter", "add", "gw1", "192.0.2.1", "--nas", "bras1",
                        "--sampling", "100", ini=ini).stdout
    assert "exporter gw1 (192.0.2.1, sampling 1:100, NAS bras1) added" in out
    for args, why in ((("gw2", "192.0.2.1"), "has the address"), (("gw3", "x"), "not an IP"),
                      (("gw4", "192.0.2.4", "--nas", "nope"), "no NAS")):
        refused = run_portmonet("traffic", "exporter", "add", *args, ini=ini, check=False)
        assert refused.returncode == 1 and why in refused.stderr
    assert run_portmonet("traffic", "exporter", "list", ini=ini).stdout == \
        "gw1\t192.0.2.1\tbras1\t1:100\n"
    bad = tmp_path / "bad.txt"
    bad.write_text("10.0.0.0/8 local\n10.0.0.1/8 local\n")
    refused = run_portmonet("traffic", "classes", "load", str(bad), ini=ini, check=False)
    assert refused.returncode == 1 and f"{bad}:2:" in refused.stderr
    assert run_portmonet("traffic", "classes", "list", ini=ini).stdout == ""   # nothing loaded
    good = tmp_path / "good.txt"
    good.write_text("10.0.0.0/8 local\n192.0.2.0/24 peering\n")
    assert "2 prefix(es) loaded in 2 class(es)" in run_portmonet(
        "traffic", "classes", "load", str(good), ini=ini).stdout
    run_portmonet("seed", "--subscribers", "2", ini=ini)
    assert "now held by u0000001" in run_portmonet(
        "traffic", "network", "add", "u0000001", "192.0.2.8/29", ini=ini).stdout
    refused = run_portmonet("traffic", "network", "add", "u0000002", "192.0.2.12/30", ini=ini,
                            check=False)
    assert refused.returncode == 1 and "overlaps 192.0.2.8/29 of u0000001" in refused.stderr
    assert "no longer held by" in run_portmonet(
        "traffic", "network", "remove", "u0000001", "192.0.2.8/29", ini=ini).stdout
    clean = run_portmonet("traffic", "discrepancy", "--period", "2026-11", ini=ini, check=False)
    assert clean.returncode == 0 and clean.stdout == ""
    bad = run_portmonet("traffic", "report", "--period", "11/2026", ini=ini, check=False)
    assert bad.returncode == 1 and "YYYY-MM or YYYY-MM-DD" in bad.stderr
    assert "exporter gw1 removed" in run_portmonet("traffic", "exporter", "remove", "gw1",
                                                   ini=ini).stdout

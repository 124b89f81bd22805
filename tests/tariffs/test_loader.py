"""Tariffs as data: clear errors, all-or-nothing import, versions."""
import datetime
import json

import pytest

from portmonet.tariffs.loader import (TariffDefinitionError, install, load_text,
                                      parse_document)
from portmonet.tariffs.model import NoTariff, RatedTariff, version_at

from conftest import run_portmonet
from .samples import PLANS


def test_bad_definitions_are_all_reported_with_their_place():
    bad = """
tariffs:
  - name: broken
    kind: internet
    versions:
      - effective: 2024-13-01
      - effective: 2024-01-01
        fee: {amount: "-5", period: week}
        zones:
          - {name: a, prefixes: ["7x"], price: "1.00", increment: 60-60}
        periods:
          - {name: night, from: "25:00", to: "07:00", days: [someday]}
        volume:
          - {name: v, price: "1", classes: [moon]}
        discounts:
          - {name: b, percent: 5, requires: [internet, radio]}
        colour: blue
"""
    with pytest.raises(TariffDefinitionError) as exc:
        parse_document(load_text(bad, "yaml"))
    text = "\n".join(exc.value.errors)
    for expected in ("versions[0].effective: '2024-13-01' is not a date",
                     "fee.amount: must not be negative",
                     "unknown field(s) colour",
                     "zones[0].prefixes: '7x' is not a digit prefix",
                     "periods[0].from: '25:00' is not a time of day",
                     "unknown traffic class 'moon'",
                     "discounts[0].requires: 'radio' is not a service kind"):
        assert expected in text, text


def test_floats_never_reach_money_and_decimals_are_exact():
    doc = load_text('{"tariffs": [{"name": "j", "versions": [{"effective": "2024-01-01",'
                    ' "fee": {"amount": 0.1}}]}]}', "json")
    (spec,) = parse_document(doc)
    assert spec.versions[0][1]["fee"].amount == 10
    with pytest.raises(TariffDefinitionError) as exc:
        parse_document(load_text("tariffs:\n - name: y\n   versions:\n    - effective: 2024-01-01\n"
                                 "      fee: {amount: 1.234}\n", "yaml"))
    assert "more than 2 decimal places" in str(exc.value)


def test_toml_is_read_too():
    doc = load_text("""
[[tariffs]]
name = "t"
kind = "phone"
[[tariffs.versions]]
effective = 2024-01-01
fee = {amount = "100.00"}
zones = [{name = "all", prefixes = ["7"], price = "1.00"}]
""", "toml")
    (spec,) = parse_document(doc)
    assert spec.versions[0][0] == datetime.date(2024, 1, 1)


def test_versions_by_effective_date(root):
    install(root, parse_document(load_text(PLANS, "yaml")))
    home = root["tariffs"]["home"]
    assert isinstance(home, RatedTariff)
    assert home.version_at(datetime.date(2024, 12, 31)).fee.amount == 60000
    assert home.version_at(datetime.date(2025, 1, 1)).fee.amount == 70000
    with pytest.raises(NoTariff):
        home.version_at(datetime.date(2023, 12, 31))
    assert home.rate_limit.text == "102400k/204800k"     # today: the 2025 version
    assert home.monthly_fee == 70000
    # the foundation's plain tariffs answer too
    from portmonet.model.simple import Tariff
    plain = root["tariffs"].add("plain", Tariff("plain", monthly_fee=45000))
    assert version_at(plain, datetime.date(2020, 1, 1)).fee.amount == 45000


def test_reimport_is_unchanged_and_a_correction_needs_replace(root):
    specs = parse_document(load_text(PLANS, "yaml"))
    install(root, specs)
    assert {o for _, _, o in install(root, specs)} == {"unchanged"}
    changed = parse_document(load_text(PLANS.replace('"600.00"', '"650.00"'), "yaml"))
    with pytest.raises(ValueError, match="--replace"):
        install(root, changed)
    report = install(root, changed, replace=True)
    assert ("home", datetime.date(2024, 1, 1), "replaced") in report
    v = root["tariffs"]["home"].version_at(datetime.date(2024, 6, 1))
    assert v.fee.amount == 65000 and v.number == 3


@pytest.mark.integration
def test_import_command_through_zeo(zeo_server, zeo_db, tmp_path):
    ini = zeo_server.ini(tmp_path / "t.ini")
    good = tmp_path / "plans.yaml"
    good.write_text(PLANS)
    out = run_portmonet("import", "tariffs", str(good), ini=ini)
    assert "home from 2024-01-01: added" in out.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tariffs": [{"name": "x", "versions": [{"effective": "2024-01-01",
                                                                       "fee": {"amount": "1", "period": "year"}}]}]}))
    proc = run_portmonet("import", "tariffs", str(bad), ini=ini, check=False)
    assert proc.returncode != 0
    assert "fee.period: 'year' is not one of month, day" in proc.stderr
    assert "nothing imported" in proc.stderr
    listed = run_portmonet("tariffs", "list", ini=ini).stdout
    assert "home\tinternet" in listed and "x\t" not in listed


def test_access_settings_for_radius_are_read_checked_and_stored(root):
    doc = """
tariffs:
  - name: kids
    kind: internet
    walled_garden: debtors
    allowed_hours: 8-22
    versions:
      - {effective: 2024-01-01, rate_limit: 10M/10M}
"""
    install(root, parse_document(load_text(doc, "yaml")))
    kids = root["tariffs"]["kids"]
    assert (kids.walled_garden, kids.allowed_hours) == ("debtors", (8, 22))
    # re-imported without them: the settings are taken away
    install(root, parse_document(load_text(doc.replace("    walled_garden: debtors\n", ""), "yaml")))
    assert (kids.walled_garden, kids.allowed_hours) == (None, (8, 22))
    bad = doc.replace("8-22", "8-25").replace("debtors", "no garden!")
    with pytest.raises(TariffDefinitionError) as exc:
        parse_document(load_text(bad, "yaml"))
    text = "\n".join(exc.value.errors)
    assert "allowed_hours: hours are 0..23" in text
    assert "walled_garden: 'no garden!' is not a valid name" in text

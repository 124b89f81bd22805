"""The real ``portmonet`` command against a real ZEO server."""
import os
import sys
import subprocess

import pytest

from portmonet.model.root import get_root

from conftest import BIN, PROJECT, ZeoServer, run_portmonet

pytestmark = pytest.mark.integration


@pytest.fixture
def ini(zeo_server, tmp_path):
    path = zeo_server.ini(tmp_path / "cli.ini")
    run_portmonet("init", ini=path)
    return path


def test_seed_check_export_deterministic(ini, tmp_path, zeo_server):
    out = run_portmonet("seed", "--subscribers", "300", "--seed", "5", "--batch", "100", ini=ini)
    assert "seeded 300 subscribers, ids 1..300" in out.stdout
    assert "seeding subscribers: 300/300 (100%)" in out.stderr      # progress lines
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK: ") and "accounts=300," in check.stdout
    first = tmp_path / "a.csv"
    run_portmonet("export", "subscribers", str(first), ini=ini)
    # the same seed into another database gives the same subscribers
    (tmp_path / "other").mkdir()
    other = ZeoServer(tmp_path / "other")
    try:
        ini2 = other.ini(tmp_path / "other.ini")
        run_portmonet("init", ini=ini2)
        run_portmonet("seed", "--subscribers", "300", "--seed", "5", ini=ini2)
        second = tmp_path / "b.csv"
        run_portmonet("export", "subscribers", str(second), ini=ini2)
    finally:
        other.stop()
    assert first.read_text() == second.read_text()
    assert len(first.read_text().splitlines()) == 301


def test_check_finds_injected_inconsistencies(ini, zeo_server):
    run_portmonet("seed", "--subscribers", "20", ini=ini)
    db = zeo_server.open_db()
    with db.transaction() as conn:
        root = get_root(conn.root())
        account = root.catalog.accounts.get(root["subscribers"]["3"]["3-1"].account.number)
        account._balance += 1                     # a balance that is not its postings
        root.catalog.causes["ghost:1"] = ("0000000000", 1)   # a cause with no posting
        number = account.number
    db.close()
    proc = run_portmonet("check", ini=ini, check=False)
    assert proc.returncode == 1
    assert f"account {number}: balance" in proc.stdout
    assert "cause 'ghost:1' is indexed as" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("FAILED")


def test_check_refuses_a_database_with_pending_evolve_steps(ini, zeo_server):
    run_portmonet("seed", "--subscribers", "2", ini=ini)
    db = zeo_server.open_db()
    with db.transaction() as conn:
        root = get_root(conn.root())
        step = sorted(root.evolved)[-1]
        root.evolved.remove(step)             # as a database from before that step
    db.close()
    proc = run_portmonet("check", ini=ini, check=False)
    assert proc.returncode != 0
    assert "evolve step(s) pending" in proc.stderr and step in proc.stderr
    run_portmonet("evolve", ini=ini)
    assert run_portmonet("check", ini=ini).stdout.strip().splitlines()[-1].startswith("OK")


def test_import_via_cli_reports_lines(ini, tmp_path):
    run_portmonet("seed", "--subscribers", "1", ini=ini)      # makes the demo tariffs
    bad = tmp_path / "bad.csv"
    bad.write_text("login,password,name,phone,email,contract,tariff,balance,credit_limit,ip\n"
                   "ok1,p,Good Row,,,G-1,home-50,1.00,0,\n"
                   "u0000001,p,Taken Login,,,G-2,home-50,1.00,0,\n")
    proc = run_portmonet("import", "subscribers", str(bad), ini=ini, check=False)
    assert proc.returncode != 0
    assert f"{bad}:3: login 'u0000001' already exists" in proc.stderr
    assert "nothing imported" in proc.stderr
    good = tmp_path / "good.csv"
    good.write_text(bad.read_text().splitlines()[0] + "\n" + bad.read_text().splitlines()[1] + "\n")
    assert "imported 1 subscribers" in run_portmonet("import", "subscribers", str(good), ini=ini).stdout


def test_staff_add_and_history_script(ini):
    run_portmonet("staff", "add", "anna", "--role", "cashier", "--password", "correct horse",
                  ini=ini)
    assert "anna\tcashier\tactive" in run_portmonet("staff", "list", ini=ini).stdout
    proc = run_portmonet("staff", "add", "bad", "--role", "pirate", "--password", "12345678",
                         ini=ini, check=False)
    assert proc.returncode != 0 and "roles must be among" in proc.stderr
    run_portmonet("seed", "--subscribers", "2", ini=ini)
    out = subprocess.run([sys.executable, os.path.join(PROJECT, "scripts", "history.py"),
                          "-c", ini, "/subscribers/1"], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONWARNINGS="ignore"), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Subscriber 1" in out.stdout
    assert "portmonet seed" in out.stdout and "seed 2 subscribers" in out.stdout
    assert "name: None -> " in out.stdout


def test_missing_config_is_a_clear_error(tmp_path):
    proc = run_portmonet("check", ini=str(tmp_path / "nope.ini"), check=False)
    assert proc.returncode != 0 and "not found" in proc.stderr


def test_history_never_shows_secrets(zeo_db):
    from portmonet.ops.history import object_history
    from helpers import make_subscriber
    with zeo_db.transaction(note="create") as conn:
        make_subscriber(get_root(conn.root()), login="hist", password="FirstSecret1")
    with zeo_db.transaction(note="new password") as conn:
        svc = get_root(conn.root()).catalog.logins.get("hist")
        svc.set_password("SecondSecret2")
    with zeo_db.transaction() as conn:
        svc = get_root(conn.root()).catalog.logins.get("hist")
        entries = object_history(zeo_db, svc)
    assert entries[0]["note"] == "new password"
    assert entries[0]["changes"] == [("_password", "(secret)", "(secret, changed)")]
    assert "Secret" not in repr(entries)


def test_a_feature_left_out_of_the_ini_has_no_commands(tmp_path):
    """The commands come from the same feature list as the web app."""
    without = tmp_path / "no-radius.ini"
    without.write_text("[app:main]\nuse = egg:portmonet\nzodbconn.uri = memory://\n"
                       "portmonet.features = tariffs rating billing payments\n")
    out = run_portmonet("--help", ini=str(without)).stdout
    assert "bill" in out and "radius" not in out
    gone = run_portmonet("radius", "--help", ini=str(without), check=False)
    assert gone.returncode != 0 and "No such command" in gone.stderr
    everything = tmp_path / "all.ini"
    everything.write_text("[app:main]\nuse = egg:portmonet\nzodbconn.uri = memory://\n")
    assert "radius" in run_portmonet("--help", ini=str(everything)).stdout

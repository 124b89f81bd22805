"""`make run`'s first start: every process of the Procfile, started together
by honcho on a brand-new database, comes up — one installs the database and
the demo data, the others wait for it — and stops cleanly."""
import os
import re
import signal
import subprocess
import time
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

import pytest

from portmonet import crypto

from conftest import BIN, PROJECT, free_port

pytestmark = pytest.mark.integration

PROCESSES = ("zeo", "web", "rater", "debt", "radius", "flows", "workflow", "notify")


def _setup(tmp_path):
    zeo_port, web_port = free_port(), free_port()
    (tmp_path / "zeo.conf").write_text(
        f"<zeo>\n  address 127.0.0.1:{zeo_port}\n</zeo>\n"
        f"<filestorage>\n  path {tmp_path}/var/Data.fs\n  blob-dir {tmp_path}/var/blobs\n"
        "</filestorage>\n")
    (tmp_path / "var").mkdir()
    (tmp_path / "run.ini").write_text("\n".join([
        "[app:main]", "use = egg:portmonet",
        f"zodbconn.uri = zeo://127.0.0.1:{zeo_port}?wait_timeout=60"
        f"&blob_dir={tmp_path}/var/blob-cache&shared_blob_dir=false",
        f"portmonet.secret_keys = {crypto.DEMO_KEY}", "portmonet.evolve_on_start = true",
        "portmonet.cookie_secure = false", "radius.bind = 127.0.0.1",
        f"radius.auth_port = {free_port()}", f"radius.acct_port = {free_port()}",
        f"radius.coa_port = {free_port()}", "flows.bind = 127.0.0.1",
        f"flows.port = {free_port()}", f"notify.mail.port = {free_port()}",
        f"notify.smpp.port = {free_port()}",
        "[server:main]", "use = egg:waitress#main", f"listen = 127.0.0.1:{web_port}", ""]))
    return web_port


def _health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _office_sign_in(port, identifier, password):
    """Sign in to the office as a browser would; the office home's HTML."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"http://127.0.0.1:{port}/office", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "came_from": "",
                                   "identifier": identifier, "password": password}).encode()
    with opener.open(f"http://127.0.0.1:{port}/@@office-login", data, timeout=30) as answer:
        return answer.read().decode()


def test_procfile_first_start_on_an_empty_database(tmp_path):
    web_port = _setup(tmp_path)
    log = tmp_path / "honcho.log"
    env = dict(os.environ, PORTMONET_CONFIG=str(tmp_path / "run.ini"),
               ZEO_CONF=str(tmp_path / "zeo.conf"), DEMO_SUBSCRIBERS="30",
               PYTHONWARNINGS="ignore::UserWarning")
    with open(log, "w") as out:
        honcho = subprocess.Popen([os.path.join(BIN, "honcho"), "--no-colour", "start"],
                                  cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        ready = set()
        while time.monotonic() < deadline and honcho.poll() is None:
            text = log.read_text()
            ready = {name for name in PROCESSES[1:]
                     if re.search(rf"^\S+ {name}\.1\s+\| database ready$", text, re.M)}
            if (ready == set(PROCESSES[1:]) and _health(web_port)
                    and "portmonet radius: auth on" in text and "debt control " in text
                    and "workflow timers: " in text
                    and "portmonet flows: listening on" in text
                    and "SMTP sink on" in text and "SMPP server on" in text):
                break
            time.sleep(0.5)
        text = log.read_text()
        assert honcho.poll() is None, f"honcho stopped:\n{text}"
        assert ready == set(PROCESSES[1:]), text
        assert _health(web_port), text
        assert "portmonet radius: auth on" in text and "debt control " in text, text
        assert "portmonet flows: listening on 127.0.0.1" in text, text
        assert "demo office: sign in at /office as u0000001" in text
        assert "SMTP sink on 127.0.0.1:" in text and "SMPP server on 127.0.0.1:" in text
        # one installer, no race, and a quiet start
        for bad in ("ConflictError", "Traceback", "rc=1", "pkg_resources is deprecated"):
            assert bad not in text, text
        assert len(re.findall(r"^\S+ web\.1\s+\| seeded 30 subscribers", text, re.M)) == 1
        # the README's demo office login works
        home = _office_sign_in(web_port, "u0000001", "demo")
        assert "u0000001" in home or "Sign out" in home, home[:500]
        with pytest.raises(urllib.error.HTTPError):
            _office_sign_in(web_port, "u0000001", "not-the-password")
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGINT)     # Ctrl-C, as the README says
            try:
                honcho.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
                honcho.wait()
    text = log.read_text()
    for name in PROCESSES + ("mailsink", "smsc"):
        assert re.search(rf"^\S+ {name}\.1\s+\| .*", text, re.M), (name, text)
    assert "Traceback" not in text, text

"""ZEO over TLS with client certificates (issue 20): a real ``runzeo``
configured as zodb/zeo-tls.conf shows, and a client configured as
zodb/client-tls.conf shows (the ini's ``zodbconn.uri = zconfig://...``),
talk on loopback; a client without a certificate, or with one another CA
signed, or without TLS, gets nothing."""
import datetime
import ipaddress
import os
import socket
import subprocess
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portmonet.db import open_database

from conftest import BIN, PROJECT, free_port

pytestmark = pytest.mark.integration


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder, name, cert, key):
    with open(os.path.join(folder, f"{name}.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(folder, f"{name}.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def make_pki(folder):
    """A CA, the server's and a client's certificates; and a stranger's, from another CA."""
    def key():
        return ec.generate_private_key(ec.SECP256R1())
    ca_key, other_key = key(), key()
    ca = _cert("Portmonet test CA", ca_key, "Portmonet test CA", ca_key, ca=True)
    other = _cert("Another CA", other_key, "Another CA", other_key, ca=True)
    _write(folder, "ca", ca, ca_key)
    for name, issuer, issuer_key, issuer_cert in (("server", "Portmonet test CA", ca_key, ca),
                                                  ("client", "Portmonet test CA", ca_key, ca),
                                                  ("stranger", "Another CA", other_key, other)):
        k = key()
        _write(folder, name, _cert(name, k, issuer, issuer_key, server=name == "server"), k)


def template(name, **values):
    """One of the repository's zodb/*-tls.conf files with its paths filled in."""
    with open(os.path.join(PROJECT, "zodb", name)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(key, str(value))
    return text


@pytest.fixture(scope="module")
def tls_zeo(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("zeo-tls"))
    make_pki(folder)
    port = free_port()
    conf = os.path.join(folder, "zeo.conf")
    with open(conf, "w") as f:
        f.write(template("zeo-tls.conf", **{"127.0.0.1:8100": f"127.0.0.1:{port}",
                                            "/etc/portmonet/tls": folder,
                                            "zodb/var": folder}))
    log = open(os.path.join(folder, "zeo.log"), "w")
    proc = subprocess.Popen([os.path.join(BIN, "runzeo"), "-C", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(open(log.name).read())
            time.sleep(0.1)
    yield folder, port
    proc.terminate()
    proc.wait(10)
    log.close()


def client_uri(folder, port, cert="client", timeout=30):
    path = os.path.join(folder, f"client-{cert}.conf")
    with open(path, "w") as f:
        f.write(template("client-tls.conf", **{"127.0.0.1:8100": f"127.0.0.1:{port}",
                                               "/etc/portmonet/tls/client": f"{folder}/{cert}",
                                               "/etc/portmonet/tls": folder,
                                               "wait-timeout 60": f"wait-timeout {timeout}",
                                               "zodb/var/blob-cache": f"{folder}/blobs-{cert}"}))
    return f"zconfig://{path}"


def test_a_tls_client_with_a_certificate_talks_to_the_tls_server(tls_zeo):
    folder, port = tls_zeo
    db = open_database({"zodbconn.uri": client_uri(folder, port)})
    try:
        with db.transaction() as conn:
            conn.root()["over-tls"] = "yes"
        other = open_database({"zodbconn.uri": client_uri(folder, port)})
        try:
            with other.transaction() as conn:
                assert conn.root()["over-tls"] == "yes"
        finally:
            other.close()
    finally:
        db.close()


@pytest.mark.parametrize("how", ["stranger", "plain"])
def test_a_client_without_a_trusted_certificate_gets_nothing(tls_zeo, how):
    folder, port = tls_zeo
    if how == "plain":                      # no TLS at all
        code = (f"import ZEO; ZEO.client(('127.0.0.1', {port}), wait_timeout=3)")
    else:                                   # a certificate another CA signed
        code = (f"from portmonet.db import open_database; "
                f"open_database({{'zodbconn.uri': {client_uri(folder, port, how, 3)!r}}})")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "ClientDisconnected" in proc.stderr, proc.stderr[-2000:]


def test_the_shipped_server_configurations_listen_on_loopback():
    import re
    for name in ("zeo.conf", "zeo-tls.conf"):
        with open(os.path.join(PROJECT, "zodb", name)) as f:
            addresses = re.findall(r"^\s*address\s+(\S+)", f.read(), re.M)
        assert addresses == ["127.0.0.1:8100"], (name, addresses)
    for ini in ("development.ini", "production.ini"):
        with open(os.path.join(PROJECT, ini)) as f:
            uri = re.search(r"^zodbconn\.uri\s*=\s*(\S+)", f.read(), re.M).group(1)
        assert uri.startswith("zeo://127.0.0.1:"), (ini, uri)

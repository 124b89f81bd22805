"""Status-Server (RFC 5997) from the real radclient, on both ports."""
from .conftest import radclient

STATUS = 'Message-Authenticator = 0x00\nNAS-Identifier = "probe"\n'


def test_status_server_answered_on_auth_and_accounting_ports(radius):
    server, _ = radius
    rc, out = radclient(server.auth_port, "status", STATUS)
    assert rc == 0, out
    reply = out.split("Received Access-Accept")[1]
    assert "Message-Authenticator" in reply and "Portmonet RADIUS alive" in reply
    rc, out = radclient(server.acct_port, "status", STATUS)
    assert rc == 0, out
    reply = out.split("Received Accounting-Response")[1]
    assert "Message-Authenticator" in reply
    assert server.server.stats["status_server"] == 2


def test_status_server_without_message_authenticator_or_with_wrong_secret_dropped(radius):
    server, _ = radius
    for port in (server.auth_port, server.acct_port):
        rc, out = radclient(port, "status", 'NAS-Identifier = "probe"\n', timeout=0.5)
        assert rc != 0 and "Received" not in out, out
        rc, out = radclient(port, "status", STATUS, secret="wrong", timeout=0.5)
        assert rc != 0 and "Received" not in out, out
    assert server.server.stats["status_server"] == 0

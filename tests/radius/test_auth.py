"""Access-Requests from the real radclient against the in-process server."""
from .conftest import SECRET, access, radclient, read, wait_for
from portmonet.radius.nas import Nas, add_nas
from portmonet.db import transact


def test_pap_accept_with_reply_attributes(radius):
    server, db = radius
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw"))
    assert rc == 0, out
    assert "Access-Accept" in out
    assert "Framed-IP-Address = 10.0.0.5" in out
    assert 'Mikrotik-Rate-Limit = "10M/20M"' in out
    assert "Acct-Interim-Interval = 60" in out
    assert "Message-Authenticator" in out.split("Received Access-Accept")[1]


def test_chap_accept(radius):
    server, db = radius
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw", chap=True))
    assert rc == 0 and "Access-Accept" in out, out


def test_wrong_password_pap_and_chap_rejected_and_recorded(radius):
    server, db = radius
    for chap in (False, True):
        rc, out = radclient(server.auth_port, "auth", access("alice", "nope", chap=chap))
        assert "Access-Reject" in out, out
        assert 'Reply-Message = "authentication failed"' in out
    rejects = wait_for(lambda: read(db, lambda r: r.radius.rejects_of("alice")), 10)
    assert {reason for _, reason, _, _ in rejects} == {"wrong password", "wrong CHAP password"}


def test_unknown_login_rejected(radius):
    server, _ = radius
    rc, out = radclient(server.auth_port, "auth", access("nobody", "x"))
    assert "Access-Reject" in out


def test_blocked_contract_rejected_with_reason(radius):
    server, db = radius
    rc, out = radclient(server.auth_port, "auth", access("bob", "bob-pw"))
    assert "Access-Reject" in out and 'Reply-Message = "contract blocked"' in out, out
    rejects = wait_for(lambda: read(db, lambda r: r.radius.rejects_of("bob")), 10)
    assert rejects[0][1] == "contract blocked" and rejects[0][2] == "bras1"


def test_debtor_rejected_or_walled_garden(radius):
    server, db = radius
    rc, out = radclient(server.auth_port, "auth", access("carol", "carol-pw"))
    assert "Access-Reject" in out and "debt" in out, out

    def garden(root):
        root["tariffs"]["fast"].walled_garden = "debtors"
    transact(db, garden, "test", "walled garden")
    rc, out = radclient(server.auth_port, "auth", access("carol", "carol-pw"))
    assert "Access-Accept" in out and 'Filter-Id = "debtors"' in out, out
    assert 'Mikrotik-Address-List = "debtors"' in out
    assert "Mikrotik-Rate-Limit" not in out


def test_mac_binding(radius):
    server, _ = radius
    rc, out = radclient(server.auth_port, "auth",
                        access("dave", "dave-pw", Calling_Station_Id="00-11-22-33-44-55"))
    assert "Access-Accept" in out, out
    rc, out = radclient(server.auth_port, "auth",
                        access("dave", "dave-pw", Calling_Station_Id="66-11-22-33-44-55"))
    assert "Access-Reject" in out and "MAC" in out, out


def test_missing_message_authenticator_dropped(radius):
    server, _ = radius
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw", ma=False),
                        timeout=0.5, retries=1)
    assert rc != 0 and "Access-Accept" not in out and "No reply" in out, out
    assert server.server.stats["dropped"] >= 1


def test_wrong_secret_dropped(radius):
    server, _ = radius
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw"),
                        secret="not-the-secret", timeout=0.5)
    assert rc != 0 and "No reply" in out, out


def test_unknown_nas_dropped_then_known_after_nas_add(radius):
    server, db = radius
    # 127.0.0.2 is not registered; radclient cannot pick its source address,
    # so this one packet is sent with pyrad from a socket bound to it.
    import socket
    from pyrad.packet import AuthPacket
    from portmonet.radius import dictionary
    pkt = AuthPacket(secret=SECRET.encode(), dict=dictionary(), User_Name="alice")
    pkt["User-Password"] = pkt.PwCrypt("alice-pw")
    pkt.add_message_authenticator()
    raw = pkt.RequestPacket()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))
        s.settimeout(0.7)
        s.sendto(raw, ("127.0.0.1", server.auth_port))
        try:
            s.recvfrom(4096)
            answered = True
        except socket.timeout:
            answered = False
        assert not answered
        assert server.server.stats["unknown_nas"] >= 1
        transact(db, lambda r: add_nas(r, Nas("bras2", "127.0.0.2", SECRET, "cisco")),
                 "test", "add bras2")
        server.refresh()
        s.sendto(raw, ("127.0.0.1", server.auth_port))
        data, _ = s.recvfrom(4096)
    reply = pkt.CreateReply(packet=data)
    assert reply.code == 2 and pkt.VerifyReply(reply, data, enforce_ma=True)
    # Cisco gets its AV-pairs for the same tariff.
    assert any("police(10000000)" in v for v in reply["Cisco-AVPair"])


def test_cache_warming_at_start(zeo_db):
    from .conftest import ServerThread, make_subscriber
    transact(zeo_db, lambda r: [add_nas(r, Nas("w", "127.0.0.1", SECRET)),
                                [make_subscriber(r, f"w{i}", "pw") for i in range(1203)]],
             "test", "logins")
    server = ServerThread(zeo_db, radius_warm="true")
    try:
        assert wait_for(lambda: server.server.stats["warmed"] == 1203, 30), server.server.stats
        rc, out = radclient(server.auth_port, "auth", access("w7", "pw"))
        assert "Access-Accept" in out, out
    finally:
        server.stop()

"""MS-CHAP: RFC test vectors; v1 from the real radclient; v2 checked against
a real FreeRADIUS (rlm_mschap) answering the very same request."""
import os
import socket

from pyrad import packet as rp

from portmonet.radius import dictionary, mschap

from .conftest import SECRET, radclient
from .freeradius import FreeRadius


def test_rfc2759_vectors():
    ac = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
    pc = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
    assert mschap.nt_password_hash("clientPass").hex().upper() == "44EBBA8D5312B8D611474411F56989AE"
    nt = mschap.nt_response_v2(ac, pc, b"User", "clientPass")
    assert nt.hex().upper() == "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
    assert mschap.authenticator_response("clientPass", nt, pc, ac, b"User") == \
        "S=407A5589115FD0D6209F510FE9C04566932CDA56"
    assert mschap.md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"


def test_mschap_v1_from_radclient(radius):
    server, _ = radius
    ok = 'User-Name = "alice"\nMS-CHAP-Password = "alice-pw"\nMessage-Authenticator = 0x00\n'
    rc, out = radclient(server.auth_port, "auth", ok)
    assert "MS-CHAP-Response" in out and "Access-Accept" in out, out
    rc, out = radclient(server.auth_port, "auth", ok.replace("alice-pw", "wrong"))
    assert "Access-Reject" in out and "MS-CHAP-Error" in out, out


def v2_request(login, password, secret):
    ac, pc = os.urandom(16), os.urandom(16)
    nt = mschap.nt_response_v2(ac, pc, login.encode(), password)
    pkt = rp.AuthPacket(secret=secret, dict=dictionary(), User_Name=login)
    pkt["MS-CHAP-Challenge"] = ac
    pkt["MS-CHAP2-Response"] = b"\x01\x00" + pc + bytes(8) + nt
    pkt.add_message_authenticator()
    return pkt, pkt.RequestPacket()


def ask(port, raw):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(raw, ("127.0.0.1", port))
        return s.recvfrom(4096)[0]


def test_mschap_v2_same_answer_as_freeradius(radius):
    server, _ = radius
    fr = FreeRadius(SECRET, users=[("alice", "alice-pw", ["Service-Type = Framed-User"])])
    try:
        pkt, raw = v2_request("alice", "alice-pw", SECRET.encode())
        answers = {}
        for name, port in (("freeradius", fr.auth_port), ("portmonet", server.auth_port)):
            data = ask(port, raw)
            reply = pkt.CreateReply(packet=data)
            assert reply.code == rp.AccessAccept, (name, reply.code, fr.log()[-2000:])
            # FreeRADIUS 3.2.1 signs replies only when asked to; Portmonet always.
            assert pkt.VerifyReply(reply, data, enforce_ma=name == "portmonet")
            # Keys are salt-encrypted with the *request* authenticator (RFC 2548).
            keys = [mschap.salt_decrypt(reply.get(code)[0], SECRET.encode(), pkt.authenticator)
                    for code in ((311, 16), (311, 17))]
            answers[name] = (reply.get((311, 26)), keys)
        assert answers["portmonet"] == answers["freeradius"]
        assert all(len(k) == 16 for k in answers["portmonet"][1])
        assert answers["portmonet"][0][0][1:3] == b"S="
        assert answers["portmonet"][1][0] != answers["portmonet"][1][1]

        bad, raw = v2_request("alice", "not-it", SECRET.encode())
        data = ask(server.auth_port, raw)
        reply = bad.CreateReply(packet=data)
        assert reply.code == rp.AccessReject and "E=691" in str(reply["MS-CHAP-Error"][0])
    finally:
        fr.stop()

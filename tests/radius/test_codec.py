"""The lean codec against pyrad's packets (both directions) and garbage."""
import hashlib

from hypothesis import given, settings, strategies as st
from pyrad import packet as rp

from portmonet.radius import codec, dictionary

SECRET = b"codec-secret"


def access_request(password=None, chap=None, challenge=None, **attrs):
    pkt = rp.AuthPacket(secret=SECRET, dict=dictionary(), **attrs)
    if password is not None:
        pkt["User-Password"] = pkt.PwCrypt(password)
    if chap is not None:
        pkt.authenticator = pkt.authenticator or pkt.CreateAuthenticator()
        ident = b"\x07"
        chal = challenge or pkt.authenticator
        if challenge:
            pkt["CHAP-Challenge"] = challenge
        pkt["CHAP-Password"] = ident + hashlib.md5(ident + chap.encode() + chal).digest()
    pkt.add_message_authenticator()
    return pkt, pkt.RequestPacket()


def decoded(raw, secret=SECRET):
    req = codec.decode(raw)
    req.secret = secret
    return req


def test_pap_long_password_and_attributes():
    secret_pw = "a-rather-long-password-over-32-octets!"
    pkt, raw = access_request(secret_pw, User_Name="ivan", Calling_Station_Id="00-11",
                              ADSL_Agent_Circuit_Id="sw1 eth 0/1")
    req = decoded(raw)
    assert req.verify_message_authenticator()
    assert req.text(1) == "ivan" and req.text(31) == "00-11"
    assert req.text((3561, 1)) == "sw1 eth 0/1"
    assert req.pap_password() == secret_pw.encode()
    assert req.password_matches(secret_pw) == (True, "wrong password")
    assert req.password_matches(secret_pw[:-1])[0] is False
    assert not decoded(raw, b"other").verify_message_authenticator()


def test_chap_with_and_without_challenge():
    for challenge in (None, b"0123456789abcdef"):
        _, raw = access_request(chap="chap-pw", challenge=challenge, User_Name="ivan")
        req = decoded(raw)
        assert req.chap_matches(b"chap-pw") and not req.chap_matches(b"chap-px")


def test_reply_verified_by_pyrad():
    pkt, raw = access_request("pw", User_Name="ivan")
    req = decoded(raw)
    enc = codec.AttributeEncoder(dictionary())
    attrs = enc.encode_all([("Service-Type", "Framed-User"), ("Framed-IP-Address", "10.1.2.3"),
                            ("Mikrotik-Rate-Limit", "10M/20M"), ("Session-Timeout", 3600),
                            ("Cisco-AVPair", "ip:x=y")])
    out = codec.encode_reply(codec.ACCESS_ACCEPT, req.id, req.authenticator, SECRET, attrs)
    reply = pkt.CreateReply(packet=out)
    assert pkt.VerifyReply(reply, out, enforce_ma=True)
    assert reply["Framed-IP-Address"] == ["10.1.2.3"]
    assert reply["Mikrotik-Rate-Limit"] == ["10M/20M"]
    assert reply["Session-Timeout"] == [3600] and reply["Cisco-AVPair"] == ["ip:x=y"]
    assert reply["Service-Type"] == ["Framed-User"]


def test_accounting_authenticators():
    pkt = rp.AcctPacket(secret=SECRET, dict=dictionary(), User_Name="ivan",
                        Acct_Session_Id="s1", Acct_Input_Octets=5, Acct_Input_Gigawords=2)
    pkt["Acct-Status-Type"] = "Interim-Update"
    raw = pkt.RequestPacket()
    req = decoded(raw)
    assert req.verify_accounting_authenticator() and not req.message_authenticator
    assert not decoded(raw, b"x").verify_accounting_authenticator()
    out = codec.encode_reply(codec.ACCOUNTING_RESPONSE, req.id, req.authenticator, SECRET,
                             message_authenticator=False)
    assert pkt.VerifyReply(pkt.CreateReply(packet=out), out)
    signed = rp.AcctPacket(secret=SECRET, dict=dictionary(), User_Name="ivan")
    signed["Acct-Status-Type"] = "Start"
    signed.add_message_authenticator()
    req = decoded(signed.RequestPacket())
    assert req.verify_accounting_authenticator() and req.verify_message_authenticator()


def test_padding_after_length_is_ignored():
    _, raw = access_request("pw", User_Name="ivan")
    req = decoded(raw + b"\0" * 10)
    assert req.verify_message_authenticator() and req.pap_password() == b"pw"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_only_raises_codec_error(data):
    try:
        req = codec.decode(data)
    except codec.CodecError:
        return
    req.secret = SECRET
    req.verify_message_authenticator()
    req.verify_accounting_authenticator()
    req.password_matches("x")

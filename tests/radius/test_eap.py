"""EAP-MD5 (RFC 3579 / 3748) with a real supplicant: wpa_supplicant's
``eapol_test`` (package eapoltest) against the in-process server."""
import shutil
import subprocess

from .conftest import SECRET

EAPOL_TEST = shutil.which("eapol_test")
if EAPOL_TEST is None:
    raise RuntimeError("the EAP tests need eapol_test (apt-get install -y eapoltest)")


def eapol(server, tmp_path, identity, password, method="MD5"):
    conf = tmp_path / f"{identity}-{method}.conf"
    conf.write_text(f'network={{\n  key_mgmt=IEEE8021X\n  eap={method}\n'
                    f'  identity="{identity}"\n  password="{password}"\n}}\n')
    proc = subprocess.run([EAPOL_TEST, "-c", str(conf), "-a", "127.0.0.1",
                           "-p", str(server.auth_port), "-s", SECRET, "-t", "5", "-r", "0", "-n"],
                          capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def test_eap_md5_accept_carries_eap_success_and_the_policy_reply(radius, tmp_path):
    server, _ = radius
    rc, out = eapol(server, tmp_path, "alice", "alice-pw")
    assert rc == 0 and "SUCCESS" in out, out
    accept = out.split("code=2 (Access-Accept)")[1]
    assert "CTRL-EVENT-EAP-SUCCESS" in accept
    assert "Framed-IP-Address) length=6\n      Value: 10.0.0.5" in accept
    assert "EAP Success" in accept and "Message-Authenticator" in accept
    assert server.server.stats["eap_challenge"] == 1
    assert server.server.stats["accept"] == 1


def test_eap_md5_wrong_password_and_policy_reject(radius, tmp_path):
    server, db = radius
    rc, out = eapol(server, tmp_path, "alice", "wrong")
    assert rc != 0 and "CTRL-EVENT-EAP-FAILURE" in out, out
    rc, out = eapol(server, tmp_path, "bob", "bob-pw")        # blocked contract
    assert rc != 0 and "CTRL-EVENT-EAP-FAILURE" in out, out
    assert server.server.stats["reject"] == 2 and server.server.stats["accept"] == 0


def test_eap_method_other_than_md5_is_refused(radius, tmp_path):
    server, _ = radius
    rc, out = eapol(server, tmp_path, "alice", "alice-pw", method="GTC")
    assert rc != 0, out
    assert server.server.stats["accept"] == 0 and server.server.stats["reject"] == 1


class FakeRequest:
    def __init__(self, eap_packet, state=None):
        self.attrs = {79: [eap_packet]}
        if state is not None:
            self.attrs[24] = [state]

    def get(self, key, default=None):
        return self.attrs.get(key, default)

    def first(self, key):
        values = self.attrs.get(key)
        return values[0] if values else None


def test_conversation_unit_cases():
    from portmonet.radius import eap
    conv = eap.Conversations()
    ident = eap.packet(eap.RESPONSE, 7, b"\x01alice")
    step = conv.step(FakeRequest(ident), "alice")
    assert step.reply is not None and len(conv.pending) == 1
    state = step.reply[-16:]
    (expires, login, sent, challenge), = conv.pending.values()
    assert login == "alice" and sent == 8
    import hashlib
    good = hashlib.md5(bytes((8,)) + b"pw" + challenge).digest()
    # Another login cannot answer alice's challenge.
    md5 = eap.packet(eap.RESPONSE, 8, bytes((eap.MD5, 16)) + good)
    assert conv.step(FakeRequest(md5, state), "mallory").reject
    # A state is used once.
    assert "unknown" in conv.step(FakeRequest(md5, state), "alice").reject
    step = conv.step(FakeRequest(ident), "alice")
    state = step.reply[-16:]
    (_, _, sent, challenge), = conv.pending.values()
    good = hashlib.md5(bytes((sent,)) + b"pw" + challenge).digest()
    ok = conv.step(FakeRequest(eap.packet(eap.RESPONSE, sent, bytes((eap.MD5, 16)) + good), state),
                   "alice")
    assert ok.reject is None and ok.matches("pw") and not ok.matches("px")
    assert conv.step(FakeRequest(b"\x02\x01"), "alice").reject == "EAP packet shorter than its header"
    assert conv.step(FakeRequest(b"\x02\x01\x00\x50\x01"), "alice").reject == "bad EAP length"
    assert conv.step(FakeRequest(eap.packet(eap.REQUEST, 1, b"\x01x")), "a").reject


def test_eap_md5_with_a_pool_address_and_an_exhausted_pool(radius, tmp_path):
    from portmonet.db import transact
    from portmonet.radius.pools import add_pool
    from .conftest import make_subscriber, read, wait_for
    server, db = radius

    def world(root):
        add_pool(root, "one", "10.40.0.9-10.40.0.9", nas="bras1")
        make_subscriber(root, "frank", "frank-pw", tariff=root["tariffs"]["fast"])
    transact(db, world, "test", "a pool of one address")
    rc, out = eapol(server, tmp_path, "erin", "erin-pw")
    accept = out.split("code=2 (Access-Accept)")[1]
    assert rc == 0 and "Framed-IP-Address) length=6\n      Value: 10.40.0.9" in accept, out
    rc, out = eapol(server, tmp_path, "frank", "frank-pw")    # no address left
    assert rc != 0 and "CTRL-EVENT-EAP-FAILURE" in out.split("code=3 (Access-Reject)")[1], out
    rejects = wait_for(lambda: read(db, lambda r: r.radius.rejects_of("frank")), 10)
    assert [reason for _, reason, _, _ in rejects] == ["IP pool one exhausted"]

"""Accounting-Requests from the real radclient: sessions, Gigawords, usage
records, duplicates, Accounting-On, the simultaneous-session limit."""
from .conftest import access, acct, radclient, read


class Snap:
    """A session's values, read while the connection is open."""

    def __init__(self, session):
        self.__dict__.update({k: getattr(session, k) for k in (
            "online", "login", "framed_ip", "terminate_cause", "octets_in", "octets_out",
            "seconds", "updates", "stop_us", "start_us", "last_us", "session_id")})


def session(db, sid):
    return read(db, lambda r: Snap(r["equipment"]["bras1"].sessions[sid]))


def usage_of(root, login):
    return [r for _, r in root.usage.items() if r.subject == login]


def send(server, text):
    rc, out = radclient(server.acct_port, "acct", text)
    assert rc == 0 and "Accounting-Response" in out, out
    return out


def test_start_interim_stop_with_gigawords(radius):
    server, db = radius
    send(server, acct("Start", "alice", "S1", Framed_IP_Address="10.0.0.5",
                      Calling_Station_Id='"00-aa-bb-cc-dd-ee"'))
    s = session(db, "S1")
    assert s.online and s.login == "alice" and s.framed_ip == "10.0.0.5"
    assert read(db, lambda r: [x.session_id for x in r.radius.online_for("alice")]) == ["S1"]

    # 1 GiB * 4 + 100 octets in, 5000 out, 60 s.
    send(server, acct("Interim-Update", "alice", "S1", Acct_Input_Octets=100,
                      Acct_Input_Gigawords=1, Acct_Output_Octets=5000, Acct_Session_Time=60))
    send(server, acct("Stop", "alice", "S1", Acct_Input_Octets=300, Acct_Input_Gigawords=1,
                      Acct_Output_Octets=9000, Acct_Session_Time=120,
                      Acct_Terminate_Cause="User-Request"))

    def check(root):
        s = Snap(root["equipment"]["bras1"].sessions["S1"])
        records = usage_of(root, "alice")
        return s, records, root.radius.online_for("alice")
    s, records, online = read(db, check)
    assert not s.online and s.terminate_cause == "User-Request" and online == []
    assert s.octets_in == (1 << 32) + 300 and s.octets_out == 9000 and s.seconds == 120
    assert [r.quantities for r in records] == [
        {"octets_in": (1 << 32) + 100, "octets_out": 5000, "seconds": 60},
        {"octets_in": 200, "octets_out": 4000, "seconds": 60}]
    ids = [r.source_id.split(":") for r in records]
    assert [i[2:] for i in ids] == [["bras1", "S1", "1"], ["bras1", "S1", "2"]]
    assert [i[0] for i in ids] == ["radius", "radius"] and int(ids[0][1]) < int(ids[1][1])
    assert int(ids[1][1]) == records[1].end_us
    assert records[0].attrs["ip"] == "10.0.0.5"


def test_duplicates_change_nothing(radius):
    server, db = radius
    start = acct("Start", "erin", "D1")
    interim = acct("Interim-Update", "erin", "D1", Acct_Input_Octets=1000,
                   Acct_Output_Octets=2000, Acct_Session_Time=30)
    send(server, start)
    send(server, interim)
    before = read(db, lambda r: (r._p_jar.db().lastTransaction(), len(usage_of(r, "erin"))))
    # The same packets again (as a NAS retransmits), and radclient -c 3 repeats.
    rc, out = radclient(server.acct_port, "acct", start + "\n" + interim, args=("-c", "3"))
    assert rc == 0 and out.count("Received Accounting-Response") == 6, out
    after = read(db, lambda r: (r._p_jar.db().lastTransaction(), len(usage_of(r, "erin"))))
    assert after[1] == before[1] == 1
    assert after[0] == before[0], "a duplicate must not even write"
    s = session(db, "D1")
    assert (s.octets_in, s.octets_out, s.updates) == (1000, 2000, 1)


def test_interim_without_start_opens_session(radius):
    server, db = radius
    send(server, acct("Interim-Update", "alice", "LATE", Acct_Input_Octets=10,
                      Acct_Output_Octets=20, Acct_Session_Time=600))
    s = session(db, "LATE")
    assert s.online and s.octets_in == 10 and s.stop_us == 0
    assert s.last_us - s.start_us >= 590 * 1_000_000


def test_session_of_someone_else_refused(radius):
    server, db = radius
    send(server, acct("Start", "alice", "X1"))
    rc, out = radclient(server.acct_port, "acct", acct("Stop", "erin", "X1"), timeout=0.5)
    assert "Accounting-Response" not in out
    assert read(db, lambda r: r["equipment"]["bras1"].sessions["X1"].online)


def test_accounting_on_closes_nas_sessions(radius):
    server, db = radius
    send(server, acct("Start", "erin", "E1"))
    send(server, acct("Start", "alice", "A1"))
    assert read(db, lambda r: len(r["equipment"]["bras1"].online)) == 2
    send(server, "Acct-Status-Type = Accounting-On\nNAS-IP-Address = 127.0.0.1\n")
    assert read(db, lambda r: (len(r["equipment"]["bras1"].online), len(r.radius.online_keys()))) == (0, 0)
    assert read(db, lambda r: r["equipment"]["bras1"].sessions["E1"].terminate_cause) == "NAS-Reboot"


def test_simultaneous_sessions_limit(radius):
    server, db = radius
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw"))
    assert "Access-Accept" in out
    send(server, acct("Start", "alice", "L1"))
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw"))
    assert "Access-Reject" in out and "simultaneous sessions limit 1" in out, out
    # erin may have two.
    send(server, acct("Start", "erin", "L2"))
    rc, out = radclient(server.auth_port, "auth", access("erin", "erin-pw"))
    assert "Access-Accept" in out, out
    send(server, acct("Stop", "alice", "L1"))
    rc, out = radclient(server.auth_port, "auth", access("alice", "alice-pw"))
    assert "Access-Accept" in out, out

"""The login index of sessions, and the evolve step that made it."""
from BTrees.OOBTree import OOBTree

from portmonet.ledger.account import now_us
from portmonet.radius import accounting
from portmonet.radius.evolve import merge_login_indexes

from .test_policy_unit import setup


def start(root, nas, sid, login, when, status=accounting.START):
    accounting.apply(root, nas, {"status": status, "when_us": when, "session_id": sid,
                                 "login": login, "octets_in": 0, "octets_out": 0, "seconds": 0,
                                 "framed_ip": "", "mac": "", "port_id": "", "cause": 1})


def test_one_index_answers_online_and_history(root):
    nas, _ = setup(root)
    now = now_us()
    start(root, nas, "a", "u1", now - 3000)
    start(root, nas, "b", "u1", now - 2000)
    start(root, nas, "c", "u2", now - 1000)
    start(root, nas, "a", "u1", now - 500, accounting.STOP)
    state = root.radius
    assert state.online_count("u1") == 1 and state.online_count("u2") == 1
    assert [s.session_id for s in state.online_for("u1")] == ["b"]
    assert [s.session_id for s in state.sessions_of("u1")] == ["b", "a"]
    assert [s.session_id for s in state.sessions_of("u1", since_us=now - 2500)] == ["b"]
    assert [s.session_id for s in state.sessions_of("u1", until_us=now - 2500)] == ["a"]
    assert len(state.online_keys()) == 2
    assert nas.sessions["b"].__name__ == "b" and "__name__" not in nas.sessions["b"].__dict__


def test_evolve_merges_the_old_online_and_history_indexes(root):
    nas, _ = setup(root)
    now = now_us()
    start(root, nas, "a", "u1", now - 3000)
    start(root, nas, "b", "u1", now - 2000)
    start(root, nas, "a", "u1", now - 500, accounting.STOP)
    a, b = nas.sessions["a"], nas.sessions["b"]
    state = root.radius
    # The shape before 2026-11-25-radius-02.
    state.by_login = None
    state.online = OOBTree({("u1", "n1", "b"): b})
    state.history = OOBTree({("u1", a.start_us, "n1", "a"): a, ("u1", b.start_us, "n1", "b"): b})
    merge_login_indexes(root)
    assert "online" not in state.__dict__ and "history" not in state.__dict__
    assert [s.session_id for s in state.online_for("u1")] == ["b"]
    assert [s.session_id for s in state.sessions_of("u1")] == ["b", "a"]
    merge_login_indexes(root)          # idempotent
    assert len(state.by_login) == 2

"""The history of every change, read back from ZODB: who, when, what.

``db.history(oid)`` lists an object's revisions with the transaction's user
and note; opening a historical connection at each revision gives the
object's state then, and comparing neighbours says which fields changed.
Secrets are never shown, only that they changed.
"""
import base64

from persistent import Persistent

from .. import clock

SECRET_MARKS = ("password", "_identity", "secret")


def _is_secret(name):
    return any(mark in name for mark in SECRET_MARKS)


def _show(name, value):
    if _is_secret(name):
        return "•••"
    if isinstance(value, Persistent):
        return f"<{type(value).__name__}>"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _state(db, oid, tid):
    conn = db.open(at=tid)
    try:
        obj = conn.get(oid)
        obj._p_activate()
        state = obj.__getstate__()
        if isinstance(state, tuple):          # (dict, slots)
            state = state[0] or {}
        return dict(state) if isinstance(state, dict) else {}
    finally:
        conn.close()


def undo_id(tid):
    """The id storages' ``undo`` expects for a transaction (FileStorage, ZEO)."""
    return base64.encodebytes(tid).rstrip().decode("ascii")


def object_history(obj, size=10, diff=True):
    """[{'when', 'user', 'note', 'tid', 'undo_id', 'title', 'changes'}], newest first."""
    jar = getattr(obj, "_p_jar", None)
    if jar is None or obj._p_oid is None:
        return []
    db = jar.db()
    try:
        revisions = db.history(obj._p_oid, size=size)
    except Exception:           # a storage without history
        return []
    rows = []
    states = [(_state(db, obj._p_oid, r["tid"]) if diff else None) for r in revisions]
    for i, rev in enumerate(revisions):
        changes = []
        if diff:
            new = states[i]
            old = states[i + 1] if i + 1 < len(states) else None
            if old is None and i + 1 >= len(revisions) and len(revisions) < size:
                changes = [("(created)", "", "")]
            elif old is not None:
                for name in sorted(set(new) | set(old)):
                    if new.get(name, None) is not old.get(name, None) and \
                            _differs(new.get(name), old.get(name)):
                        changes.append((name, _show(name, old.get(name)), _show(name, new.get(name))))
        rows.append({
            "when": clock.local(int(rev["time"] * 1e6)),
            "user": rev.get("user_name", "") or "",
            "note": rev.get("description", "") or "",
            "tid": rev["tid"],
            "undo_id": undo_id(rev["tid"]),
            "title": getattr(obj, "title", type(obj).__name__),
            "changes": changes,
        })
    return rows


def _differs(a, b):
    if isinstance(a, Persistent) or isinstance(b, Persistent):
        return getattr(a, "_p_oid", a) != getattr(b, "_p_oid", b)
    try:
        return a != b
    except Exception:
        return True


def merged_history(objects, size=20):
    rows = []
    for obj in objects:
        rows.extend(object_history(obj, size=size))
    rows.sort(key=lambda r: r["tid"], reverse=True)
    return rows[:size]

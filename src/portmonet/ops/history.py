"""The history of one object from ZODB's transaction records: who, when,
why (the transaction's user and note) and which attributes changed."""
import hashlib

from persistent import Persistent
from ZODB.utils import p64, u64
from .. import clock

SECRET_FIELDS = {"_password", "_identity", "password_hash"}


def _short(value, width=80):
    if isinstance(value, Persistent):
        text = f"<{type(value).__name__} {getattr(value, '__name__', '')} oid={u64(value._p_oid) if value._p_oid else '?'}>"
    elif isinstance(value, tuple) and len(value) > 5:
        text = f"({len(value)} items)"
    else:
        text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def _secret(value):
    """Never the secret itself: a digest of the stored (encrypted or hashed)
    value, enough to tell that it changed."""
    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode()
    return "secret#" + hashlib.sha256(data).hexdigest()[:8]


def _state(db, oid, tid):
    """The object's attributes as they were at *tid*, as short texts."""
    conn = db.open(at=tid)
    try:
        obj = conn.get(oid)
        state = obj.__getstate__()
        state = state if isinstance(state, dict) else {"state": state}
        return {name: _secret(value) if name in SECRET_FIELDS else _short(value)
                for name, value in state.items()}
    finally:
        conn.close()


def object_history(db, obj, limit=20):
    """[{time, user, note, tid, changes: [(name, old, new)]}], newest first."""
    oid = obj._p_oid
    records = db.history(oid, size=limit + 1) or []
    entries = []
    states = [_state(db, oid, r["tid"]) for r in records]
    for i, record in enumerate(records[:limit]):
        new = states[i]
        old = states[i + 1] if i + 1 < len(states) else {}
        changes = []
        for name in sorted(set(old) | set(new)):
            before, after = old.get(name), new.get(name)
            if before == after:
                continue
            if name in SECRET_FIELDS:
                changes.append((name, "(secret)", "(secret, changed)" if after else "(removed)"))
            else:
                changes.append((name, before, after))
        user = record.get("user_name", b"")
        note = record.get("description", b"")
        entries.append({
            "time": clock.local(int(record["time"] * 1e6)),
            "user": user.decode("utf-8", "replace") if isinstance(user, bytes) else user,
            "note": note.decode("utf-8", "replace") if isinstance(note, bytes) else note,
            "tid": "0x%016x" % u64(record["tid"]),
            "changes": changes,
        })
    return entries


def oid_of(text):
    return p64(int(text, 0))

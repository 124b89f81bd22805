"""Sign-in sessions kept on the server, so that ending one ends it for
every copy of its cookie.

The browser's signed session cookie carries a random session id; the
database keeps only its SHA-256 (``root.web_sessions``), with who signed
in, when, and when the session was last seen.  A request's sign-in counts
only while its id is in the book: logging out, changing a password,
disabling an employee or staying idle past ``portmonet.session_idle``
seconds (or signed in past ``portmonet.session_max_age``) removes it, and
a copied cookie stops working at once, in every web process.

"Last seen" is written at most once a minute per session, so a page view
rarely writes.  The book's trees are keyed by random digests: concurrent
sign-ins merge in their buckets instead of conflicting.
"""
import hashlib
import itertools
import secrets

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

TOUCH_US = 60 * 1_000_000          # "last seen" is rewritten at most this often
PURGE_PER_OPEN = 20                # expired sessions removed per sign-in


def digest(sid):
    return hashlib.sha256(sid.encode("ascii", "replace")).hexdigest()


class SessionBook(Persistent):
    """``root.web_sessions``: the live sign-in sessions."""

    __name__ = "web_sessions"
    __parent__ = None

    def __init__(self):
        self.live = OOBTree()          # digest -> (userid, created_us, seen_us)
        self.by_user = OOTreeSet()     # (userid, digest)
        self.by_age = OOTreeSet()      # (created_us, digest)

    def open(self, userid, now_us, max_age_us):
        """A new session of *userid*; returns its id (for the cookie only)."""
        self.purge(now_us, max_age_us, PURGE_PER_OPEN)
        sid = secrets.token_urlsafe(32)
        key = digest(sid)
        self.live[key] = (userid, now_us, now_us)
        self.by_user.add((userid, key))
        self.by_age.add((now_us, key))
        return sid

    def check(self, sid, userid, now_us, idle_us, max_age_us):
        """True if *sid* is a live session of *userid*; an expired one is
        removed, a live one's "last seen" is refreshed now and then."""
        if not sid or not isinstance(sid, str):
            return False
        key = digest(sid)
        held = self.live.get(key)
        if held is None:
            return False
        who, created, seen = held
        if who != userid:
            return False
        if now_us - seen > idle_us or now_us - created > max_age_us:
            self._remove(key)
            return False
        if now_us - seen > TOUCH_US:
            self.live[key] = (who, created, now_us)
        return True

    def close(self, sid):
        if sid and isinstance(sid, str):
            self._remove(digest(sid))

    def close_all(self, userid, keep=None):
        """End every session of *userid* (but the one with id *keep*)."""
        spared = digest(keep) if keep else None
        for _, key in list(self.by_user.keys((userid, ""), (userid, "\uffff"))):
            if key != spared:
                self._remove(key)

    def sessions_of(self, userid):
        return [self.live[key] for _, key in self.by_user.keys((userid, ""), (userid, "\uffff"))
                if key in self.live]

    def purge(self, now_us, max_age_us, limit):
        """Remove up to *limit* sessions signed in longer than *max_age_us* ago."""
        old = list(itertools.islice(self.by_age.keys(max=(now_us - max_age_us, "\uffff")), limit))
        for _, key in old:
            self._remove(key)
        return len(old)

    def _remove(self, key):
        held = self.live.pop(key, None)
        if held is not None:
            self.by_user.remove((held[0], key))
            self.by_age.remove((held[1], key))

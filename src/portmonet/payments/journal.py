"""The raw request journal: every request a channel receives, stored as it
came, in a transaction of its own committed *before* the request is
processed; so nothing sent to Portmonet is lost when processing fails.

Entries are keyed by time (with random low bits, so concurrent writers do
not pick the same key) and indexed by ``(agent, external id)``.
"""
import random
import re

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOTreeSet
from persistent import Persistent
from zope.interface import implementer

from .clock import now_us
from .interfaces import IJournal

_random = random.SystemRandom()
MAX_BODY = 64 * 1024
# Never keep a secret in the journal, even one a client sent by mistake.
_SECRET_PARAM = re.compile(r"((?:^|&)(?:password|pin|secret|pwd)=)[^&]*", re.I)
KEPT_HEADERS = ("content-type", "user-agent", "x-portmonet-timestamp",
                "x-portmonet-signature", "idempotency-key", "x-forwarded-for")


def mask_secrets(text):
    return _SECRET_PARAM.sub(r"\1***", text or "")


class Entry(Persistent):
    """One raw request and, once processed, its outcome."""

    status = "received"       # received, done, rejected, error
    outcome = ""
    ext_id = ""
    done_us = 0

    def __init__(self, key, received_us, channel, agent, remote, method, path,
                 query, body, headers):
        self.key = key
        self.received_us = received_us
        self.channel = channel
        self.agent = agent
        self.remote = remote
        self.method = method
        self.path = path
        self.query = mask_secrets(query)
        self.body = bytes(body[:MAX_BODY])
        self.truncated = len(body) > MAX_BODY
        self.headers = tuple(headers)

    def text(self):
        return self.body.decode("utf-8", "replace")


@implementer(IJournal)
class Journal(Persistent):
    __name__ = "journal"
    __parent__ = None
    title = "Request journal"

    def __init__(self):
        self.entries = LOBTree()
        self.by_ext = OOTreeSet()      # (agent, ext_id, key)

    def record(self, channel, agent, remote, method, path, query="", body=b"",
               headers=(), ext_id=""):
        headers = list(headers)
        form = any(k.lower() == "content-type" and v.startswith("application/x-www-form-urlencoded")
                   for k, v in headers)
        if form:        # a form's PIN or password stays out of the journal too
            body = mask_secrets(bytes(body).decode("utf-8", "replace")).encode("utf-8")
        received = now_us()
        key = (received << 8) | _random.getrandbits(8)
        while key in self.entries:
            key += 1
        entry = Entry(key, received, channel, agent, remote, method, path, query, body,
                      [(k, v) for k, v in headers if k.lower() in KEPT_HEADERS])
        self.entries[key] = entry
        if ext_id:
            self.set_ext_id(entry, ext_id)
        return entry

    def set_ext_id(self, entry, ext_id):
        entry.ext_id = str(ext_id)[:100]
        self.by_ext.add((entry.agent, entry.ext_id, entry.key))

    def finish(self, key, status, outcome, ext_id=None):
        entry = self.entries[key]
        entry.status = status
        entry.outcome = str(outcome)[:1000]
        entry.done_us = now_us()
        if ext_id and not entry.ext_id:
            self.set_ext_id(entry, ext_id)
        return entry

    def get(self, key):
        return self.entries.get(key)

    def for_ext_id(self, agent, ext_id):
        ext_id = str(ext_id)
        return [self.entries[k] for (_, _, k) in
                self.by_ext.keys((agent, ext_id, 0), (agent, ext_id, 2 ** 63 - 1))]

    def search(self, channel=None, agent=None, status=None, text=None,
               start_us=None, end_us=None, limit=100):
        """Newest first; *text* is looked for in the query, body and outcome."""
        lo = None if start_us is None else start_us << 8
        hi = None if end_us is None else (end_us << 8) - 1
        needle = (text or "").lower()
        out = []
        for entry in self._newest_first(lo, hi):
            if channel and entry.channel != channel:
                continue
            if agent and entry.agent != agent:
                continue
            if status and entry.status != status:
                continue
            if needle and needle not in (entry.query + entry.text() + entry.outcome
                                         + entry.ext_id).lower():
                continue
            out.append(entry)
            if len(out) >= limit:
                break
        return out

    def _newest_first(self, lo, hi):
        # maxKey(k) is a logarithmic step back, so a search near "now" costs
        # what it finds, not the size of the journal.
        tree = self.entries
        hi = tree.maxKey() if hi is None and tree else hi
        while tree and hi is not None:
            try:
                key = tree.maxKey(hi)
            except ValueError:
                return
            if lo is not None and key < lo:
                return
            yield tree[key]
            hi = key - 1

"""The raw request journal: every request a channel receives, stored as it
came, so nothing sent to Portmonet is lost when processing fails.

An entry is a small immutable record kept *in* the journal's BTree bucket
(no persistent object of its own): adding one writes one bucket, and
concurrent writers' inserts into a bucket merge.  Keys are the receive time
in microseconds with random low bits, so concurrent writers do not pick the
same key.  A large body (a bank statement) is kept apart in a
persistent :class:`Body`, so the bucket stays small.  Entries are indexed
by ``(agent, external id)``.

Entries written by older releases are persistent :class:`Entry` objects
with the same attributes; both are read alike.
"""
import random
from collections import namedtuple

from BTrees.LOBTree import LOBTree
from persistent import Persistent
from zope.interface import implementer

from ..masking import mask_bytes, mask_text
from .clock import now_us
from .interfaces import IJournal
from .trees import AppendLOBTree, AppendOOTreeSet

_random = random.SystemRandom()
MAX_BODY = 64 * 1024
# A body up to this size stays in the record; a larger one gets a Body object.
INLINE_BODY = 2048
KEPT_HEADERS = ("content-type", "user-agent", "x-portmonet-timestamp",
                "x-portmonet-signature", "idempotency-key", "x-forwarded-for")
# Outcomes nobody has settled: purging keeps them (a difference to explain).
UNSETTLED = ("received", "error")


_FIELDS = ("key received_us channel agent remote method path query body headers "
           "truncated ext_id status outcome done_us big")


class Record(namedtuple("Record", _FIELDS)):
    """One raw request and its outcome: immutable, compared by value (so
    BTrees can merge two writers' buckets on the ZEO server)."""

    __slots__ = ()

    def text(self):
        return self.body.decode("utf-8", "replace")


class Body(Persistent):
    """A large request body, outside the journal's buckets."""

    def __init__(self, data):
        self.data = bytes(data)


class Entry(Persistent):
    """An entry as older releases stored it (read, finished, never made)."""

    status = "received"
    outcome = ""
    ext_id = ""
    done_us = 0
    big = False

    def text(self):
        return self.body.decode("utf-8", "replace")


@implementer(IJournal)
class Journal(Persistent):
    __name__ = "journal"
    __parent__ = None
    title = "Request journal"
    bodies = None                  # key -> Body, made on the first large body

    def __init__(self):
        self.entries = AppendLOBTree()
        self.by_ext = AppendOOTreeSet()      # (agent, ext_id, key)

    def new_key(self, received):
        key = (received << 8) | _random.getrandbits(8)
        while key in self.entries:
            key += 1
        return key

    def record(self, channel, agent, remote, method, path, query="", body=b"",
               headers=(), ext_id="", status="received", outcome="", received_us=None):
        """Store a request (and, when known already, its outcome); returns the record."""
        headers = list(headers)
        # Never keep a secret, even one a client sent by mistake: whatever
        # the body's type (form, multipart, JSON, XML), its PINs, passwords,
        # CSRF tokens and card numbers are masked (portmonet.masking).
        body = mask_bytes(bytes(body or b"")[:MAX_BODY + 4096])
        received = now_us() if received_us is None else received_us
        key = self.new_key(received)
        truncated = len(body) > MAX_BODY
        body = body[:MAX_BODY]
        big = len(body) > INLINE_BODY
        if big:
            if self.bodies is None:
                self.bodies = LOBTree()
            self.bodies[key] = Body(body)
            body = b""
        ext_id = str(ext_id or "")[:100]
        entry = Record(key, received, channel, agent, remote, method, path,
                       mask_text(query), body,
                       tuple((k, mask_text(v)) for k, v in headers if k.lower() in KEPT_HEADERS),
                       truncated, ext_id, status, str(outcome)[:1000],
                       0 if status == "received" else now_us(), big)
        self.entries[key] = entry
        if ext_id:
            self.by_ext.add((agent, ext_id, key))
        return entry

    def finish(self, key, status, outcome, ext_id=None):
        entry = self.entries[key]
        outcome = str(outcome)[:1000]
        if isinstance(entry, Entry):
            entry.status, entry.outcome, entry.done_us = status, outcome, now_us()
        else:
            entry = self.entries[key] = entry._replace(
                status=status, outcome=outcome, done_us=now_us())
        if ext_id and not entry.ext_id:
            ext_id = str(ext_id)[:100]
            if isinstance(entry, Entry):
                entry.ext_id = ext_id
            else:
                entry = self.entries[key] = entry._replace(ext_id=ext_id)
            self.by_ext.add((entry.agent, ext_id, key))
        return entry

    def get(self, key):
        return self.entries.get(key)

    def text(self, entry):
        """The whole body of an entry as text (also a large one)."""
        if entry.big and self.bodies is not None and entry.key in self.bodies:
            return self.bodies[entry.key].data.decode("utf-8", "replace")
        return entry.text()

    def for_ext_id(self, agent, ext_id):
        ext_id = str(ext_id)
        return [self.entries[k] for (_, _, k) in
                self.by_ext.keys((agent, ext_id, 0), (agent, ext_id, 2 ** 63 - 1))
                if k in self.entries]

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
            if needle and needle not in (entry.query + self.text(entry) + entry.outcome
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

    def purge(self, before_us, limit, after=None):
        """Remove up to *limit* settled entries received before *before_us*,
        oldest first, from the key after *after* on; returns
        ``(removed, kept, next_after)`` (``next_after`` None when done).

        Entries without a settled outcome (``received``, ``error``) are
        kept: they may explain a difference reconciliation finds.  What
        reconciliation itself compares (the register and the ledger) is not
        in the journal and is not touched.
        """
        hi = (before_us << 8) - 1
        lo = None if after is None else after + 1
        kept = 0
        last = None
        doomed = []
        for key, entry in self.entries.items(lo, hi):
            if len(doomed) + kept >= limit:
                break
            last = key
            if entry.status in UNSETTLED:
                kept += 1
            else:
                doomed.append((key, entry))
        for key, entry in doomed:
            del self.entries[key]
            if entry.ext_id and (entry.agent, entry.ext_id, key) in self.by_ext:
                self.by_ext.remove((entry.agent, entry.ext_id, key))
            if entry.big and self.bodies is not None:
                self.bodies.pop(key, None)
        more = len(doomed) + kept >= limit
        return len(doomed), kept, (last if more else None)

"""One channel's loop in ``portmonet notify``: read what is due, send it
outside any transaction, record the results in one short transaction.

1. read: the due messages of the channel (``outbox.due``), each composed
   (recipient, texts, attachments) or decided (skip, defer, give up);
   the transaction is aborted: nothing is written;
2. send: each message to the far end, at the channel's rate; a message the
   far end accepted is written to the journal at once (``journal.py``);
3. record: one transaction marks the batch (sent, failed with a retry
   time that doubles, given up, skipped, deferred), delivers office
   messages, indexes SMS ids for receipts and counts mailings; then the
   journal is emptied.

Only committed messages are seen (the outbox is in the database), so
nothing goes out before the deciding transaction committed; a message
is recorded only after it was sent, so a crash never loses one; the
journal keeps a restart from sending again what the far end had taken.
"""
import itertools
import logging
import random
from concurrent.futures import ThreadPoolExecutor

from ZODB.POSException import ConflictError

from .. import clock
from ..db import connection
from ..model.root import get_root
from ..outbox import MAX_SLOT, SETTLED
from ..web.helpers import prefetch, prefetch_keys
from ..txn import describe
from . import receipts
from .compose import Envelope, compose
from .ratelimit import RateLimit

log = logging.getLogger(__name__)
USER = "portmonet notify"


def backoff(settings, attempts):
    """Seconds to the next try after *attempts* failures: doubling, capped,
    with a little jitter so a recovered gateway is not hit all at once."""
    base = min(settings.retry_max, settings.retry_base * 2 ** max(attempts, 0))
    return max(1, int(base * random.uniform(0.8, 1.0)))


class ChannelWorker:
    def __init__(self, db, channel, sender, settings, journal=None, stop=None):
        """*sender*: one sender, or a list of them (each with a connection of
        its own: ``notify.mail.connections``), which send a batch together."""
        self.db = db
        self.channel = channel
        self.senders = list(sender) if isinstance(sender, (list, tuple)) else [sender]
        self.sender = self.senders[0]
        self.settings = settings
        self.journal = journal
        self.stop = stop
        rate = settings.rates.get(channel, 0) / len(self.senders)
        self.limits = [RateLimit(rate) for _ in self.senders]
        self.pool = ThreadPoolExecutor(len(self.senders)) if len(self.senders) > 1 else None
        self.stats = {"sent": 0, "failed": 0, "given-up": 0, "skipped": 0, "deferred": 0}

    # -- the three steps ------------------------------------------------------
    def collect(self, conn, tm, now_us=None):
        tm.begin()
        root = get_root(conn.root())
        now = clock.now_us() if now_us is None else now_us
        try:
            messages = self._due(root, now)
            return [(m.key, compose(root, m, self.settings, now)) for m in messages]
        finally:
            tm.abort()

    def _due(self, root, now):
        """The due messages, their subscribers fetched from ZEO in a few
        round trips instead of one per object."""
        outbox = root.outbox
        ahead = outbox.pending.values((self.channel, 0), (self.channel, MAX_SLOT))
        prefetch(list(itertools.islice(ahead, self.settings.batch)))
        messages = outbox.due(self.channel, limit=self.settings.batch, now=now)
        tree = root["subscribers"].data
        ids = [m.payload.get("subscriber") for m in messages]
        ids = [sid for sid in ids if isinstance(sid, int)]
        prefetch_keys((tree, sid) for sid in ids)
        prefetch([tree.get(sid) for sid in ids])
        return messages

    def send(self, items):
        decided = [(key, item) for key, item in items if not isinstance(item, Envelope)]
        ready = [(key, item) for key, item in items if isinstance(item, Envelope)]
        if self.pool is None:
            return decided + self._send_with(0, ready)
        count = len(self.senders)
        shares = self.pool.map(self._send_with, range(count),
                               [ready[i::count] for i in range(count)])
        return decided + [result for share in shares for result in share]

    def _send_with(self, index, envelopes):
        sender, limit = self.senders[index], self.limits[index]
        results = []
        for key, envelope in envelopes:
            if self.stop is not None and self.stop.is_set():
                break                         # not sent: still due after a restart
            limit.wait()
            outcome = sender.send(envelope)
            if outcome.state == "sent" and self.journal is not None:
                self.journal.append(key, outcome.text, outcome.ext_id)
            results.append((key, outcome))
        return results

    def record(self, conn, tm, results, attempts=10):
        for attempt in range(attempts):
            try:
                txn = tm.begin()
                describe(txn, USER, f"{self.channel}: {len(results)} messages")
                root = get_root(conn.root())
                for key, outcome in results:
                    self._apply(root, key, outcome)
                tm.commit()
                break
            except ConflictError:
                tm.abort()
                if attempt == attempts - 1:
                    raise
        if self.journal is not None:
            self.journal.clear()
        for _key, outcome in results:
            self.stats[outcome.state] = self.stats.get(outcome.state, 0) + 1

    def _apply(self, root, key, outcome):
        message = root.outbox.keys.get(key)
        if message is None or message.state in SETTLED:
            return
        state = outcome.state
        if state == "sent":
            if outcome.apply is not None:
                outcome.apply(root)
            message.sent(outcome.text)
            receipts.remember(root, getattr(self.sender, "gateway", self.channel),
                              outcome.ext_id, key)
        elif state == "failed":
            message.failed(outcome.text, retry_in_s=backoff(self.settings, message.attempts),
                           max_attempts=self.settings.max_attempts)
        elif state == "given-up":
            message.give_up(outcome.text)
        elif state == "skipped":
            message.skipped(outcome.text)
        elif state == "deferred":
            message.deferred(outcome.until_us, outcome.text)
        mailing = message.payload.get("mailing")
        if mailing is not None and message.state in SETTLED:
            found = root["notify"].get(str(mailing))
            if found is not None:
                found.count(message.state)

    # -- the loop -------------------------------------------------------------
    def replay(self):
        """What the journal says was sent before a crash: recorded, not sent again."""
        if self.journal is None:
            return 0
        entries = self.journal.entries()
        if not entries:
            return 0
        from .compose import Outcome
        results = [(key, Outcome("sent", f"{text} (recorded from the journal)", ext_id=ext))
                   for key, (text, ext) in entries.items()]
        with connection(self.db) as (conn, tm):
            self.record(conn, tm, results)
        log.info("%s: %d messages the far end had accepted recorded from the journal",
                 self.channel, len(results))
        return len(results)

    def step(self, conn, tm):
        if self.journal is not None and self.journal.pending():
            self.replay()            # the last record failed: those are sent, not due
        items = self.collect(conn, tm)
        if items:
            self.record(conn, tm, self.send(items))
        self.take_receipts(conn, tm)
        conn.cacheGC()
        return len(items)

    def take_receipts(self, conn, tm, wait=0.0):
        take = getattr(self.sender, "take_receipts", None)
        got = take(wait) if take is not None else []
        if not got:
            return 0
        for attempt in tm.attempts(10):
            with attempt as txn:
                describe(txn, USER, f"{len(got)} delivery receipts")
                root = get_root(conn.root())
                for ext_id, stat in got:
                    receipts.record(root, self.sender.gateway, ext_id, stat)
        return len(got)

    def run(self, stop):
        self.stop = stop
        self.replay()
        with connection(self.db) as (conn, tm):
            while not stop.is_set():
                try:
                    done = self.step(conn, tm)
                except Exception:
                    log.exception("%s: the batch failed; trying again", self.channel)
                    tm.abort()
                    done = 0
                if not done:
                    if self.channel == "mail":
                        self.close()          # no letter waiting: let the SMTP server go
                    if self.take_receipts(conn, tm, wait=0) == 0:
                        stop.wait(self.settings.poll)
        self.close()
        if self.pool is not None:
            self.pool.shutdown()

    def close(self):
        for sender in self.senders:
            sender.close()

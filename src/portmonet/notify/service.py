"""The ``portmonet notify`` process: a thread per channel (its own
connection, sender and journal) and the main thread for the notices the
notifier makes itself (invoices, promises) and mass mailings."""
import logging
import os
import threading
import time

from ..db import connection
from ..model.root import get_root
from ..txn import describe
from . import mailing as mailings, sources
from .journal import Journal
from .mail import SmtpSender
from .office import OfficeSender
from .sms import sender as sms_sender
from .worker import ChannelWorker

log = logging.getLogger(__name__)
USER = "portmonet notify"


def make_sender(channel, settings):
    if channel == "mail":
        return [SmtpSender(settings) for _ in range(settings.mail_connections)]
    if channel == "sms":
        return sms_sender(settings)
    if channel == "office":
        return OfficeSender()
    # Telegram, push: a sender with send(envelope) -> Outcome and close()
    # (docs/notifications.md, "Adding a channel").
    raise ValueError(f"unknown channel {channel!r}")


def workers(db, settings, stop):
    out = []
    for channel in settings.channels:
        journal = None
        if channel != "office":            # the office is written in the record itself
            journal = Journal(os.path.join(settings.journal_dir, f"notify-{channel}.journal"),
                              fsync=settings.raw.get("notify.journal_fsync", "") == "true")
        out.append(ChannelWorker(db, channel, make_sender(channel, settings), settings,
                                 journal, stop))
    return out


class Housekeeping:
    """The main thread's own work: invoice notices, promise-ending notices
    (every ten minutes), mass mailings' expansion."""

    PROMISES_EVERY = 600

    def __init__(self, db, settings):
        self.db = db
        self.settings = settings
        self.promises_at = None

    def run_once(self):
        """One pass; returns the messages queued."""
        due = self.promises_at is None or \
            time.monotonic() - self.promises_at > self.PROMISES_EVERY
        with connection(self.db) as (conn, tm):
            for attempt in tm.attempts(10):
                with attempt as txn:
                    describe(txn, USER, "invoices, promises and mailings")
                    root = get_root(conn.root())
                    notify = root["notify"]
                    queued = sources.invoices(root, notify)
                    if due:
                        queued += sources.promises_ending(root)
                    for mailing in list(notify.values()):
                        queued += mailings.expand(root, mailing, self.settings.mailing_window)
                        mailings.finish(mailing)
        if due:
            self.promises_at = time.monotonic()
        return queued


def idle(db, channels):
    """Nothing due on any channel and no mailing expanding."""
    with connection(db) as (conn, tm):
        root = get_root(conn.root())
        if any(root.outbox.due(ch, limit=1) for ch in channels):
            return False
        return not any(m.state == "sending" for m in root["notify"].values())


def run(db, settings, until_idle=False, stop=None):
    stop = stop or threading.Event()
    log.info("notifier: channels %s, settings %s", ", ".join(settings.channels), settings.shown())
    running = workers(db, settings, stop)
    threads = [threading.Thread(target=w.run, args=(stop,), name=f"notify-{w.channel}",
                                daemon=True) for w in running]
    for t in threads:
        t.start()
    housekeeping = Housekeeping(db, settings)
    try:
        while not stop.is_set():
            try:
                queued = housekeeping.run_once()
            except Exception:
                log.exception("notifier: housekeeping failed; trying again")
                queued = 0
            if until_idle and not queued and idle(db, settings.channels):
                time.sleep(settings.poll * 2)      # the workers' last record
                if idle(db, settings.channels):
                    break
            stop.wait(settings.poll)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        for w in running:
            if w.journal is not None:
                w.journal.close()
    return {w.channel: w.stats for w in running}

"""``portmonet flows``: the NetFlow v5/v9/IPFIX collector process.

The main thread reads the UDP socket in bursts, drops packets of unknown
exporters and duplicated datagrams, decodes (:mod:`.decode`), attributes
and sums flows into the current window (:mod:`.window`) on a read-only
connection.  Every ``flows.window`` seconds the window is handed to the
committer thread, which writes it in small transactions (:mod:`.store`);
the main thread starts a new window on a fresh transaction (new sessions,
exporters, classes and networks are seen from then on).  SIGTERM/SIGINT:
the window is committed and the process stops.  A kill -9 loses the
window being filled and one being committed, nothing more, and counts
nothing twice (``docs/traffic.md``).
"""
import collections
import logging
import os
import queue
import select
import socket
import threading
import time

import transaction
from ZODB.POSException import ConflictError

from ..lograte import Limited, truthy as _bool
from ..model.root import get_root
from ..txn import describe
from .attribution import AddressBook, warm
from .classes import ClassTable, table_of
from .decode import Decoder, DecodeError
from .store import parts, write_errors, write_part
from .window import Window, count_flows

log = logging.getLogger(__name__)

USER = "portmonet flows"
BURST = 512
MAX_UNKNOWN_SOURCES = 100      # distinct unknown sources counted by name per window


class Config:
    def __init__(self, settings):
        get = settings.get
        self.bind = get("flows.bind", "0.0.0.0")
        self.port = int(get("flows.port", 2055))
        self.window = float(get("flows.window", 60))
        # the time one usage record covers: a minute, or more to write fewer
        self.span_ms = int(float(get("flows.span", 60)) * 1000)
        if self.span_ms < 1000 or 3_600_000 % self.span_ms:
            raise ValueError("flows.span: seconds that divide an hour (60, 300, 900, ...)")
        self.template_wait = float(get("flows.template_wait", 30))
        self.reuse_port = _bool(get("flows.reuse_port", "false"))
        self.cache_size = int(get("flows.cache_size", 400_000))
        self.backlog = int(get("flows.backlog", 10))      # windows waiting for their commit
        # load the static addresses' services and the sessions at start
        self.warm = _bool(get("flows.warm", "true"))
        forward = (get("flows.forward") or "").strip()    # host:port of a second collector
        self.forward = None
        if forward:
            host, _, port = forward.rpartition(":")
            self.forward = (host, int(port))


class ExporterEntry:
    __slots__ = ("name", "nas", "sampling")

    def __init__(self, exporter):
        self.name, self.nas, self.sampling = exporter.name, exporter.nas, exporter.sampling


class Collector:

    def __init__(self, db, settings):
        self.db = db
        self.config = Config(settings)
        db.setCacheSize(self.config.cache_size)
        self.instance = f"{int(time.time()):x}-{os.getpid():x}-{os.urandom(3).hex()}"
        self.stats = collections.Counter()
        self.errors = collections.Counter()
        self.limited = Limited(log)
        self.decoder = Decoder(self.config.template_wait, self._report)
        self.book = AddressBook(int(self.config.window * 2_000_000))
        self.classes = ClassTable()
        self.exporters = {}            # address -> ExporterEntry
        self._exporters_serial = None
        self.unknown_sources = set()
        self.recent, self.older = set(), set()
        self.windows = queue.Queue(maxsize=self.config.backlog)
        self.sock = None
        self.port = None
        self.number = 0
        self.window = Window(0, self.config.span_ms)
        self.conn = self.tm = None

    # -- the socket and the read transaction ---------------------------------
    def open(self):
        family = socket.AF_INET6 if ":" in self.config.bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        if self.config.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind((self.config.bind, self.config.port))
        sock.setblocking(False)
        self.sock, self.port = sock, sock.getsockname()[1]
        self.forward_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) \
            if self.config.forward else None
        self.tm = transaction.TransactionManager()
        self.conn = self.db.open(transaction_manager=self.tm)
        self._refresh()
        if self.config.warm:
            # the socket is bound: the kernel keeps what comes meanwhile
            started = time.monotonic()
            asked = warm(self.book.root)
            log.info("flows: %d object(s) of addresses and sessions loaded in %.1f s",
                     asked, time.monotonic() - started)

    def _refresh(self):
        """A fresh read transaction: exporters, classes, networks, sessions
        as committed now."""
        self.tm.abort()
        self.tm.begin()
        root = get_root(self.conn.root())
        traffic = root["traffic"]
        exporters = list(traffic.exporters.values())
        serial = tuple((e.name, e._p_serial) for e in exporters)
        if serial != self._exporters_serial:
            before = {e.name for e in self.exporters.values()}
            self.exporters = {e.address: ExporterEntry(e) for e in exporters}
            for name in before - {e.name for e in exporters}:
                self.decoder.forget(name)
            self._exporters_serial = serial
            log.info("flows: %d exporter(s) registered", len(self.exporters))
        self.classes = table_of(traffic.classes, self.classes)
        self.book.reset(root)

    # -- packets ---------------------------------------------------------------
    def _report(self, source, kind, detail, n=1):
        self.errors[(source, kind)] += n
        self.stats["refused " + kind] += n
        self.limited.warn(kind, source, "flows: from %s: %s (%s)", source, kind, detail)

    def read_burst(self):
        now = time.monotonic()
        for _ in range(BURST):
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("flows: recvfrom: %s", exc)
                return
            self.handle(data, addr[0], now)

    def handle(self, data, source, now):
        self.stats["packets"] += 1
        entry = self.exporters.get(source)
        if entry is None:
            if source not in self.unknown_sources and \
                    len(self.unknown_sources) >= MAX_UNKNOWN_SOURCES:
                source = "(other sources)"
            else:
                self.unknown_sources.add(source)
            self._report(source, "unknown exporter", f"{len(data)} octets dropped")
            return
        digest = hash(data)
        if digest in self.recent or digest in self.older:
            self._report(entry.name, "duplicate", "the same datagram twice")
            return
        self.recent.add(digest)
        try:
            flows, announced = self.decoder.decode(entry.name, data, now)
        except DecodeError as exc:
            self._report(entry.name, exc.kind, str(exc))
            return
        except Exception as exc:             # a decoder bug must not stop the collector
            self._report(entry.name, "malformed", repr(exc))
            return
        if self.forward_sock is not None:
            try:
                self.forward_sock.sendto(data, self.config.forward)
            except OSError as exc:
                self.limited.warn("forward", self.config.forward, "flows: forwarding to %s: %s",
                                  self.config.forward, exc)
        scale = entry.sampling if entry.sampling > 1 else (announced or 1)
        try:
            implausible = count_flows(self.window, entry.name, flows, scale, self.book,
                                      self.classes)
        except Exception as exc:             # the database away while looking addresses up
            self._report(entry.name, "attribution failed", repr(exc))
            return
        if implausible:
            self._report(entry.name, "implausible", "more octets than its packets can hold",
                         implausible)
        self.stats["flows"] += len(flows) - implausible

    # -- windows -------------------------------------------------------------------
    def flush(self):
        """Hand the current window to the committer; start the next one."""
        self.decoder.expire(time.monotonic())
        window, errors = self.window, self.errors
        self.number += 1
        self.window, self.errors = Window(self.number, self.config.span_ms), collections.Counter()
        self.unknown_sources = set()
        self.recent, self.older = set(), self.recent
        if len(window) or errors:
            nas_of = {e.name: e.nas for e in self.exporters.values()}
            item = (f"{self.instance}:{window.number}", window, errors, nas_of)
            try:
                self.windows.put_nowait(item)
            except queue.Full:
                self.stats["windows lost"] += 1
                log.error("flows: the database is behind by %d windows: window %s "
                          "(%d flows) dropped", self.config.backlog, item[0], window.flows)
        try:
            self._refresh()
        except Exception as exc:             # ZEO away: go on with what we know
            self.limited.warn("refresh", "database", "flows: reading the database failed (%r); "
                              "exporters, classes and addresses as before", exc)

    def commit_loop(self):
        """The committer thread: writes windows until it gets None."""
        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        try:
            while True:
                item = self.windows.get()
                if item is None:
                    return
                self._commit(conn, tm, *item)
        finally:
            tm.abort()
            conn.close()

    def _commit(self, conn, tm, window_id, window, errors, nas_of):
        jobs = [(part_id, lambda root, p=part_id, i=items: write_part(root, p, i, nas_of,
                                                                        window.span_ms))
                for part_id, items in parts(window_id, window.sums)]
        if errors:
            jobs.append((f"{window_id}:errors",
                         lambda root: write_errors(root, f"{window_id}:errors", errors)))
        for part_id, job in jobs:
            delay = 0.1
            while True:
                try:
                    tm.begin()
                    made = job(get_root(conn.root()))
                    describe(tm.get(), USER, f"flows: window part {part_id}")
                    tm.commit()
                    self.stats["records"] += made or 0
                    self.stats["parts"] += 1
                    break
                except ConflictError:
                    tm.abort()
                    self.stats["conflicts"] += 1
                except Exception:
                    # ZEO away, disk full: keep the part and try again (a
                    # part that did commit is recognised by its id).
                    tm.abort()
                    log.exception("flows: committing %s failed; retrying", part_id)
                    time.sleep(delay)
                    delay = min(delay * 2, 10)
        self.stats["windows"] += 1

    def serve(self, stop, started=None):
        """Serve until *stop* (a threading.Event) is set."""
        committer = threading.Thread(target=self.commit_loop, name="flows-commit", daemon=True)
        committer.start()
        if started is not None:
            started(self)
        next_flush = time.monotonic() + self.config.window
        last_expire = time.monotonic()
        try:
            while not stop.is_set():
                readable, _, _ = select.select([self.sock], [], [], 0.2)
                if readable:
                    self.read_burst()
                now = time.monotonic()
                if now >= next_flush:
                    self.flush()
                    next_flush = now + self.config.window
                elif now - last_expire >= 1:
                    self.decoder.expire(now)
                    last_expire = now
            self.flush()
        finally:
            self.windows.put(None)
            committer.join()
            self.close()
        return self.stats

    def close(self):
        if self.sock is not None:
            self.sock.close()
        if self.forward_sock is not None:
            self.forward_sock.close()
        if self.conn is not None:
            self.tm.abort()
            self.conn.close()


def run(db, settings, started=None):
    """Serve until SIGINT/SIGTERM; ``started(collector)`` once bound."""
    import signal
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    collector = Collector(db, settings)
    collector.open()
    log.info("flows: listening on %s:%s", collector.config.bind, collector.port)
    return collector.serve(stop, started)

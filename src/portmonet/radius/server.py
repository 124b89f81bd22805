"""``portmonet radius``: the asyncio RADIUS server process.

One event loop reads the auth and accounting sockets in bursts (up to
``BURST`` datagrams per wake-up).  Access-Requests are decided in the loop
thread on a read-only connection, one transaction (``tm.begin``, which
brings in other processes' invalidations) per burst.  Accounting-Requests
are decoded and checked in the loop thread and applied by one worker thread
in batches of ``radius.batch`` per transaction; their Accounting-Responses
go out only after that commit.  The same worker thread drains the outbox
channel ``radius`` (CoA / Disconnect), records rejects for staff, and closes
stale sessions.  Nothing blocks the loop on a commit.
"""
import asyncio
import collections
import concurrent.futures
import gc
import logging
import socket
import threading
import time

import transaction
from ZODB.POSException import ConflictError

from ..ledger.account import now_us
from ..lograte import truthy as _bool
from ..model.root import get_root
from . import accounting, codec, coa, dictionary, eap, logbook, pools
from .interfaces import INas
from .nas import NasTable
from .policy import Decision, authorize, clear_password, reject

log = logging.getLogger(__name__)

BURST = 256
USER = "portmonet radius"


class Config:
    def __init__(self, settings):
        get = settings.get
        self.bind = get("radius.bind", "0.0.0.0")
        self.auth_port = int(get("radius.auth_port", 1812))
        self.acct_port = int(get("radius.acct_port", 1813))
        self.coa_port = int(get("radius.coa_port", 3799))
        self.interim_interval = int(get("radius.interim_interval", 300))
        self.stale_intervals = int(get("radius.stale_intervals", 3))
        self.batch = int(get("radius.batch", 200))
        # More than one worker only pays when commits do not collide: today
        # every usage record lands in the last bucket of root.usage.pending,
        # so two writers conflict on most commits (see docs/radius.md).
        self.acct_workers = int(get("radius.acct_workers", 1))
        self.cache_size = int(get("radius.cache_size", 200_000))
        self.reuse_port = _bool(get("radius.reuse_port", "false"))
        self.coa_poll = float(get("radius.coa_poll", 1.0))
        self.coa_timeout = float(get("radius.coa_timeout", 2.0))
        # With several processes on the same ports only one drains the outbox
        # and (see acct_workers) only one should take accounting.
        self.send_coa = _bool(get("radius.send_coa", "true"))
        # Load every login's service, contract and account into the cache at
        # start, in slices between requests, instead of on first use.
        self.warm = _bool(get("radius.warm", "false"))
        self.accounting = _bool(get("radius.accounting", "true"))


class AcctItem:
    __slots__ = ("nas_name", "record", "reply", "addr")

    def __init__(self, nas_name, record, reply, addr):
        self.nas_name, self.record, self.reply, self.addr = nas_name, record, reply, addr


class LeaseItem:
    """An accepted Access-Request waiting for an address from a pool."""
    __slots__ = ("req", "nas", "addr", "decision", "login", "tariff", "cache_key", "detail")

    def __init__(self, req, nas, addr, decision, login, tariff, cache_key, detail):
        self.req, self.nas, self.addr, self.decision = req, nas, addr, decision
        self.login, self.tariff, self.cache_key, self.detail = login, tariff, cache_key, detail


class RadiusServer:

    def __init__(self, db, settings):
        self.db = db
        self.config = Config(settings)
        self.dict = dictionary()
        self.encoder = codec.AttributeEncoder(self.dict)
        self.table = NasTable()
        self.limited = logbook.limited()
        self.rejects = collections.deque()
        self.acct_queue = collections.deque()
        self.lease_queue = collections.deque()
        self.leasing = set()        # cache keys of requests waiting for a lease
        self.eap = eap.Conversations()
        self.reply_cache = {}
        # CoA and housekeeping on one thread; accounting on acct_workers
        # threads, so one batch is applied while another one commits.
        self.executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="radius-db")
        self.lease_executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="radius-lease")
        self.acct_executor = concurrent.futures.ThreadPoolExecutor(
            self.config.acct_workers, thread_name_prefix="radius-acct")
        self.stats = collections.Counter()
        self.auth_sock = self.acct_sock = None
        self._tasks = []
        self._stopping = None
        db.setCacheSize(self.config.cache_size)
        self._conns = {}

    # -- connections: one per (job, thread), never shared between threads --
    def _conn(self, name):
        key = (name, threading.get_ident())
        held = self._conns.get(key)
        if held is None:
            tm = transaction.TransactionManager()
            held = self._conns[key] = (self.db.open(transaction_manager=tm), tm)
        return held

    def _root(self, name):
        conn, tm = self._conn(name)
        tm.begin()
        return get_root(conn.root()), tm

    # -- sockets -----------------------------------------------------------
    def _socket(self, port):
        family = socket.AF_INET6 if ":" in self.config.bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        # No SO_REUSEADDR: on Linux it would let a second server bind the same
        # UDP port by mistake and take part of the traffic.
        if self.config.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((self.config.bind, port))
        sock.setblocking(False)
        return sock

    async def start(self):
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._acct_wake = asyncio.Event()
        self._lease_wake = asyncio.Event()
        self.refresh_nases()
        self.auth_sock = self._socket(self.config.auth_port)
        self.auth_port = self.auth_sock.getsockname()[1]
        loop.add_reader(self.auth_sock, self._auth_readable)
        self.acct_port = None
        if self.config.accounting:
            self.acct_sock = self._socket(self.config.acct_port)
            self.acct_port = self.acct_sock.getsockname()[1]
            loop.add_reader(self.acct_sock, self._acct_readable)
        self.coa_sender = await coa.CoaSender.open(self.config.bind, timeout=self.config.coa_timeout)
        self._tasks = [asyncio.ensure_future(f()) for f in
                       [self._acct_worker] * (self.config.acct_workers if self.config.accounting
                                              else 0) + [self._maintenance, self._lease_worker] +
                       ([self._warm] if self.config.warm else []) +
                       ([self._coa_worker] if self.config.send_coa else [])]
        log.info("radius: auth on %s:%s, accounting on %s, %d NAS(es)", self.config.bind,
                 self.auth_port, self.acct_port or "(off)", len(self.table.by_address))

    async def stop(self):
        loop = asyncio.get_running_loop()
        for sock in (self.auth_sock, self.acct_sock):
            if sock is not None:
                loop.remove_reader(sock)
                sock.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.coa_sender.close()
        for executor in (self.executor, self.acct_executor, self.lease_executor):
            await loop.run_in_executor(None, executor.shutdown, True)
        # Every thread is idle now: their connections may be closed from here.
        for conn, tm in self._conns.values():
            tm.abort()
            conn.close()
        self._conns.clear()

    def request_stop(self):
        self._stopping.set()

    # -- NAS table ---------------------------------------------------------
    def refresh_nases(self):
        root, tm = self._root("auth")
        try:
            if self.table.refresh(root):
                log.info("radius: %d NAS(es) registered", len(self.table.by_address))
        finally:
            tm.abort()

    def _lookup_nas(self, addr, what):
        nas = self.table.get(addr[0])
        if nas is None:
            self.stats["unknown_nas"] += 1
            self.limited.warn("unknown-nas", addr[0], "radius: %s from unknown NAS %s dropped",
                              what, addr[0])
        return nas

    def _drop(self, nas, addr, cls, why):
        """Drop a packet: counted by *cls* (a fixed word), logged within
        the bounds of :class:`logbook.Limited` keyed by (cls, sender),
        never by the varying text *why*."""
        self.stats["dropped"] += 1
        self.limited.warn(cls, addr[0], "radius: packet from %s (%s) dropped: %s",
                          addr[0], nas.name if nas else "?", why)

    @staticmethod
    def _read_burst(sock):
        out = []
        for _ in range(BURST):
            try:
                out.append(sock.recvfrom(4096))
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:      # e.g. ICMP port unreachable reported on UDP
                log.debug("radius: recvfrom: %s", exc)
                break
        return out

    def _send(self, sock, data, addr):
        try:
            sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self.stats["send_dropped"] += 1     # the NAS retransmits
        except OSError as exc:
            log.warning("radius: sending to %s: %s", addr[0], exc)

    # -- authorization -------------------------------------------------------
    def _auth_readable(self):
        burst = self._read_burst(self.auth_sock)
        if not burst:
            return
        root, tm = self._root("auth")
        try:
            for data, addr in burst:
                try:
                    reply = self._auth_one(root, data, addr)
                except Exception:
                    log.exception("radius: Access-Request from %s failed", addr[0])
                    reply = None
                if reply is not None:
                    self._send(self.auth_sock, reply, addr)
        finally:
            tm.abort()

    def _decode(self, nas, data, addr, code, port_name):
        try:
            req = codec.decode(data)
        except codec.CodecError as exc:
            self._drop(nas, addr, "malformed", f"malformed ({exc})")
            return None
        if req.code != code and req.code != codec.STATUS_SERVER:
            self._drop(nas, addr, "wrong-code", f"code {req.code} on the {port_name} port")
            return None
        req.secret = nas.secret
        return req

    def _status(self, nas, req, addr, reply_code):
        """RFC 5997 Status-Server: answered (Access-Accept on the auth port,
        Accounting-Response on the accounting port, both with a
        Message-Authenticator) only when it carries a valid one; never
        cached, never touches the database."""
        if not req.message_authenticator or not req.verify_message_authenticator():
            self._drop(nas, addr, "bad-message-authenticator",
                       "Status-Server without a valid Message-Authenticator")
            return None
        self.stats["status_server"] += 1
        return codec.encode_reply(reply_code, req.id, req.authenticator, nas.secret,
                                  self.encoder.encode("Reply-Message", "Portmonet RADIUS alive"))

    def _auth_one(self, root, data, addr):
        nas = self._lookup_nas(addr, "Access-Request")
        if nas is None:
            return None
        req = self._decode(nas, data, addr, codec.ACCESS_REQUEST, "auth")
        if req is None:
            return None
        if req.code == codec.STATUS_SERVER:
            return self._status(nas, req, addr, codec.ACCESS_ACCEPT)
        if not req.message_authenticator:
            self._drop(nas, addr, "no-message-authenticator",
                       "no Message-Authenticator (BlastRADIUS, CVE-2024-3596)")
            return None
        if not req.verify_message_authenticator():
            self._drop(nas, addr, "bad-message-authenticator",
                       "bad Message-Authenticator: wrong secret?")
            return None
        cache_key = (addr, req.id, req.authenticator)
        cached = self.reply_cache.get(cache_key)
        if cached is not None:
            self.stats["auth_duplicate"] += 1
            return cached[1]
        if cache_key in self.leasing:        # retransmitted while its lease commits
            self.stats["auth_duplicate"] += 1
            return None
        request = {
            "login": req.text(1),
            "mac": req.text(31),
            "port_id": req.text(87),
            "circuit_id": req.text((3561, 1)),
        }
        detail = " ".join(f"{k}={v}" for k, v in request.items() if v and k != "login")
        step = None
        if eap.EAP_MESSAGE in req:
            step = self.eap.step(req, request["login"])
            if step.reply is not None:           # round 1: the MD5 challenge
                self.stats["eap_challenge"] += 1
                raw = codec.encode_reply(codec.ACCESS_CHALLENGE, req.id, req.authenticator,
                                         nas.secret, step.reply)
                self.reply_cache[cache_key] = (time.monotonic() + 10, raw)
                return raw
            if step.reject is not None:
                return self._answer(req, nas, reject(step.reject, recorded=False, public=False,
                                                     raw=step.outcome(False)),
                                    request["login"], cache_key, detail)
            req.eap = step
        decision = authorize(root, req, nas, request, self.config.interim_interval,
                             root.radius.online_count)
        if step is not None:
            decision.raw += step.outcome(decision.ok)
        if decision.ok and decision.service is not None and decision.service.ip is None:
            tariff = getattr(decision.service.tariff, "__name__", None) or ""
            if pools.choose(root, nas.name, tariff):
                # The answer waits for the lease's commit (see _lease_worker).
                self.lease_queue.append(LeaseItem(req, nas, addr, decision, request["login"],
                                                  tariff, cache_key, detail))
                self.leasing.add(cache_key)
                self._lease_wake.set()
                return None
        return self._answer(req, nas, decision, request["login"], cache_key, detail)

    def _answer(self, req, nas, decision, login, cache_key, detail):
        if decision.ok:
            code = codec.ACCESS_ACCEPT
            attributes = self.encoder.encode_all(decision.attributes) + decision.raw
            self.stats["accept"] += 1
        else:
            code = codec.ACCESS_REJECT
            attributes = self.encoder.encode(
                "Reply-Message", decision.reason if decision.public else "authentication failed"
            ) + decision.raw
            self.stats["reject"] += 1
            log.info("radius: reject %s from %s: %s", login, nas.name, decision.reason)
        if decision.recorded and decision.service is not None:
            self.rejects.append((login, decision.reason, nas.name, detail, now_us()))
        raw = codec.encode_reply(code, req.id, req.authenticator, nas.secret, attributes)
        self.reply_cache[cache_key] = (time.monotonic() + 10, raw)
        return raw

    # -- addresses from pools ------------------------------------------------
    async def _lease_worker(self):
        loop = asyncio.get_running_loop()
        while True:
            if not self.lease_queue:
                self._lease_wake.clear()
                await self._lease_wake.wait()
                continue
            n = min(self.config.batch, len(self.lease_queue))
            batch = [self.lease_queue.popleft() for _ in range(n)]
            try:
                leased = await loop.run_in_executor(self.lease_executor, self._lease, batch)
            except Exception:
                log.exception("radius: leasing addresses failed; NASes will retransmit")
                leased = None
            for item in batch:
                self.leasing.discard(item.cache_key)
            if leased is None:
                continue
            for item, (address, why) in zip(batch, leased):   # committed: answer now
                decision = item.decision
                if address is not None:
                    decision.attributes.append(("Framed-IP-Address", address))
                elif why is not None:
                    eap_failure = item.req.eap.outcome(False) if item.req.eap is not None else b""
                    decision = Decision(False, why, service=decision.service, raw=eap_failure)
                reply = self._answer(item.req, item.nas, decision, item.login, item.cache_key,
                                     item.detail)
                self._send(self.auth_sock, reply, item.addr)

    def _lease(self, batch):
        """Lease an address for each item in one transaction (retried on a
        conflict: another process took the same address)."""
        for _ in range(10):
            root, tm = self._root("lease")
            try:
                when = now_us()
                out = [pools.lease_for(root, item.login, item.nas.name, item.tariff, when)
                       for item in batch]
                txn = tm.get()
                txn.setUser(USER)
                txn.note(f"radius: {len(batch)} address(es) leased")
                tm.commit()
                self.stats["leased"] += sum(1 for a, _ in out if a)
                return out
            except ConflictError:
                tm.abort()
                self.stats["lease_conflicts"] += 1
        raise ConflictError("leasing gave up after 10 conflicts")

    # -- accounting --------------------------------------------------------
    def _acct_readable(self):
        burst = self._read_burst(self.acct_sock)
        received = now_us()
        for data, addr in burst:
            nas = self._lookup_nas(addr, "Accounting-Request")
            if nas is None:
                continue
            req = self._decode(nas, data, addr, codec.ACCOUNTING_REQUEST, "accounting")
            if req is None:
                continue
            if req.code == codec.STATUS_SERVER:
                reply = self._status(nas, req, addr, codec.ACCOUNTING_RESPONSE)
                if reply is not None:
                    self._send(self.acct_sock, reply, addr)
                continue
            if not req.verify_accounting_authenticator():
                self._drop(nas, addr, "bad-authenticator", "bad Request Authenticator: wrong secret?")
                continue
            if req.message_authenticator and not req.verify_message_authenticator():
                self._drop(nas, addr, "bad-message-authenticator", "bad Message-Authenticator")
                continue
            try:
                record = accounting.parse(req, received)
            except accounting.AcctError as exc:
                self._drop(nas, addr, "bad-accounting", str(exc))
                continue
            reply = codec.encode_reply(codec.ACCOUNTING_RESPONSE, req.id, req.authenticator,
                                       nas.secret, message_authenticator=False)
            self.acct_queue.append(AcctItem(nas.name, record, reply, addr))
        if self.acct_queue:
            self._acct_wake.set()

    async def _acct_worker(self):
        loop = asyncio.get_running_loop()
        while True:
            if not self.acct_queue:
                self._acct_wake.clear()
                await self._acct_wake.wait()
                continue
            n = min(self.config.batch, len(self.acct_queue))
            batch = [self.acct_queue.popleft() for _ in range(n)]
            done = await loop.run_in_executor(self.acct_executor, self._apply_acct, batch)
            for item in done:               # committed: now it may be acknowledged
                self._send(self.acct_sock, item.reply, item.addr)

    def _apply_acct(self, batch):
        """Apply a batch in one transaction (retried on conflict); returns
        the items whose effect is committed."""
        for _ in range(5):
            root, tm = self._root("acct")
            try:
                done = self._apply_items(root, batch)
                txn = tm.get()
                txn.setUser(USER)
                txn.note(f"accounting: {len(done)} request(s)")
                tm.commit()
                self.stats["acct"] += len(done)
                self.stats["acct_commits"] += 1
                return done
            except ConflictError:
                tm.abort()
                self.stats["acct_conflicts"] += 1
            except Exception:
                tm.abort()
                if len(batch) == 1:
                    log.exception("radius: accounting from %s failed", batch[0].nas_name)
                    return []
                # Find the bad one: each on its own.
                return [item for one in batch for item in self._apply_acct([one])]
        log.warning("radius: accounting batch gave up after conflicts; NASes will retransmit")
        return []

    def _apply_items(self, root, batch):
        done = []
        equipment = root["equipment"]
        for item in batch:
            nas = equipment.get(item.nas_name)
            if nas is None or not INas.providedBy(nas):
                continue
            try:
                accounting.apply(root, nas, item.record, self.limited.warn)
            except accounting.AcctError as exc:
                # Checked before anything is written: safe to skip alone.
                self.limited.warn("refused-accounting", item.nas_name, "radius: accounting "
                                  "from %s refused: %s", item.nas_name, exc)
                continue
            done.append(item)
        return done

    def _flush_rejects(self):
        """Record the rejects decided since the last call (a log for staff:
        written every couple of seconds, never on the request path)."""
        if not self.rejects:
            return
        pending = []
        while self.rejects:
            pending.append(self.rejects.popleft())
        for _ in range(3):
            root, tm = self._root("rejects")
            try:
                for login, reason, nas, detail, when in pending:
                    root.radius.record_reject(login, reason, nas, detail, when)
                txn = tm.get()
                txn.setUser(USER)
                txn.note(f"radius: {len(pending)} reject(s) recorded")
                tm.commit()
                return
            except ConflictError:
                tm.abort()
        log.warning("radius: %d reject record(s) lost to conflicts", len(pending))

    # -- CoA / Disconnect ----------------------------------------------------
    async def _coa_worker(self):
        loop = asyncio.get_running_loop()
        while True:
            try:
                jobs = await loop.run_in_executor(self.executor, self._coa_collect)
                if jobs:
                    await asyncio.gather(*(self.coa_sender.run(job) for job in jobs))
                    await loop.run_in_executor(self.executor, self._coa_record, jobs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("radius: CoA round failed")
            await asyncio.sleep(self.config.coa_poll)

    def _coa_collect(self):
        root, tm = self._root("coa")
        try:
            return coa.collect(root, self.dict, self.config.coa_port, self.config.interim_interval)
        finally:
            tm.abort()

    def _coa_record(self, jobs):
        for _ in range(5):
            root, tm = self._root("coa")
            try:
                coa.record(root, jobs)
                txn = tm.get()
                txn.setUser(USER)
                txn.note(f"radius: {len(jobs)} CoA/Disconnect answer(s)")
                tm.commit()
                for job in jobs:
                    log.info("radius: %s %s: %s", job.action, job.key, "; ".join(job.results))
                return
            except ConflictError:
                tm.abort()

    # -- cache warming -------------------------------------------------------
    async def _warm(self, slice_size=500):
        """Touch what an Access-Request reads, for every login, a slice per
        loop turn so requests keep being answered meanwhile."""
        after = None
        while True:
            root, tm = self._root("auth")
            try:
                tree = root.catalog.logins.tree
                keys = list(tree.keys(min=after, excludemin=after is not None)[:slice_size]) \
                    if after is not None else list(tree.keys()[:slice_size])
                for login in keys:
                    _touch(tree[login])
                self.stats["warmed"] += len(keys)
            finally:
                tm.abort()
            if len(keys) < slice_size:
                log.info("radius: cache warmed with %d login(s)", self.stats["warmed"])
                return
            after = keys[-1]
            await asyncio.sleep(0)

    # -- housekeeping --------------------------------------------------------
    async def _maintenance(self):
        loop = asyncio.get_running_loop()
        last_stale = time.monotonic()
        while True:
            await asyncio.sleep(2)
            try:
                self.refresh_nases()
                now = time.monotonic()
                self.reply_cache = {k: v for k, v in self.reply_cache.items() if v[0] > now}
                await loop.run_in_executor(self.executor, self._flush_rejects)
                if now - last_stale >= self.config.interim_interval:
                    last_stale = now
                    await loop.run_in_executor(self.executor, self._close_stale)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("radius: housekeeping failed")

    def _close_stale(self):
        horizon = self.config.interim_interval * self.config.stale_intervals * 1_000_000
        root, tm = self._root("acct")
        try:
            now = now_us()
            closed = 0
            for nas in list(root["equipment"].values()):
                if INas.providedBy(nas):
                    closed += accounting.close_stale(root, nas, now - horizon, now)
            for pool in (root.radius.pools.values() if root.radius.pools is not None else ()):
                closed += pool.expire_unbound(now - pools.UNBOUND_TTL_US)
            if closed:
                txn = tm.get()
                txn.setUser(USER)
                txn.note(f"radius: {closed} stale session(s) closed or lease(s) expired")
                tm.commit()
                log.info("radius: %d stale session(s) closed", closed)
            else:
                tm.abort()
        except ConflictError:
            tm.abort()


def _touch(service):
    """Load what the policy reads of a service (and decrypt its password)."""
    getattr(service.tariff, "rate_limit", None)
    contract = service.__parent__
    if contract is not None:
        getattr(contract, "status", None)
        if contract.account is not None:
            getattr(contract.account, "available", None)
    clear_password(service)


def run(db, settings, started=None):
    """Serve until SIGINT/SIGTERM; ``started(server)`` once the ports are bound."""
    import signal

    async def main():
        server = RadiusServer(db, settings)
        await server.start()
        # Persistent objects in a large cache make full cyclic-GC passes long
        # pauses for every request in flight; collect far less often.
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        if started is not None:
            started(server)
        try:
            await server._stopping.wait()
        finally:
            await server.stop()
        server.stats.update(server.limited.stats())
        server.stats.update(logbook.LIMITED.stats())
        log.info("radius: stopped (%s)", ", ".join(f"{k}={v}" for k, v in
                                                    sorted(server.stats.items())))
        return server.stats

    return asyncio.run(main())

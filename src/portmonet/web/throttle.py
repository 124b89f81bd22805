"""Throttles kept in the web process's memory (per process, bounded).

:class:`Throttle` is a quota: at most *limit* events per key in a sliding
window (applications from one address).  :class:`Backoff` slows sign-in
guessing by an exponential delay per client address and per account,
without ever locking an account (an attacker must not be able to lock
staff out).
"""
import threading
import time
from collections import OrderedDict


class _Book:
    """Per-key records in a bounded, least-recently-written-first dict."""

    def __init__(self, max_keys, clock):
        self.max_keys = max_keys
        self.clock = clock
        self._failures = OrderedDict()
        self._lock = threading.Lock()

    def _put(self, key, value):
        """Keep *value* for *key* (the caller holds the lock)."""
        self._failures[key] = value
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, *keys):
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class Throttle(_Book):
    """A quota: at most *limit* events per key in *window* seconds
    (kept per key: (first event time, count))."""

    def __init__(self, limit=10, window=300.0, max_keys=100_000, clock=time.monotonic):
        super().__init__(max_keys, clock)
        self.limit = limit
        self.window = window

    def _current(self, key, now):
        entry = self._failures.get(key)
        if entry is None or now - entry[0] > self.window:
            return None
        return entry

    def blocked(self, *keys):
        now = self.clock()
        with self._lock:
            return any((e := self._current(k, now)) is not None and e[1] >= self.limit
                       for k in keys)

    def failed(self, *keys):
        now = self.clock()
        with self._lock:
            for key in keys:
                entry = self._current(key, now)
                self._put(key, (now, 1) if entry is None else (entry[0], entry[1] + 1))


class Backoff(_Book):
    """Sign-in throttling by exponential delay, kept in memory.

    Each key (a client address, an account) gets *free* failed password
    checks; after that the next check waits ``base * 2**(n - free)``
    seconds after the last failure, up to *cap*.  An attempt that comes
    too early is refused without checking the password and without being
    counted: so the attacker is slowed to a check per delay and can push
    an account's delay no further than *cap*, and a person who waits gets
    a check.  Nothing is locked.  A success forgets the keys.
    """

    def __init__(self, free=3, base=1.0, cap=300.0, max_keys=100_000, clock=time.monotonic):
        super().__init__(max_keys, clock)
        self.free, self.base, self.cap = free, base, cap   # kept: (count, last failure time)

    def delay(self, count):
        return 0.0 if count < self.free else min(self.base * 2 ** (count - self.free), self.cap)

    def wait(self, *keys):
        """Seconds until a password check for *keys* is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            held = [self._failures[key] for key in keys if key in self._failures]
        return max([0.0] + [last + self.delay(count) - now for count, last in held])

    def failed(self, *keys):
        now = self.clock()
        with self._lock:
            for key in keys:
                count, last = self._failures.get(key, (0, now))
                if now - last > 4 * self.cap:       # quiet long enough: start again
                    count = 0
                self._put(key, (count + 1, now))

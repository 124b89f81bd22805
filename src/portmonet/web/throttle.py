"""Login throttling kept in the web process's memory.

Counts failed attempts per key (a client address, a login) in a sliding
window; past the limit every attempt for that key is refused without looking
at the password, so guessing is slow and costs the server nothing.  Staff
accounts also lock in the database (``StaffUser.locked_until_us``), which
every web process sees; this in-memory layer is per process and bounded.
"""
import threading
import time
from collections import OrderedDict


class Throttle:

    def __init__(self, limit=10, window=300.0, max_keys=100_000, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._failures = OrderedDict()     # key -> (first failure time, count)
        self._lock = threading.Lock()

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
                self._failures[key] = (now, 1) if entry is None else (entry[0], entry[1] + 1)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, *keys):
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

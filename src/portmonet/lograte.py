"""Warnings a flood must not multiply, and yes/no settings.

A server that drops bad input (a RADIUS packet, a NetFlow datagram) logs
why, but a sender that sends thousands of them must not fill the disk.  A
warning has a *class* (a fixed word: ``malformed``, ``bad-authenticator``,
``truncated``...) and a *source* (the sender's address, the NAS, the
exporter).  :class:`Limited` writes at most one line per (class, source)
per period, and at most *burst* lines per class per period whatever the
sources (a spoofed source address changes with every UDP packet); the
text, which may vary with every packet, is never part of the key.  Every
event is counted per class (``counts``), and the ones not logged too
(``suppressed``): the next line of that class says how many were left
out, and the process prints the counters with its statistics.
"""
import collections
import threading
import time


def truthy(value):
    """An ini yes/no: 1, true, yes, on (any case) are yes."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class Limited:

    def __init__(self, logger, period=60.0, burst=20, max_keys=10_000, clock=time.monotonic):
        self.period, self.burst, self.max_keys = period, burst, max_keys
        self.clock, self.log = clock, logger
        self.counts = collections.Counter()        # class -> events
        self.suppressed = collections.Counter()    # class -> events not logged
        self._last = collections.OrderedDict()     # (class, source) -> time logged
        self._window = {}                          # class -> (window start, lines in it)
        self._held = collections.Counter()         # class -> left out since its last line
        self._lock = threading.Lock()

    def warn(self, cls, source, msg, *args):
        """Log ``msg % args`` unless (cls, source) or cls has had its share."""
        now = self.clock()
        with self._lock:
            self.counts[cls] += 1
            key = (cls, source)
            start, lines = self._window.get(cls, (now, 0))
            if now - start >= self.period:
                start, lines = now, 0
            if now - self._last.get(key, -1e18) < self.period or lines >= self.burst:
                self.suppressed[cls] += 1
                self._held[cls] += 1
                self._window[cls] = (start, lines)
                return False
            self._window[cls] = (start, lines + 1)
            self._last[key] = now
            self._last.move_to_end(key)
            while len(self._last) > self.max_keys:
                self._last.popitem(last=False)
            held, self._held[cls] = self._held[cls], 0
        if held:
            self.log.warning(msg + " (%d more %s left out)", *args, held, cls)
        else:
            self.log.warning(msg, *args)
        return True

    def stats(self):
        """``{"bad_<class>": n, "bad_<class>_unlogged": n}`` for the process's statistics."""
        with self._lock:
            out = {f"bad_{c}": n for c, n in self.counts.items()}
            out.update({f"bad_{c}_unlogged": n for c, n in self.suppressed.items()})
        return out

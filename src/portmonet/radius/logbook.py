"""Warnings about hostile or broken input, bounded so that a flood of bad
packets cannot fill the disk.

A warning has a *class* (a fixed word: ``malformed``, ``bad-authenticator``,
``implausible-counters``...) and a *source* (the sender's address or the
NAS).  At most one line per (class, source) per period, and at most
*burst* lines per class per period whatever the sources (a spoofed source
address changes with every UDP packet); the text, which may vary with
every packet, is never part of the key.  Every event is counted per class
(``counts``), and the ones not logged too (``suppressed``): the next line
of that class says how many were left out, and the RADIUS process prints
the counters with its statistics.
"""
import collections
import logging
import threading
import time

log = logging.getLogger("portmonet.radius")


class Limited:

    def __init__(self, period=60.0, burst=20, max_keys=10_000, clock=time.monotonic,
                 logger=log):
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


# The process's own, for the code that has no server at hand (accounting).
LIMITED = Limited()

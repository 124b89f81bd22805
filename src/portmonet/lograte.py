"""Warnings a flood must not multiply, and yes/no settings.

A server that drops bad packets logs why, but a NAS or an exporter that
sends thousands of them must not fill the log: :class:`RateLimitedLog`
writes a warning at most once per key (a source and an error class) per
interval.
"""
import time


def truthy(value):
    """An ini yes/no: 1, true, yes, on (any case) are yes."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class RateLimitedLog:
    """``warn(key, msg, *args)`` logs to *logger* at most once per *every* s per key."""

    def __init__(self, logger, every=60.0, keys=10_000):
        self.logger, self.every, self.keys = logger, every, keys
        self.last = {}

    def warn(self, key, msg, *args):
        now = time.monotonic()
        if now - self.last.get(key, -1e18) >= self.every:
            if len(self.last) > self.keys:
                self.last.clear()
            self.last[key] = now
            self.logger.warning(msg, *args)


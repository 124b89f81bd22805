"""Per-channel rate limits (``notify.rate.<channel>`` messages a second;
0 = none): a token bucket in the sending thread."""
import time


class RateLimit:
    def __init__(self, per_second, burst=None, clock=time.monotonic, sleep=time.sleep):
        self.rate = float(per_second)
        self.capacity = burst or max(1.0, self.rate)
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.at = clock()

    def wait(self):
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        pause = (1 - self.tokens) / self.rate
        self.sleep(pause)
        self.at = self.clock()
        self.tokens = 0.0
        return pause

"""Client-side request rate limit: a token bucket, as client-go puts in front of every request.

The bucket holds up to `burst` tokens and refills at `qps` per second; a request takes one token
and, when none is left, waits for the next. Waiting is by reservation: a caller takes its token
now, possibly driving the count below zero, and sleeps until the refill covers it, so concurrent
callers are served in arrival order without busy polling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fluidpy.context import Context, DeadlineExceeded


class TokenBucket:
    def __init__(self, qps: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive (a client with qps <= 0 has no bucket)")
        self.qps = qps
        self.burst = max(int(burst), 1)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._last = clock()

    def reserve(self, max_wait: float | None = None) -> float | None:
        """Take a token; the seconds to wait before using it, or None (nothing taken) when that
        wait would exceed `max_wait`."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
            self._last = now
            wait = max(0.0, (1.0 - self._tokens) / self.qps)
            if max_wait is not None and wait > max_wait:
                return None
            self._tokens -= 1.0
            return wait

    def wait(self, ctx: Context | None = None) -> None:
        """Block until a request may be sent.

        Fails at once with DeadlineExceeded when the context's deadline would pass before the
        token is due (no point in waiting for a request that cannot finish in time), and with
        the context's error if it is cancelled while waiting.
        """
        remaining = ctx.remaining() if ctx is not None else None
        delay = self.reserve(remaining)
        if delay is None:
            raise DeadlineExceeded()
        if delay <= 0:
            return
        if ctx is None:
            time.sleep(delay)
        elif ctx.wait(delay):
            ctx.check()

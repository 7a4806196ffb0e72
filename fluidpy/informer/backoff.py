"""Backoff between failed list or watch attempts.

The delay starts at `initial`, doubles on each failure up to `cap`, and gets a random extra of up
to `jitter` times itself, so informers that failed together (an API server restart) do not come
back together. After `reset_after` seconds without a failure the next delay starts from `initial`
again: a watch that ran healthily for minutes and then broke deserves a quick retry. The
defaults are client-go's reflector values: 0.8 s doubling to 30 s, jitter 1.0, reset after 2 min,
which keeps a dead API server at about one request every 30 to 60 s per informer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class Backoff:
    def __init__(
        self,
        initial: float = 0.8,
        cap: float = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        reset_after: float = 120.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.reset_after = reset_after
        self._clock = clock
        self._rand = rand
        self._next = initial
        self._last_failure: float | None = None

    def next_delay(self) -> float:
        """Record a failure and return how long to wait before the next attempt."""
        now = self._clock()
        if self._last_failure is not None and now - self._last_failure >= self.reset_after:
            self._next = self.initial
        self._last_failure = now
        base = self._next
        self._next = min(base * self.factor, self.cap)
        return base + base * self.jitter * self._rand()

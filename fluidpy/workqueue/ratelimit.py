"""Rate limiters: how long a failed key waits before it is handed out again.

A limiter answers `when(item)`, the delay for the item's next retry, and counts the retries it has
answered for until `forget(item)` says the item succeeded. Controllers combine two of them: a
per-key exponential backoff, so one broken object backs off without slowing others, and a shared
token bucket, so a mass failure (an API server outage failing every key at once) cannot turn
into a retry storm. `MaxOfRateLimiter` picks the longer of the two delays.

All limiters are thread-safe: workers report failures concurrently.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable
from typing import Protocol

from fluidpy.workqueue.clock import REAL_CLOCK, Clock


class RateLimiter(Protocol):
    """Decides retry delays and remembers failures per item until forgotten."""

    def when(self, item: Hashable) -> float:
        """Seconds the item should wait before its next attempt; records one more retry."""
        ...

    def forget(self, item: Hashable) -> None:
        """Clear the item's history, so its next failure starts from the smallest delay again."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """How many retries `when()` has answered for this item since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    """Per item: `base_delay * 2**failures`, capped at `max_delay`.

    Defaults (5 ms doubling up to 1000 s) are client-go's controller defaults: the first retries
    are nearly immediate, which absorbs short races such as a stale cache read, while a key that
    keeps failing settles at about one try every 17 minutes instead of hammering the API server.
    """

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        if base_delay < 0 or max_delay < 0:
            raise ValueError("delays must not be negative")
        self._base = base_delay
        self._max = max_delay
        self._failures: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            exponent = self._failures.get(item, 0)
            self._failures[item] = exponent + 1
        try:
            # ldexp scales by a power of two exactly and raises instead of returning inf, which
            # is the overflow guard for items that have failed thousands of times.
            delay = math.ldexp(self._base, exponent)
        except OverflowError:
            return self._max
        return min(delay, self._max)

    def forget(self, item: Hashable) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class BucketRateLimiter:
    """One token bucket shared by all items: `qps` tokens a second, at most `burst` saved up.

    Every `when()` takes a token; when none is left the caller is told to wait until its token
    will have been refilled, and the bucket goes into debt, so concurrent callers are spaced
    `1/qps` apart rather than released together. Defaults (10 qps, burst 100) are client-go's:
    a burst of 100 lets an ordinary flurry of failures retry at full speed, and 10 qps bounds
    the retry load a failing controller puts on the API server.

    It keeps no per-item state, so `forget` does nothing and `num_requeues` is always 0.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, clock: Clock | None = None) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("qps must be positive and burst at least 1")
        self._qps = qps
        self._burst = float(burst)
        self._clock = clock or REAL_CLOCK
        self._tokens = float(burst)
        self._last = self._clock.now()
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            now = self._clock.now()
            elapsed = max(now - self._last, 0.0)
            self._last = now
            self._tokens = min(self._burst, self._tokens + elapsed * self._qps) - 1.0
            tokens = self._tokens
        return 0.0 if tokens >= 0 else -tokens / self._qps

    def forget(self, item: Hashable) -> None:
        """Nothing to clear: the bucket is shared and remembers no item."""

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """Combines limiters: the delay is the longest any of them asks for.

    Every limiter is consulted on every `when()`, so each keeps its own account (the bucket spends
    a token even when the per-item backoff is the longer delay).
    """

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self._limiters = limiters

    def when(self, item: Hashable) -> float:
        return max([limiter.when(item) for limiter in self._limiters])

    def forget(self, item: Hashable) -> None:
        for limiter in self._limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self._limiters)


def default_controller_rate_limiter(clock: Clock | None = None) -> RateLimiter:
    """Per-item backoff (5 ms to 1000 s) combined with a shared 10 qps / burst 100 bucket."""
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(), BucketRateLimiter(clock=clock))

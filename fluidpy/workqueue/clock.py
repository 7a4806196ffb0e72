"""Time as the work queue and the rate limiters see it.

Delays, backoffs and token buckets are all about time, and a test that really sleeps through a
five-second delay is slow and flaky. Everything time-dependent in `fluidpy.workqueue` therefore
reads time through a `Clock`, and blocks through it too: a blocked `get()` must wake up when a
delayed item becomes ready, which under a `FakeClock` happens when a test calls `advance()`, not
when the wall clock moves.

The waiting primitive takes a `threading.Condition` that the caller holds, because that is what a
queue waits on anyway (new items notify it). A clock only adds "or until my time reaches the
deadline" to that wait.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A source of monotonic time that can also end a condition wait at a deadline."""

    def now(self) -> float:
        """Seconds on a monotonic scale; only differences are meaningful."""
        ...

    def wait_until(self, cond: threading.Condition, deadline: float | None) -> None:
        """Wait on `cond` (held by the caller) until notified or `now()` reaches `deadline`.

        `None` means no deadline. Like any condition wait it may return early: callers re-check
        their predicate and the time in a loop.
        """
        ...


class RealClock:
    """`time.monotonic()`: immune to wall-clock jumps, which would fire or stall delays."""

    __slots__ = ()

    now = staticmethod(time.monotonic)

    def wait_until(self, cond: threading.Condition, deadline: float | None) -> None:
        if deadline is None:
            cond.wait()
        else:
            cond.wait(max(deadline - time.monotonic(), 0.0))


REAL_CLOCK = RealClock()
"""The clock every queue and limiter uses unless a test injects another."""


class FakeClock:
    """A clock that moves only when told to, so tests check delays without sleeping.

    A wait blocks (in real time) until the condition is notified or, if it has a deadline, until
    `advance()` or `set()` carries the fake time to or past it.
    """

    def __init__(self, start: float = 1000.0) -> None:
        # Not zero: code that treats 0.0 as "unset" would otherwise pass tests by accident.
        self._now = start
        self._lock = threading.Lock()
        self._sleepers: dict[object, threading.Condition] = {}

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` and wake every wait whose deadline may have passed."""
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        with self._lock:
            self._now += seconds
            conds = list(dict.fromkeys(self._sleepers.values()))
        # Taking each condition's lock before notifying guarantees that a waiter which checked the
        # old time is already inside cond.wait() and so receives the notification.
        for cond in conds:
            with cond:
                cond.notify_all()

    def set(self, now: float) -> None:
        """Jump to an absolute time, which must not be earlier than the current one."""
        self.advance(now - self._now)

    def sleepers(self) -> int:
        """How many waits are blocked now; tests use it to know a thread reached its wait."""
        with self._lock:
            return len(self._sleepers)

    def wait_until(self, cond: threading.Condition, deadline: float | None) -> None:
        ticket = object()
        with self._lock:
            # Checked under the clock's lock: an advance() either happened before (we see the new
            # time) or happens after we are registered (it notifies us).
            if deadline is not None and self._now >= deadline:
                return
            # Waits without a deadline are registered too, only so that sleepers() counts them.
            self._sleepers[ticket] = cond
        try:
            cond.wait()
        finally:
            with self._lock:
                del self._sleepers[ticket]

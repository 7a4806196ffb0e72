"""Slow queries of a cache system, run off the reconcile threads.

Counting the files of an under file system can take minutes; even a cache report starts a JVM.
A reconcile worker must never wait for that, so an engine wraps each such query in a `Probe`:
the reconcile asks it to start (a no-op while a run is in flight, or when the last one started
less than `interval` ago) and reads the latest finished outcome, waiting at most a moment for a
fresh one. Until a first outcome exists the engine shows `[Calculating]`, as upstream does.

Runs happen on daemon threads, at most `PROBE_WORKERS` at a time across all engines (a shared
bound, so a thousand runtimes cannot start a thousand concurrent execs); each query receives a
Context that `Probe.stop()` cancels, so a runtime being deleted stops its probes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from fluidpy.context import Context

T = TypeVar("T")

log = structlog.get_logger("fluidpy.engines.probe")

CALCULATING = "[Calculating]"
"""What a status field shows while its probe has not answered yet (upstream's word)."""


PROBE_WORKERS = 4
"""Enough for a few slow counts to run side by side on a manager that also reconciles, few
enough not to crowd the API server with exec streams."""
_slots = threading.BoundedSemaphore(PROBE_WORKERS)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One finished run: its value, or the error it raised."""

    value: T | None
    error: Exception | None
    finished_at: float


class Probe(Generic[T]):
    """One slow query of one runtime; at most one run in flight.

    `interval` (seconds, default 0) is the least time between two starts, so calling `start()`
    on every reconcile costs nothing. `reset()` forgets the outcome and disowns a run in flight
    (its result is dropped), for when what the query measures has changed.
    """

    def __init__(
        self,
        name: str,
        query: Callable[[Context], T],
        *,
        interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._query = query
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)
        self._running = False
        self._generation = 0
        self._started_at: float | None = None
        self._latest: Outcome[T] | None = None
        self._ctx, self._cancel = Context.background().with_cancel()

    @property
    def latest(self) -> Outcome[T] | None:
        with self._lock:
            return self._latest

    @property
    def running(self) -> bool:
        with self._lock:
            return self._running

    def start(self) -> bool:
        """Start a run unless one is in flight, the last started within `interval`, or the
        probe is stopped; True when a run started."""
        with self._lock:
            now = self._clock()
            recent = self._started_at is not None and now - self._started_at < self._interval
            if self._running or recent or self._ctx.done():
                return False
            self._running = True
            self._started_at = now
            generation = self._generation
        thread = threading.Thread(
            target=self._run, args=(generation,), name=f"probe-{self.name}", daemon=True
        )
        thread.start()
        return True

    def wait(self, timeout: float) -> Outcome[T] | None:
        """Wait up to `timeout` seconds for the run in flight; returns the latest outcome."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._finished.wait(remaining)
            return self._latest

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._latest = None
            self._running = False
            self._started_at = None
            self._finished.notify_all()

    def stop(self) -> None:
        """Cancel the run in flight (its query sees a cancelled Context) and start no more."""
        self._cancel()
        self.reset()

    def _run(self, generation: int) -> None:
        value: T | None = None
        error: Exception | None = None
        with _slots:
            try:
                self._ctx.check()
                value = self._query(self._ctx)
            except Exception as raised:
                error = raised
                log.warning("probe failed", probe=self.name, error=str(raised))
        with self._lock:
            if generation != self._generation:
                return
            self._latest = Outcome(value, error, self._clock())
            self._running = False
            self._finished.notify_all()

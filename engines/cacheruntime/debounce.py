"""Debounced writes of the runtime config, so a rollout does not rewrite it once per pod.

The config lists every pod and its IP, and every pod change wakes the runtime. A write goes out
at once when the config has been quiet for `min_interval`; changes arriving sooner are held and
merged into one write when the interval ends. A 100-pod rollout over ten seconds thus costs
about five writes, while a single change still reaches the pods immediately.

A topology still filling in (a pod without its IP yet, a component with fewer pods than
replicas) is held longer, up to `incomplete_interval`: a component's pods usually get their IPs
within seconds of each other, so the config is written once with all of them instead of once per
pod as each appears. The config must exist before any pod can start (it is a volume), so a
missing one is written at once whatever it lists; and a topology that stays incomplete (a pod
that cannot be scheduled) still reaches the others after `incomplete_interval`.

The held write is sent by a timer, not by a later reconcile: nothing else may wake the runtime
(the last pod of a rollout got its IP, and all is quiet), and the pods may be waiting for
exactly that IP. One scheduler thread serves every runtime of the process.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import structlog

from fluidpy.client import Client
from fluidpy.context import Context
from fluidpy.engines.base.context import DEFAULT_CONFIG_WRITE_INTERVAL
from fluidpy.engines.base.ownership import NameConflict, apply_owned
from fluidpy.engines.cacheruntime.naming import CONFIGMAP

log = structlog.get_logger("fluidpy.engines.cacheruntime.debounce")

INCOMPLETE_WRITE_INTERVAL = 10.0
"""Seconds an incomplete topology is held at most: pod IPs come within seconds of scheduling,
so a wait this long folds a component's pods into one write, and a pod that never gets one
delays what the others learn by no more than this."""
WRITE_TIMEOUT = 30.0
"""Bound on one held write; it is retried after the interval if it fails."""


class Scheduler:
    """Runs callbacks at their due time on one daemon thread; a key has at most one callback
    pending, and scheduling it again replaces it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Hashable]] = []
        self._due: dict[Hashable, tuple[float, int, Callable[[], None]]] = {}
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, key: Hashable, due: float, callback: Callable[[], None]) -> None:
        with self._cond:
            entry = (due, next(self._sequence), callback)
            self._due[key] = entry
            heapq.heappush(self._heap, (due, entry[1], key))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="cacheruntime-config-writer", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def cancel(self, key: Hashable) -> None:
        with self._cond:
            self._due.pop(key, None)

    def pending(self, key: Hashable) -> bool:
        with self._cond:
            return key in self._due

    def _next(self) -> Callable[[], None]:
        with self._cond:
            while True:
                while self._heap:
                    due, sequence, key = self._heap[0]
                    entry = self._due.get(key)
                    if entry is None or entry[1] != sequence:
                        heapq.heappop(self._heap)  # cancelled or replaced
                        continue
                    wait = due - self._clock()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        del self._due[key]
                        return entry[2]
                    self._cond.wait(wait)
                    break
                else:
                    self._cond.wait()

    def _run(self) -> None:
        while True:
            callback = self._next()
            try:
                callback()
            except Exception:  # a failed write must not stop the writes of other runtimes
                log.exception("held runtime config write failed")


SCHEDULER = Scheduler()
"""The process's one scheduler thread, started on first use."""


class DebouncedWriter:
    """Writes one runtime's config ConfigMap at most once per `min_interval`."""

    def __init__(
        self,
        key: Hashable,
        *,
        min_interval: float = DEFAULT_CONFIG_WRITE_INTERVAL,
        incomplete_interval: float | None = None,
        scheduler: Scheduler = SCHEDULER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`incomplete_interval` None: INCOMPLETE_WRITE_INTERVAL, or 0 when `min_interval` is 0
        (every change written)."""
        self._key = key
        self._interval = min_interval
        if incomplete_interval is None:
            incomplete_interval = INCOMPLETE_WRITE_INTERVAL if self._interval > 0 else 0.0
        self._incomplete_interval = max(incomplete_interval, self._interval)
        self._scheduler = scheduler
        self._clock = clock
        self._lock = threading.Lock()
        self._last_write: float | None = None
        self._held: tuple[Client, dict[str, Any]] | None = None
        self._written_over: tuple[dict[str, str], str | None] | None = None
        self.writes = 0
        """Writes sent so far (tests and benchmarks read it)."""

    def submit(
        self,
        client: Client,
        desired: dict[str, Any],
        live: dict[str, Any] | None,
        ctx: Context,
        *,
        complete: bool = True,
    ) -> bool:
        """Bring the ConfigMap to `desired` (whose data decides); True when written now.
        `complete`: whether `desired` lists every pod with its IP (else it may be held longer)."""
        data = _data(desired)
        with self._lock:
            if live is not None and _data(live) == data:
                self._drop_held()
                self._written_over = None  # the cache has caught up with our write
                return False
            if self._written_over == (data, _version(live)):
                return False  # our write is not in the cache yet
            now = self._clock()
            interval = self._interval if complete or live is None else self._incomplete_interval
            if self._last_write is None or now - self._last_write >= interval:
                self._drop_held()
                self._write(client, desired, live, ctx)
                return True
            self._held = (client, desired)
            self._scheduler.schedule(self._key, self._last_write + interval, self._flush)
            return False

    def cancel(self) -> None:
        """Forget any held write (the runtime is going away)."""
        with self._lock:
            self._drop_held()

    @property
    def holding(self) -> bool:
        with self._lock:
            return self._held is not None

    def _drop_held(self) -> None:
        self._held = None
        self._scheduler.cancel(self._key)

    def _write(
        self, client: Client, desired: dict[str, Any], live: dict[str, Any] | None, ctx: Context
    ) -> None:
        apply_owned(client, desired, live, ctx)
        self._last_write = self._clock()
        self._written_over = (_data(desired), _version(live))
        self.writes += 1

    def _flush(self) -> None:
        with self._lock:
            held, self._held = self._held, None
            if held is None:
                return
            client, desired = held
            ctx, cancel = Context.background().with_timeout(WRITE_TIMEOUT)
            try:
                live = client.get(
                    CONFIGMAP,
                    desired["metadata"]["name"],
                    desired["metadata"]["namespace"],
                    ctx=ctx,
                )
                if live is not None and _data(live) == _data(desired):
                    return
                self._write(client, desired, live, ctx)
            except NameConflict as conflict:
                # Not ours (any more): never written; the runtime's next pass reports it.
                log.info("held runtime config write dropped", reason=conflict.message)
            except Exception:
                self._held = held
                self._scheduler.schedule(
                    self._key, self._clock() + max(self._interval, 1.0), self._flush
                )
                raise
            finally:
                cancel()


def _data(config_map: dict[str, Any]) -> dict[str, str]:
    return dict(config_map.get("data") or {})


def _version(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else obj.get("metadata", {}).get("resourceVersion")

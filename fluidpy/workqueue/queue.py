"""The controller work queue: deduplicating, fair, delaying, rate-limited, with priorities.

Guarantees:

* Stingy: a key is queued at most once, however often it is added before a worker takes it.
* Exclusive: a key is never held by two workers. A key added while a worker holds it waits
  ("parked") and is queued again when that worker calls `done()`, so a change that arrives
  mid-reconcile is never lost.
* Fair: within one priority, keys are served in the order they became ready. Higher priorities
  are served first; an entry keeps the highest priority of the adds merged into it, and moves to
  the back of that level when an add raises it.
* Delays: `add_after` keeps the earliest ready time of all pending adds of a key; a delay of zero
  or less is a plain `add`. `add_rate_limited` asks the rate limiter for the delay.
* Shutdown: `shut_down()` ignores further adds and drops delayed entries that are not due yet
  (the process is stopping; a restart lists everything again anyway). Workers still get
  what is queued, then `None`. `shut_down_with_drain()` also waits until every item handed out
  has been marked done.

Not guaranteed: `len()` is informational (controller-runtime says the same) and must not gate
logic; a delayed key joins its level's queue when the queue next looks (any `get()`, `len()` or
metrics scrape), behind keys that were added before that moment.

Delays without a timer thread. There is no waiter thread and no thread per delayed item: delayed
entries sit in a min-heap of ready times, and `get()` moves the due ones to the ready queue before
it looks for work. A worker with nothing to do waits on the queue's condition only until the
earliest ready time (or its own timeout), so the next ready time is computed inside `get()`. When
every worker is busy nobody needs a delayed item yet, and it is picked up by the next `get()`.
This saves a thread and a hand-off per queue and keeps all state under one lock. Waits go through
the injected `Clock`, so tests with a `FakeClock` never sleep through real delays.

The hot path (add, get, done of an undelayed key at one priority) is a handful of dict and deque
operations under one uncontended lock, with no allocation besides dictionary slots. Metrics add a
clock read per operation and two integer/bisect updates; everything else about them is computed
at scrape time (see `fluidpy.metrics.workqueue`).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import Counter, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from fluidpy.metrics.workqueue import COLLECTOR, QueueSample, WorkQueueStats
from fluidpy.workqueue.clock import REAL_CLOCK, Clock
from fluidpy.workqueue.ratelimit import RateLimiter, default_controller_rate_limiter

T = TypeVar("T", bound=Hashable)

LOW_PRIORITY = -100
"""Priority for work nobody is waiting on: the initial list and periodic resyncs.

Controllers add those keys at this priority so that live changes, added at the default 0, are
served first instead of queueing behind a startup flood (controller-runtime does the same).
"""

_MAX_LEVELS = 16
"""Priority levels kept, empty ones included, before a new level drops the empty ones.

A level that drains and refills (the usual case: everything at priority 0) keeps its deque, so
the hot path allocates nothing; the bound stops a caller that uses many priorities from
keeping a deque for each of them forever.
"""

_HEAP_SLACK = 64
"""Superseded heap entries tolerated before the delay heap is rebuilt without them."""


class WorkQueue(Generic[T]):
    """A rate-limited, delaying, priority work queue; items are hashable and never None.

    `name` labels the queue's metrics (a queue without a name exports none). `rate_limiter`
    defaults to `default_controller_rate_limiter()`, the classic controller behaviour of per-key
    backoff bounded by an overall retry rate. `clock` defaults to the monotonic clock; tests
    inject a `FakeClock`. `metrics` defaults to on, as in controller-runtime; turning it off saves
    the clock reads and histogram updates, about a third of a single thread's throughput (see
    benchmarks/bench_workqueue.py).
    """

    def __init__(
        self,
        name: str = "",
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        metrics: bool = True,
    ) -> None:
        self.name = name
        self._clock = clock or REAL_CLOCK
        self._now = self._clock.now
        self._rate_limiter = rate_limiter or default_controller_rate_limiter(self._clock)
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        self._drained = threading.Condition(lock)
        # Ready entries not held by a worker, with their priority; their order lives in _levels.
        self._queued: dict[T, int] = {}
        self._levels: dict[int, deque[T]] = {}
        self._order: list[int] = []  # keys of _levels, highest first
        # (level, key) -> how many of the key's oldest entries in that level were superseded by
        # a priority raise; they are skipped when reached.
        self._stale: dict[tuple[int, T], int] = {}
        # Keys held by a worker -> when it took them (0.0 when metrics are off).
        self._processing: dict[T, float] = {}
        # Keys added while held, with their priority; queued again on done().
        self._parked: dict[T, int] = {}
        # Delayed keys -> (ready time, heap sequence, priority), and the heap of those times.
        self._waiting: dict[T, tuple[float, int, int]] = {}
        self._heap: list[tuple[float, int, T]] = []
        self._heap_stale = 0
        self._seq = itertools.count()
        self._idle = 0  # workers blocked in get(); adds notify only when there are some
        self._shutting_down = False
        self._stats: WorkQueueStats | None = None
        self._added_at: dict[T, float] = {}
        if metrics and name:
            self._stats = WorkQueueStats()
            COLLECTOR.track(self)

    def add(self, item: T, priority: int = 0) -> None:
        """Mark `item` as needing work now, at `priority` or higher if already pending."""
        with self._cond:
            if self._shutting_down:
                return
            if self._merge_into_ready(item, priority):
                return
            if self._waiting and item in self._waiting:
                priority = max(priority, self._unwait(item))
            self._make_ready(item, priority, self._now() if self._stats is not None else 0.0)

    def add_after(self, item: T, delay: float, priority: int = 0) -> None:
        """Mark `item` as needing work once `delay` seconds have passed.

        If the item is already pending, the earlier ready time and the higher priority win.
        """
        if delay <= 0:
            self.add(item, priority)
            return
        with self._cond:
            if self._shutting_down:
                return
            if self._stats is not None:
                self._stats.retries += 1
            if self._merge_into_ready(item, priority):
                return
            ready_at = self._now() + delay
            pending = self._waiting.get(item)
            if pending is not None:
                if pending[0] <= ready_at:
                    self._waiting[item] = (pending[0], pending[1], max(pending[2], priority))
                    return
                priority = max(pending[2], priority)
                self._heap_stale += 1
            seq = next(self._seq)
            self._waiting[item] = (ready_at, seq, priority)
            heapq.heappush(self._heap, (ready_at, seq, item))
            if self._heap_stale > _HEAP_SLACK and self._heap_stale > len(self._waiting):
                self._rebuild_heap()
            if self._idle and self._heap[0][1] == seq:
                # A worker may be sleeping until a later ready time: let it recompute.
                self._cond.notify()

    def add_rate_limited(self, item: T, priority: int = 0) -> None:
        """Re-add `item` after the delay the rate limiter chooses; the usual reaction to failure."""
        self.add_after(item, self._rate_limiter.when(item), priority)

    def get(self, timeout: float | None = None) -> T | None:
        """Take the next item to work on, blocking until there is one.

        Returns None once the queue is shut down and empty, or when `timeout` seconds (on the
        queue's clock) pass without an item. The caller must call `done(item)` when finished.
        """
        with self._cond:
            deadline: float | None = None
            while True:
                if self._heap:
                    self._promote_due()
                if self._queued:
                    item = self._pop()
                    del self._queued[item]
                    stats = self._stats
                    if stats is None:
                        self._processing[item] = 0.0
                    else:
                        now = self._now()
                        stats.queue_duration.observe(now - self._added_at.pop(item))
                        self._processing[item] = now
                    return item
                if self._shutting_down:
                    return None
                now = self._now()
                if timeout is not None:
                    if deadline is None:
                        deadline = now + timeout
                    if now >= deadline:
                        return None
                wake = deadline
                if self._heap and (wake is None or self._heap[0][0] < wake):
                    wake = self._heap[0][0]
                self._idle += 1
                try:
                    self._clock.wait_until(self._cond, wake)
                finally:
                    self._idle -= 1

    def done(self, item: T) -> None:
        """Release `item`, queueing it again if it was added meanwhile; ignores unknown items."""
        with self._cond:
            started = self._processing.pop(item, None)
            if started is None:
                return
            if self._stats is not None:
                self._stats.work_duration.observe(self._now() - started)
            if self._parked:
                priority = self._parked.pop(item, None)
                if priority is not None:
                    self._enqueue(item, priority)
            if self._shutting_down and not self._processing and not self._queued:
                self._drained.notify_all()

    def forget(self, item: T) -> None:
        """Tell the rate limiter the item succeeded, so its next failure starts a fresh backoff."""
        self._rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        """How many rate-limited re-adds the item has had since it was last forgotten."""
        return self._rate_limiter.num_requeues(item)

    def __len__(self) -> int:
        """Items ready and not held by a worker. Informational only: it changes concurrently."""
        with self._cond:
            if self._heap:
                self._promote_due()
            return len(self._queued)

    def shut_down(self) -> None:
        """Ignore adds from now on, drop delayed entries; workers drain the queue, then get None."""
        with self._cond:
            self._shut_down()

    def shut_down_with_drain(self, timeout: float | None = None) -> bool:
        """Shut down, then wait until the queue is empty and every held item is done.

        Returns False if `timeout` seconds (on the queue's clock) passed first. Without a timeout
        a worker that never calls `done()` blocks this forever, as in client-go.
        """
        with self._cond:
            self._shut_down()
            deadline = None if timeout is None else self._now() + timeout
            while self._queued or self._processing:
                if deadline is not None and self._now() >= deadline:
                    return False
                self._clock.wait_until(self._drained, deadline)
            return True

    def shutting_down(self) -> bool:
        return self._shutting_down

    def metrics_sample(self) -> QueueSample:
        """A consistent snapshot for the metrics collector."""
        with self._cond:
            if self._heap:
                self._promote_due()
            now = self._now()
            stats = self._stats or WorkQueueStats()
            depth = Counter(self._queued.values())
            depth.update(self._parked.values())
            ages = [now - started for started in self._processing.values()]
            return QueueSample(
                name=self.name,
                depth=depth,
                adds=stats.adds,
                retries=stats.retries,
                queue_duration=stats.queue_duration.copy(),
                work_duration=stats.work_duration.copy(),
                unfinished_work_seconds=sum(ages),
                longest_running_processor_seconds=max(ages, default=0.0),
            )

    # Everything below runs with the lock held.

    def _merge_into_ready(self, item: T, priority: int) -> bool:
        """Fold an add into the key's ready entry (queued or parked), if it has one."""
        current = self._queued.get(item)
        if current is not None:
            if priority > current:
                self._raise_queued(item, current, priority)
            return True
        if self._parked and item in self._parked:
            self._parked[item] = max(self._parked[item], priority)
            return True
        return False

    def _make_ready(self, item: T, priority: int, since: float) -> None:
        """Turn a key that is not pending at all into a ready entry (parked if held)."""
        stats = self._stats
        if stats is not None:
            stats.adds += 1
            self._added_at[item] = since
        if item in self._processing:
            self._parked[item] = priority
        else:
            self._enqueue(item, priority)

    def _enqueue(self, item: T, priority: int) -> None:
        self._queued[item] = priority
        level = self._levels.get(priority)
        if level is None:
            level = self._new_level(priority)
        level.append(item)
        if self._idle:
            self._cond.notify()

    def _new_level(self, priority: int) -> deque[T]:
        if len(self._order) >= _MAX_LEVELS:
            for empty in [p for p in self._order if not self._levels[p]]:
                del self._levels[empty]
                self._order.remove(empty)
        level: deque[T] = deque()
        self._levels[priority] = level
        self._order.append(priority)
        self._order.sort(reverse=True)
        return level

    def _raise_queued(self, item: T, current: int, priority: int) -> None:
        # Leave the old entry in place and skip it when reached: removing it from the middle of
        # a deque would cost time proportional to the queue's length.
        key = (current, item)
        self._stale[key] = self._stale.get(key, 0) + 1
        self._queued[item] = priority
        level = self._levels.get(priority)
        if level is None:
            level = self._new_level(priority)
        level.append(item)

    def _pop(self) -> T:
        """Remove and return the oldest live entry of the highest non-empty level."""
        for priority in self._order:
            level = self._levels[priority]
            while level:
                item = level.popleft()
                if self._stale:
                    key = (priority, item)
                    skipped = self._stale.get(key)
                    if skipped:
                        if skipped == 1:
                            del self._stale[key]
                        else:
                            self._stale[key] = skipped - 1
                        continue
                return item
        raise AssertionError("queued entries without a live level entry")

    def _unwait(self, item: T) -> int:
        """Cancel a delayed entry that an immediate add overtook; returns its priority."""
        _, _, priority = self._waiting.pop(item)
        self._heap_stale += 1
        if self._heap_stale > _HEAP_SLACK and self._heap_stale > len(self._waiting):
            self._rebuild_heap()
        return priority

    def _rebuild_heap(self) -> None:
        self._heap = [(ready, seq, item) for item, (ready, seq, _) in self._waiting.items()]
        heapq.heapify(self._heap)
        self._heap_stale = 0

    def _promote_due(self) -> None:
        heap = self._heap
        now = self._now()
        while heap and heap[0][0] <= now:
            ready_at, seq, item = heapq.heappop(heap)
            pending = self._waiting.get(item)
            if pending is None or pending[1] != seq:
                self._heap_stale -= 1
                continue
            del self._waiting[item]
            self._make_ready(item, pending[2], ready_at)

    def _shut_down(self) -> None:
        if self._heap:
            # Due entries are ready work, which shutdown drains rather than drops.
            self._promote_due()
        self._shutting_down = True
        self._waiting.clear()
        self._heap.clear()
        self._heap_stale = 0
        self._cond.notify_all()
        self._drained.notify_all()

"""Model-based test: random operation sequences against a deliberately naive reference queue.

The reference keeps one record per pending key in a plain dict and finds the next key by scanning
all of them, so it is easy to check by eye against the documented semantics. Hypothesis drives
both with the same adds (plain, prioritised, delayed, rate-limited), gets, dones, forgets, clock
advances and a shutdown, single-threaded on a fake clock, and compares every answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fluidpy.workqueue import LOW_PRIORITY, FakeClock, ItemExponentialFailureRateLimiter, WorkQueue

KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
PRIORITIES = st.sampled_from([LOW_PRIORITY, 0, 0, 3, 10])
DELAYS = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.5, 4.0])
BASE_DELAY = 0.5
MAX_DELAY = 4.0


@dataclass
class Pending:
    """A key that needs work: ready (in line, or parked while held) or waiting for its time."""

    priority: int
    ready: bool
    ready_at: float = 0.0
    timer_order: int = 0  # orders waiting keys with equal ready times: last set, last due
    line_order: int | None = None  # place in line among ready keys; None while held


class ReferenceQueue:
    def __init__(self) -> None:
        self.pending: dict[str, Pending] = {}
        self.held: set[str] = set()
        self.failures: dict[str, int] = {}
        self.shut = False
        self._counter = itertools.count()

    def add(self, key: str, priority: int) -> None:
        if self.shut:
            return
        entry = self.pending.get(key)
        if entry is None:
            self.pending[key] = Pending(priority, ready=True, line_order=self._line(key))
        elif entry.ready:
            if priority > entry.priority:
                entry.priority = priority
                entry.line_order = self._line(key)
        else:
            entry.ready = True
            entry.priority = max(entry.priority, priority)
            entry.line_order = self._line(key)

    def add_after(self, key: str, delay: float, priority: int, now: float) -> None:
        if delay <= 0:
            self.add(key, priority)
            return
        if self.shut:
            return
        entry = self.pending.get(key)
        if entry is None:
            self.pending[key] = Pending(
                priority, ready=False, ready_at=now + delay, timer_order=next(self._counter)
            )
        elif entry.ready:
            self.add(key, priority)
        else:
            entry.priority = max(entry.priority, priority)
            if now + delay < entry.ready_at:
                entry.ready_at = now + delay
                entry.timer_order = next(self._counter)

    def add_rate_limited(self, key: str, priority: int, now: float) -> None:
        failures = self.failures.get(key, 0)
        self.failures[key] = failures + 1
        self.add_after(key, min(BASE_DELAY * 2**failures, MAX_DELAY), priority, now)

    def promote(self, now: float) -> None:
        due = [k for k, e in self.pending.items() if not e.ready and e.ready_at <= now]
        due.sort(key=lambda k: (self.pending[k].ready_at, self.pending[k].timer_order))
        for key in due:
            self.pending[key].ready = True
            self.pending[key].line_order = self._line(key)

    def get(self, now: float) -> str | None:
        self.promote(now)
        in_line = [k for k, e in self.pending.items() if e.ready and k not in self.held]
        if not in_line:
            return None
        key = min(in_line, key=lambda k: (-self.pending[k].priority, self.pending[k].line_order))
        del self.pending[key]
        self.held.add(key)
        return key

    def done(self, key: str) -> None:
        self.held.discard(key)
        entry = self.pending.get(key)
        if entry is not None and entry.ready:
            entry.line_order = next(self._counter)

    def shut_down(self, now: float) -> None:
        self.promote(now)
        self.shut = True
        self.pending = {k: e for k, e in self.pending.items() if e.ready}

    def ready_count(self, now: float) -> int:
        self.promote(now)
        return sum(1 for k, e in self.pending.items() if e.ready and k not in self.held)

    def depth(self, now: float) -> int:
        """Ready entries, including those parked behind a worker (the depth metric's view)."""
        self.promote(now)
        return sum(1 for e in self.pending.values() if e.ready)

    def _line(self, key: str) -> int | None:
        return None if key in self.held else next(self._counter)


class WorkQueueMatchesReference(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        limiter = ItemExponentialFailureRateLimiter(base_delay=BASE_DELAY, max_delay=MAX_DELAY)
        self.queue: WorkQueue[str] = WorkQueue("model", rate_limiter=limiter, clock=self.clock)
        self.model = ReferenceQueue()

    @rule(key=KEYS, priority=PRIORITIES)
    def add(self, key: str, priority: int) -> None:
        self.queue.add(key, priority)
        self.model.add(key, priority)

    @rule(key=KEYS, delay=DELAYS, priority=PRIORITIES)
    def add_after(self, key: str, delay: float, priority: int) -> None:
        self.queue.add_after(key, delay, priority)
        self.model.add_after(key, delay, priority, self.clock.now())

    @rule(key=KEYS, priority=PRIORITIES)
    def add_rate_limited(self, key: str, priority: int) -> None:
        self.queue.add_rate_limited(key, priority)
        self.model.add_rate_limited(key, priority, self.clock.now())

    @rule()
    def get(self) -> None:
        assert self.queue.get(timeout=0) == self.model.get(self.clock.now())

    @precondition(lambda self: bool(self.model.held))
    @rule(data=st.data())
    def done(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.held)))
        self.queue.done(key)
        self.model.done(key)

    @rule(key=KEYS)
    def done_of_a_key_not_held(self, key: str) -> None:
        if key not in self.model.held:
            self.queue.done(key)

    @rule(key=KEYS)
    def forget(self, key: str) -> None:
        self.queue.forget(key)
        self.model.failures.pop(key, None)

    @rule(seconds=st.sampled_from([0.25, 0.5, 1.0, 3.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @precondition(lambda self: not self.model.shut)
    @rule()
    def shut_down(self) -> None:
        self.queue.shut_down()
        self.model.shut_down(self.clock.now())

    @invariant()
    def same_length(self) -> None:
        assert len(self.queue) == self.model.ready_count(self.clock.now())

    @invariant()
    def same_requeue_counts(self) -> None:
        for key in "abcde":
            assert self.queue.num_requeues(key) == self.model.failures.get(key, 0)

    @invariant()
    def depth_metric_counts_ready_entries(self) -> None:
        sample = self.queue.metrics_sample()
        assert sum(sample.depth.values()) == self.model.depth(self.clock.now())

    @invariant()
    def shutting_down_agrees(self) -> None:
        assert self.queue.shutting_down() == self.model.shut


WorkQueueMatchesReference.TestCase.settings = settings(
    max_examples=300, stateful_step_count=60, deadline=None
)
test_work_queue_matches_reference = WorkQueueMatchesReference.TestCase

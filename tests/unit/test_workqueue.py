"""The work queue's guarantees, one behaviour per test, on a fake clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import pytest

from fluidpy.workqueue import (
    LOW_PRIORITY,
    FakeClock,
    ItemExponentialFailureRateLimiter,
    WorkQueue,
)

R = TypeVar("R")

HANG_GUARD = 10.0
"""Real seconds before a test that waits for another thread gives up; never reached when green."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> WorkQueue[str]:
    return WorkQueue("spec", clock=clock)


def drain(queue: WorkQueue[str]) -> list[str]:
    """Take (and finish) everything ready now, in the order the queue hands it out."""
    taken = []
    while (item := queue.get(timeout=0)) is not None:
        taken.append(item)
        queue.done(item)
    return taken


class Background(Generic[R]):
    """Runs a call on its own thread so a test can check that it blocks, then what it returns."""

    def __init__(self, fn: Callable[[], R]) -> None:
        self._result: list[R] = []
        self._thread = threading.Thread(target=lambda: self._result.append(fn()), daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self) -> R:
        self._thread.join(HANG_GUARD)
        assert not self._thread.is_alive(), "the background call did not return"
        return self._result[0]


def eventually(predicate: Callable[[], bool]) -> None:
    give_up = time.monotonic() + HANG_GUARD
    while not predicate():
        assert time.monotonic() < give_up, "condition never became true"
        time.sleep(0.001)


# Deduplication and exclusivity


def test_a_key_added_several_times_before_it_is_taken_is_handed_out_once(
    queue: WorkQueue[str],
) -> None:
    queue.add("a")
    queue.add("b")
    queue.add("a")
    assert len(queue) == 2
    assert drain(queue) == ["a", "b"]


def test_keys_are_handed_out_in_the_order_they_were_added(queue: WorkQueue[str]) -> None:
    for key in ["c", "a", "d", "b"]:
        queue.add(key)
    assert drain(queue) == ["c", "a", "d", "b"]


def test_a_key_held_by_a_worker_is_not_handed_to_another_worker(queue: WorkQueue[str]) -> None:
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.add("a")
    queue.add("b")
    assert queue.get(timeout=0) == "b"
    assert queue.get(timeout=0) is None


def test_a_key_added_while_held_is_handed_out_again_after_done(queue: WorkQueue[str]) -> None:
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.add("a")
    queue.add("a")
    queue.done("a")
    assert queue.get(timeout=0) == "a"
    queue.done("a")
    assert queue.get(timeout=0) is None


def test_a_key_re_added_while_held_goes_behind_keys_queued_before_done(
    queue: WorkQueue[str],
) -> None:
    queue.add("a")
    queue.get(timeout=0)
    queue.add("a")
    queue.add("b")
    queue.done("a")
    assert drain(queue) == ["b", "a"]


def test_done_for_a_key_nobody_holds_changes_nothing(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.done("a")
    queue.done("never-added")
    assert drain(queue) == ["a"]


def test_len_counts_ready_keys_but_not_held_ones(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.add("b")
    queue.get(timeout=0)
    queue.add("a")
    assert len(queue) == 1


# Priorities


def test_higher_priority_keys_are_handed_out_first(queue: WorkQueue[str]) -> None:
    queue.add("low", priority=-5)
    queue.add("normal")
    queue.add("high", priority=10)
    assert drain(queue) == ["high", "normal", "low"]


def test_keys_of_one_priority_are_handed_out_first_in_first_out(queue: WorkQueue[str]) -> None:
    queue.add("x1", priority=3)
    queue.add("other")
    queue.add("x2", priority=3)
    queue.add("x3", priority=3)
    assert drain(queue) == ["x1", "x2", "x3", "other"]


def test_an_entry_keeps_the_highest_priority_of_its_adds(queue: WorkQueue[str]) -> None:
    queue.add("raised", priority=LOW_PRIORITY)
    queue.add("kept", priority=5)
    queue.add("middle", priority=1)
    queue.add("raised", priority=5)
    queue.add("kept", priority=LOW_PRIORITY)
    assert drain(queue) == ["kept", "raised", "middle"]


def test_a_raised_entry_joins_the_back_of_its_new_priority(queue: WorkQueue[str]) -> None:
    queue.add("first", priority=5)
    queue.add("raised")
    queue.add("second", priority=5)
    queue.add("raised", priority=5)
    assert drain(queue) == ["first", "second", "raised"]


def test_a_key_raised_twice_is_still_handed_out_once(queue: WorkQueue[str]) -> None:
    queue.add("k", priority=LOW_PRIORITY)
    queue.add("k", priority=0)
    queue.add("k", priority=7)
    assert drain(queue) == ["k"]
    queue.add("k", priority=LOW_PRIORITY)
    assert drain(queue) == ["k"]


def test_live_events_overtake_the_initial_list_added_at_low_priority(
    queue: WorkQueue[str],
) -> None:
    for i in range(5):
        queue.add(f"listed-{i}", priority=LOW_PRIORITY)
    queue.add("changed-just-now")
    assert drain(queue) == ["changed-just-now"] + [f"listed-{i}" for i in range(5)]


def test_a_parked_key_keeps_the_highest_priority_it_was_added_with(
    queue: WorkQueue[str],
) -> None:
    queue.add("a")
    queue.get(timeout=0)
    queue.add("a", priority=LOW_PRIORITY)
    queue.add("a", priority=9)
    queue.add("b", priority=5)
    queue.done("a")
    assert drain(queue) == ["a", "b"]


def test_many_distinct_priorities_are_served_highest_first(queue: WorkQueue[str]) -> None:
    for round_ in range(3):
        for priority in range(40):
            queue.add(f"p{priority}-r{round_}", priority=priority)
        expected = [f"p{priority}-r{round_}" for priority in reversed(range(40))]
        assert drain(queue) == expected


# Delays


def test_add_after_holds_a_key_back_until_its_delay_has_passed(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("a", 5.0)
    assert queue.get(timeout=0) is None
    clock.advance(4.9)
    assert queue.get(timeout=0) is None
    clock.advance(0.1)
    assert queue.get(timeout=0) == "a"


@pytest.mark.parametrize("delay", [0.0, -3.0])
def test_add_after_without_a_positive_delay_adds_at_once(
    queue: WorkQueue[str], delay: float
) -> None:
    queue.add_after("a", delay)
    assert queue.get(timeout=0) == "a"


def test_a_key_delayed_twice_keeps_the_earlier_ready_time(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("later-then-sooner", 10.0)
    queue.add_after("later-then-sooner", 2.0)
    queue.add_after("sooner-then-later", 2.0)
    queue.add_after("sooner-then-later", 10.0)
    clock.advance(2.0)
    assert sorted(drain(queue)) == ["later-then-sooner", "sooner-then-later"]
    clock.advance(10.0)
    assert drain(queue) == []


def test_an_immediate_add_overtakes_a_pending_delay(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("a", 10.0)
    queue.add("a")
    assert drain(queue) == ["a"]
    clock.advance(10.0)
    assert drain(queue) == []


def test_a_delayed_add_of_a_ready_key_leaves_it_ready(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add("a")
    queue.add_after("a", 10.0)
    assert drain(queue) == ["a"]
    clock.advance(10.0)
    assert drain(queue) == []


def test_a_delayed_entry_keeps_the_highest_priority_of_its_adds(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("a", 1.0, priority=8)
    queue.add_after("a", 5.0, priority=LOW_PRIORITY)
    queue.add("b", priority=3)
    clock.advance(1.0)
    assert drain(queue) == ["a", "b"]


def test_delayed_keys_become_ready_in_the_order_of_their_ready_times(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("third", 3.0)
    queue.add_after("first", 1.0)
    queue.add_after("second", 2.0)
    clock.advance(5.0)
    assert drain(queue) == ["first", "second", "third"]


def test_a_delayed_key_that_becomes_ready_while_held_waits_for_done(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add("a")
    queue.get(timeout=0)
    queue.add_after("a", 1.0)
    clock.advance(1.0)
    assert queue.get(timeout=0) is None
    queue.done("a")
    assert queue.get(timeout=0) == "a"


def test_many_overtaken_delays_leave_only_the_live_ones(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    for round_ in range(20):
        for i in range(50):
            queue.add_after(f"k{i}", 100.0 - round_)
    for i in range(0, 50, 2):
        queue.add(f"k{i}")
    assert sorted(drain(queue)) == sorted(f"k{i}" for i in range(0, 50, 2))
    clock.advance(81.0)
    assert sorted(drain(queue)) == sorted(f"k{i}" for i in range(1, 50, 2))
    clock.advance(100.0)
    assert drain(queue) == []


# Rate limiting


def test_add_rate_limited_waits_as_long_as_the_limiter_says(clock: FakeClock) -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=100.0)
    queue: WorkQueue[str] = WorkQueue(rate_limiter=limiter, clock=clock)
    for expected_delay in [1.0, 2.0, 4.0]:
        queue.add_rate_limited("a")
        clock.advance(expected_delay - 0.5)
        assert queue.get(timeout=0) is None
        clock.advance(0.5)
        assert queue.get(timeout=0) == "a"
        queue.done("a")
    assert queue.num_requeues("a") == 3


def test_forget_makes_the_next_failure_start_from_the_base_delay(clock: FakeClock) -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=100.0)
    queue: WorkQueue[str] = WorkQueue(rate_limiter=limiter, clock=clock)
    queue.add_rate_limited("a")
    queue.add_rate_limited("a")
    queue.forget("a")
    assert queue.num_requeues("a") == 0
    queue.add_rate_limited("a")
    clock.advance(1.0)
    assert queue.get(timeout=0) == "a"


def test_the_default_limiter_retries_a_first_failure_after_five_milliseconds(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_rate_limited("a")
    clock.advance(0.004)
    assert queue.get(timeout=0) is None
    clock.advance(0.001)
    assert queue.get(timeout=0) == "a"


# Blocking


def test_a_blocked_get_returns_a_key_added_later(queue: WorkQueue[str], clock: FakeClock) -> None:
    worker = Background(queue.get)
    eventually(lambda: clock.sleepers() == 1)
    queue.add("a")
    assert worker.result() == "a"


def test_a_blocked_get_wakes_when_a_delayed_key_becomes_ready(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("a", 30.0)
    worker = Background(queue.get)
    eventually(lambda: clock.sleepers() == 1)
    clock.advance(29.0)
    eventually(lambda: clock.sleepers() == 1)
    assert worker.running()
    clock.advance(1.0)
    assert worker.result() == "a"


def test_a_blocked_get_notices_a_delay_shorter_than_the_one_it_sleeps_for(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("slow", 60.0)
    worker = Background(queue.get)
    eventually(lambda: clock.sleepers() == 1)
    queue.add_after("fast", 1.0)
    clock.advance(1.0)
    assert worker.result() == "fast"


def test_get_returns_none_when_its_timeout_passes(queue: WorkQueue[str], clock: FakeClock) -> None:
    assert queue.get(timeout=0) is None
    worker = Background(lambda: queue.get(timeout=5.0))
    eventually(lambda: clock.sleepers() == 1)
    clock.advance(4.0)
    eventually(lambda: clock.sleepers() == 1)
    assert worker.running()
    clock.advance(1.0)
    assert worker.result() is None


def test_a_get_with_a_timeout_still_returns_a_key_added_in_time(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    worker = Background(lambda: queue.get(timeout=5.0))
    eventually(lambda: clock.sleepers() == 1)
    queue.add("a")
    assert worker.result() == "a"


# Shutdown


def test_after_shut_down_adds_are_ignored_and_queued_keys_drain_before_none(
    queue: WorkQueue[str],
) -> None:
    queue.add("a")
    queue.add("b")
    queue.shut_down()
    queue.add("c")
    queue.add_after("d", 1.0)
    assert queue.shutting_down()
    assert drain(queue) == ["a", "b"]
    assert queue.get() is None


def test_shut_down_wakes_blocked_workers_with_none(queue: WorkQueue[str], clock: FakeClock) -> None:
    workers = [Background(queue.get) for _ in range(3)]
    eventually(lambda: clock.sleepers() == 3)
    queue.shut_down()
    assert [worker.result() for worker in workers] == [None, None, None]


def test_shut_down_drops_delayed_keys_that_are_not_due(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("due", 1.0)
    queue.add_after("not-due", 2.0)
    clock.advance(1.0)
    queue.shut_down()
    clock.advance(1.0)
    assert drain(queue) == ["due"]


def test_a_key_re_added_while_held_before_shut_down_is_still_handed_out(
    queue: WorkQueue[str],
) -> None:
    queue.add("a")
    queue.get(timeout=0)
    queue.add("a")
    queue.shut_down()
    queue.done("a")
    assert queue.get() == "a"


def test_shut_down_with_drain_waits_until_held_keys_are_done(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.add("b")
    assert queue.get() == "a"
    drainer = Background(queue.shut_down_with_drain)
    eventually(queue.shutting_down)
    assert queue.get() == "b"
    queue.done("a")
    assert drainer.running()
    queue.done("b")
    assert drainer.result() is True
    assert queue.get() is None


def test_shut_down_with_drain_gives_up_after_its_timeout(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add("stuck")
    queue.get()
    drainer = Background(lambda: queue.shut_down_with_drain(timeout=30.0))
    eventually(lambda: clock.sleepers() == 1)
    clock.advance(30.0)
    assert drainer.result() is False


def test_shut_down_with_drain_of_an_idle_queue_returns_at_once(queue: WorkQueue[str]) -> None:
    assert queue.shut_down_with_drain() is True

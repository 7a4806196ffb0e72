"""How a controller's workers turn reconcile outcomes into queue operations and metrics."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import structlog

from fluidpy import log
from fluidpy.context import Context
from fluidpy.controller import Controller, Request, Result, TerminalError
from fluidpy.metrics import REGISTRY

WAIT = 10.0  # generous bound for a background thread to make progress; never a timing assertion


class RecordingQueue:
    """A work queue that hands out a fixed list of requests and records every call."""

    def __init__(self, items: Iterable[Request] = ()) -> None:
        self._items: deque[Request] = deque(items)
        self._cond = threading.Condition()
        self._shut = False
        self.calls: list[tuple[Any, ...]] = []
        self.in_flight: set[Request] = set()

    def add(self, item: Request, priority: int = 0) -> None:
        self._record("add", item, priority)

    def add_after(self, item: Request, delay: float, priority: int = 0) -> None:
        self._record("add_after", item, delay)

    def add_rate_limited(self, item: Request, priority: int = 0) -> None:
        self._record("add_rate_limited", item)

    def forget(self, item: Request) -> None:
        self._record("forget", item)

    def get(self, timeout: float | None = None) -> Request | None:
        with self._cond:
            while not self._items and not self._shut:
                self._cond.wait()
            if not self._items:
                return None
            item = self._items.popleft()
            self.in_flight.add(item)
            return item

    def done(self, item: Request) -> None:
        with self._cond:
            self.in_flight.discard(item)
        self._record("done", item)

    def shut_down(self) -> None:
        self._record("shut_down", None)
        self._close()

    def _close(self) -> None:
        with self._cond:
            self._shut = True
            self._cond.notify_all()

    def shut_down_with_drain(self, timeout: float | None = None) -> bool:
        self._record("shut_down_with_drain", timeout)
        self._close()
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        with self._cond:
            while self._items or self.in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def push(self, item: Request) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def _record(self, *call: Any) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[tuple[Any, ...]]], bool]) -> None:
        deadline = time.monotonic() + WAIT
        with self._cond:
            while not predicate(self.calls):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"queue calls never matched; saw {self.calls}"
                self._cond.wait(remaining)

    def queue_ops(self, item: Request) -> list[tuple[Any, ...]]:
        """Calls about `item` other than done(), in order."""
        return [c for c in self.calls if c[1] == item and c[0] != "done"]

    def done_count(self) -> int:
        return sum(1 for c in self.calls if c[0] == "done")


class FnReconciler:
    def __init__(self, fn: Callable[[Context, Request], Result | None]) -> None:
        self.fn = fn

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        return self.fn(ctx, request)


def unique_name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def sample(metric: str, controller: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(metric, {"controller": controller, **labels})
    return 0.0 if value is None else value


def run_until_done(
    fn: Callable[[Context, Request], Result | None],
    requests: list[Request],
    **options: Any,
) -> tuple[RecordingQueue, str]:
    """Run a controller over `requests` until each was handed back with done(), then stop it."""
    name = unique_name()
    queue = RecordingQueue(requests)
    controller = Controller(name, FnReconciler(fn), queue, **options)
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    queue.wait_for(lambda calls: sum(1 for c in calls if c[0] == "done") >= len(requests))
    cancel()
    thread.join(WAIT)
    assert not thread.is_alive()
    return queue, name


REQ = Request("ns", "obj")


def test_success_forgets_the_request_and_counts_success() -> None:
    queue, name = run_until_done(lambda ctx, req: None, [REQ])
    assert queue.queue_ops(REQ) == [("forget", REQ)]
    assert sample("controller_runtime_reconcile_total", name, result="success") == 1


def test_empty_result_is_a_success() -> None:
    queue, name = run_until_done(lambda ctx, req: Result(), [REQ])
    assert queue.queue_ops(REQ) == [("forget", REQ)]
    assert sample("controller_runtime_reconcile_total", name, result="success") == 1


def test_requeue_after_forgets_then_adds_after_the_delay() -> None:
    queue, name = run_until_done(lambda ctx, req: Result(requeue_after=7.5), [REQ])
    assert queue.queue_ops(REQ) == [("forget", REQ), ("add_after", REQ, 7.5)]
    assert sample("controller_runtime_reconcile_total", name, result="requeue_after") == 1


def test_requeue_without_delay_backs_off_through_the_rate_limiter() -> None:
    queue, name = run_until_done(lambda ctx, req: Result(requeue=True), [REQ])
    assert queue.queue_ops(REQ) == [("add_rate_limited", REQ)]
    assert sample("controller_runtime_reconcile_total", name, result="requeue") == 1
    assert sample("controller_runtime_reconcile_errors_total", name) == 0


def test_requeue_after_takes_precedence_over_requeue() -> None:
    queue, _ = run_until_done(lambda ctx, req: Result(requeue_after=3, requeue=True), [REQ])
    assert queue.queue_ops(REQ) == [("forget", REQ), ("add_after", REQ, 3)]


def test_an_exception_is_retried_with_backoff_and_counted_as_an_error() -> None:
    def fail(ctx: Context, req: Request) -> None:
        raise RuntimeError("boom")

    queue, name = run_until_done(fail, [REQ])
    assert queue.queue_ops(REQ) == [("add_rate_limited", REQ)]
    assert sample("controller_runtime_reconcile_total", name, result="error") == 1
    assert sample("controller_runtime_reconcile_errors_total", name) == 1
    assert sample("controller_runtime_terminal_reconcile_errors_total", name) == 0
    assert sample("controller_runtime_reconcile_panics_total", name) == 0


def test_a_terminal_error_is_not_retried_and_is_counted_as_terminal() -> None:
    def fail(ctx: Context, req: Request) -> None:
        raise TerminalError("invalid spec")

    queue, name = run_until_done(fail, [REQ])
    assert queue.queue_ops(REQ) == [("forget", REQ)]
    assert sample("controller_runtime_reconcile_total", name, result="error") == 1
    assert sample("controller_runtime_reconcile_errors_total", name) == 1
    assert sample("controller_runtime_terminal_reconcile_errors_total", name) == 1


def test_a_wrong_return_type_is_an_error() -> None:
    queue, name = run_until_done(lambda ctx, req: "done", [REQ])  # type: ignore[arg-type,return-value]
    assert queue.queue_ops(REQ) == [("add_rate_limited", REQ)]
    assert sample("controller_runtime_reconcile_errors_total", name) == 1


class Crash(BaseException):
    """Not an Exception: the Python analogue of a Go panic."""


@pytest.mark.parametrize("crash", [Crash("bug"), SystemExit(3), KeyboardInterrupt()])
def test_a_base_exception_is_a_panic_that_is_also_retried(crash: BaseException) -> None:
    def fail(ctx: Context, req: Request) -> None:
        raise crash

    queue, name = run_until_done(fail, [REQ])
    assert queue.queue_ops(REQ) == [("add_rate_limited", REQ)]
    assert sample("controller_runtime_reconcile_panics_total", name) == 1
    assert sample("controller_runtime_reconcile_errors_total", name) == 1


def test_a_worker_survives_failures_and_keeps_reconciling() -> None:
    seen: list[Request] = []
    requests = [Request("ns", f"obj-{i}") for i in range(6)]

    def flaky(ctx: Context, req: Request) -> None:
        seen.append(req)
        index = int(req.name.split("-")[1])
        if index % 3 == 0:
            raise RuntimeError("error")
        if index % 3 == 1:
            raise Crash("panic")

    queue, name = run_until_done(flaky, requests, max_concurrent_reconciles=1)
    assert seen == requests
    assert queue.done_count() == len(requests)
    assert sample("controller_runtime_reconcile_errors_total", name) == 4
    assert sample("controller_runtime_reconcile_panics_total", name) == 2
    assert sample("controller_runtime_reconcile_total", name, result="success") == 2


def test_a_fault_in_the_framework_is_counted_as_a_panic_and_the_worker_continues() -> None:
    class BrokenForget(RecordingQueue):
        def forget(self, item: Request) -> None:
            super().forget(item)
            if item.name == "first":
                raise RuntimeError("bug in queue")

    name = unique_name()
    first, second = Request("ns", "first"), Request("ns", "second")
    queue = BrokenForget([first, second])
    controller = Controller(name, FnReconciler(lambda ctx, req: None), queue)
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    queue.wait_for(lambda calls: ("done", second) in calls)
    cancel()
    thread.join(WAIT)
    assert ("done", first) in queue.calls
    assert sample("controller_runtime_reconcile_panics_total", name) == 1


def test_every_reconcile_binds_controller_request_and_a_fresh_reconcile_id_under_cr_names() -> None:
    bound: list[dict[str, Any]] = []

    def capture(ctx: Context, req: Request) -> None:
        bound.append(structlog.contextvars.get_contextvars())

    requests = [Request("ns-a", "one"), Request("", "cluster-scoped")]
    _, name = run_until_done(capture, requests)
    assert [(b["controller"], b["namespace"], b["name"]) for b in bound] == [
        (name, "ns-a", "one"),
        (name, "", "cluster-scoped"),
    ]
    ids = [b["reconcileID"] for b in bound]
    assert len(set(ids)) == 2
    assert all(uuid.UUID(i) for i in ids)
    assert structlog.contextvars.get_contextvars() == {}


def test_each_reconcile_logs_its_start_and_its_result_and_duration_at_debug() -> None:
    requests = [Request("ns-a", "plain"), Request("ns-a", "later")]

    def reconcile(ctx: Context, req: Request) -> Result | None:
        return Result(requeue_after=30.0) if req.name == "later" else None

    out = io.StringIO()
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    log.configure("json", "debug", stream=out, environ={})
    try:
        _, controller = run_until_done(reconcile, requests)
    finally:
        structlog.configure(**config)
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    mine = [line for line in lines if line.get("name") in ("plain", "later")]
    starts = [line["name"] for line in mine if line["msg"] == "Reconciling"]
    ends = {line["name"]: line for line in mine if line["msg"] == "Reconcile successful"}
    assert starts == ["plain", "later"]
    assert ends["plain"]["result"] == "success" and ends["later"]["result"] == "requeue_after"
    assert ends["later"]["requeue_after"] == 30.0
    for line in mine:
        assert line["level"] == "debug" and line["controller"] == controller
        assert line["namespace"] == "ns-a" and uuid.UUID(line["reconcileID"])
    assert all(line["duration"] >= 0 for line in ends.values())


def test_a_reconcile_that_overruns_its_timeout_sees_the_deadline_and_is_counted() -> None:
    errors: list[Exception | None] = []

    def slow(ctx: Context, req: Request) -> None:
        ctx.wait()  # a cooperative reconcile waits on its context instead of sleeping
        errors.append(ctx.err())
        ctx.check()

    queue, name = run_until_done(slow, [REQ], reconcile_timeout=0.05)
    assert type(errors[0]).__name__ == "DeadlineExceeded"
    assert sample("controller_runtime_reconcile_timeouts_total", name) == 1
    assert sample("controller_runtime_reconcile_errors_total", name) == 1
    assert queue.queue_ops(REQ) == [("add_rate_limited", REQ)]


def test_a_reconcile_within_its_timeout_is_not_counted_as_timed_out() -> None:
    _, name = run_until_done(lambda ctx, req: None, [REQ], reconcile_timeout=30)
    assert sample("controller_runtime_reconcile_timeouts_total", name) == 0


def test_metrics_of_a_started_controller_exist_at_zero() -> None:
    _, name = run_until_done(lambda ctx, req: None, [], max_concurrent_reconciles=3)
    for result in ("success", "error", "requeue", "requeue_after"):
        assert (
            REGISTRY.get_sample_value(
                "controller_runtime_reconcile_total", {"controller": name, "result": result}
            )
            is not None
        )
    for metric in (
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_terminal_reconcile_errors_total",
        "controller_runtime_reconcile_panics_total",
        "controller_runtime_reconcile_timeouts_total",
        "controller_runtime_active_workers",
    ):
        assert REGISTRY.get_sample_value(metric, {"controller": name}) == 0
    assert sample("controller_runtime_max_concurrent_reconciles", name) == 3
    assert sample("controller_runtime_reconcile_time_seconds_count", name) == 0


def test_reconcile_time_is_observed_and_active_workers_return_to_zero() -> None:
    active_during: list[float] = []
    name_holder: list[str] = []

    def observe(ctx: Context, req: Request) -> None:
        active_during.append(sample("controller_runtime_active_workers", name_holder[0]))

    name = unique_name()
    name_holder.append(name)
    queue = RecordingQueue([REQ, Request("ns", "other")])
    controller = Controller(name, FnReconciler(observe), queue)
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    queue.wait_for(lambda calls: sum(1 for c in calls if c[0] == "done") == 2)
    cancel()
    thread.join(WAIT)
    assert active_during == [1, 1]
    assert sample("controller_runtime_active_workers", name) == 0
    assert sample("controller_runtime_reconcile_time_seconds_count", name) == 2


def test_workers_reconcile_different_keys_in_parallel() -> None:
    barrier = threading.Barrier(3, timeout=WAIT)

    def meet(ctx: Context, req: Request) -> None:
        barrier.wait()  # only passes if three reconciles run at the same time

    requests = [Request("ns", f"k{i}") for i in range(3)]
    _, name = run_until_done(meet, requests, max_concurrent_reconciles=3)
    assert sample("controller_runtime_reconcile_total", name, result="success") == 3


def test_a_slow_reconcile_does_not_block_other_keys() -> None:
    release = threading.Event()
    slow, fast = Request("ns", "slow"), Request("ns", "fast")

    def reconcile(ctx: Context, req: Request) -> None:
        if req == slow:
            release.wait(WAIT)

    name = unique_name()
    queue = RecordingQueue([slow, fast])
    controller = Controller(name, FnReconciler(reconcile), queue, max_concurrent_reconciles=2)
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    queue.wait_for(lambda calls: ("done", fast) in calls)
    assert ("done", slow) not in queue.calls
    release.set()
    queue.wait_for(lambda calls: ("done", slow) in calls)
    cancel()
    thread.join(WAIT)


def test_shutdown_drains_queued_requests_with_live_contexts() -> None:
    started = threading.Event()
    release = threading.Event()
    contexts_done: list[bool] = []
    first, second = Request("ns", "first"), Request("ns", "second")

    def reconcile(ctx: Context, req: Request) -> None:
        if req == first:
            started.set()
            release.wait(WAIT)
        contexts_done.append(ctx.done())

    queue = RecordingQueue([first])
    controller = Controller(unique_name(), FnReconciler(reconcile), queue)
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    assert started.wait(WAIT)
    queue.push(second)  # queued before shutdown begins
    cancel()
    release.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert contexts_done == [False, False]
    assert ("done", second) in queue.calls


def test_shutdown_cancels_reconciles_still_running_after_the_graceful_timeout() -> None:
    started = threading.Event()
    outcome: list[Exception | None] = []

    def stuck(ctx: Context, req: Request) -> None:
        started.set()
        ctx.wait(WAIT)
        outcome.append(ctx.err())

    queue = RecordingQueue([REQ])
    controller = Controller(
        unique_name(), FnReconciler(stuck), queue, graceful_shutdown_timeout=0.05
    )
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    assert started.wait(WAIT)
    cancel()
    thread.join(WAIT)
    queue.wait_for(lambda calls: ("done", REQ) in calls)
    assert type(outcome[0]).__name__ == "Cancelled"


def test_abort_cancels_in_flight_reconciles_and_skips_queued_ones() -> None:
    started = threading.Event()
    reconciled: list[Request] = []
    first, queued = Request("ns", "first"), Request("ns", "queued")

    def reconcile(ctx: Context, req: Request) -> None:
        reconciled.append(req)
        started.set()
        ctx.wait(WAIT)

    queue = RecordingQueue([first])
    controller = Controller(unique_name(), FnReconciler(reconcile), queue)
    ctx, _cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    assert started.wait(WAIT)
    queue.push(queued)
    controller.abort()
    thread.join(WAIT)
    assert not thread.is_alive()
    queue.wait_for(lambda calls: ("done", first) in calls)
    assert reconciled == [first]


def test_start_waits_for_its_sources_to_sync() -> None:
    class Informer:
        def __init__(self) -> None:
            self.synced = threading.Event()

        def add_event_handler(self, handler: object) -> None:
            pass

        def has_synced(self) -> bool:
            return self.synced.is_set()

    informer = Informer()
    reconciled = threading.Event()
    queue = RecordingQueue([REQ])
    controller = Controller(unique_name(), FnReconciler(lambda ctx, req: reconciled.set()), queue)
    controller.watch(informer, lambda obj: [])
    ctx, cancel = Context.background().with_cancel()
    thread = threading.Thread(target=controller.start, args=(ctx,), daemon=True)
    thread.start()
    assert not reconciled.wait(0.3)
    informer.synced.set()
    assert reconciled.wait(WAIT)
    cancel()
    thread.join(WAIT)


def test_a_controller_stopped_before_its_sources_sync_shuts_its_queue_without_draining() -> None:
    class NeverSynced:
        def add_event_handler(self, handler: object) -> None:
            pass

        def has_synced(self) -> bool:
            return False

    reconciled: list[Request] = []
    queue = RecordingQueue([REQ])
    controller = Controller(
        unique_name(), FnReconciler(lambda ctx, req: reconciled.append(req)), queue
    )
    controller.watch(NeverSynced(), lambda obj: [])
    ctx, cancel = Context.background().with_cancel()
    cancel()
    controller.start(ctx)
    assert reconciled == []
    assert [c[0] for c in queue.calls] == ["shut_down"]


def test_start_fails_when_sources_never_sync() -> None:
    class NeverSynced:
        def add_event_handler(self, handler: object) -> None:
            pass

        def has_synced(self) -> bool:
            return False

    from fluidpy.controller import CacheSyncTimeoutError

    controller = Controller(
        unique_name(), FnReconciler(lambda c, r: None), RecordingQueue(), cache_sync_timeout=0.2
    )
    controller.watch(NeverSynced(), lambda obj: [])
    with pytest.raises(CacheSyncTimeoutError):
        controller.start(Context.background())


def test_a_controller_starts_only_once() -> None:
    controller = Controller(unique_name(), FnReconciler(lambda c, r: None), RecordingQueue())
    ctx, cancel = Context.background().with_cancel()
    cancel()
    controller.start(ctx)
    with pytest.raises(RuntimeError):
        controller.start(ctx)


@pytest.mark.parametrize(
    "options",
    [{"max_concurrent_reconciles": 0}, {"reconcile_timeout": 0}, {"reconcile_timeout": -1}],
)
def test_invalid_controller_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Controller(unique_name(), FnReconciler(lambda c, r: None), RecordingQueue(), **options)


def test_result_rejects_a_negative_delay() -> None:
    with pytest.raises(ValueError):
        Result(requeue_after=-1)

"""The controller: worker threads that take requests off a queue and reconcile them.

Concurrency. `max_concurrent_reconciles` worker threads (default 1, as in controller-runtime:
one worker is the safe default for reconcilers written without concurrency in mind) share one
work queue. The queue never hands a key to two workers, so reconciles of one object are
serialised while different objects proceed in parallel, and a slow reconcile holds only its own
worker. Handlers run on the informers' threads and only add keys, so watches never wait on
reconciles.

Errors and crashes. A worker never dies of what a reconcile does:

- an `Exception` raised by the reconciler is an *error*: logged with its traceback, counted in
  controller_runtime_reconcile_errors_total, and retried with the queue's backoff (TerminalError:
  counted in controller_runtime_terminal_reconcile_errors_total too, and not retried);
- a `BaseException` that is not an `Exception` (SystemExit, KeyboardInterrupt, GeneratorExit, or
  a custom BaseException) raised by the reconciler, and any exception escaping fluidpy's own
  worker code, is a *panic*: the analogue of a Go panic, something no reconciler should do on
  purpose. It is counted in controller_runtime_reconcile_panics_total, logged with its
  traceback, and (when it came from the reconciler) also handled as an error, so the request is
  retried.

Every log line written during a reconcile, by fluidpy or by the reconciler through structlog,
carries controller, namespace, name and a fresh reconcileID, bound with structlog contextvars
on the worker thread.

Timeouts. With `reconcile_timeout` set, each reconcile gets a child Context with that deadline;
when the deadline passes before the reconcile returns, the reconcile is counted in
controller_runtime_reconcile_timeouts_total. Cancellation is cooperative: the reconciler sees
the deadline through its client calls and ctx.check().

Shutdown. When the context given to start() is done, the queue stops accepting keys; workers go
on with what is already queued (draining), each reconcile with a live Context, for at most
`graceful_shutdown_timeout` seconds. Then the reconcile Contexts are cancelled and start()
returns. abort() skips the draining: used when leadership is lost and another process may
already be reconciling the same objects.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from fluidpy.client import WriteFenced
from fluidpy.context import Context, ContextError, DeadlineExceeded
from fluidpy.controller.handlers import EnqueueHandler, MapFunc
from fluidpy.controller.predicates import Predicate
from fluidpy.controller.reconcile import Reconciler, Request, Result, TerminalError
from fluidpy.log import RECONCILE_ID_KEY, get_logger
from fluidpy.metrics import controller as metrics

LOGGER = "fluidpy.controller"

SYNC_POLL_INTERVAL = 0.1
"""How often start() re-checks that its informers have synced."""


class RequestQueue(Protocol):
    """The work queue operations a controller relies on (fluidpy.workqueue.WorkQueue)."""

    def add(self, item: Request, priority: int = 0) -> None: ...

    def add_after(self, item: Request, delay: float, priority: int = 0) -> None: ...

    def add_rate_limited(self, item: Request, priority: int = 0) -> None: ...

    def get(self, timeout: float | None = None) -> Request | None: ...

    def done(self, item: Request) -> None: ...

    def forget(self, item: Request) -> None: ...

    def shut_down(self) -> None: ...

    def shut_down_with_drain(self, timeout: float | None = None) -> bool: ...


class Source(Protocol):
    """What a controller needs of an informer (fluidpy.informer.SharedInformer)."""

    def add_event_handler(self, handler: EnqueueHandler) -> None: ...

    def has_synced(self) -> bool: ...


class CacheSyncTimeoutError(Exception):
    """The controller's informers did not sync within cache_sync_timeout."""


class Controller:
    """Runs one reconciler over one queue; built by `Manager.controller(name)...complete()`."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
        queue: RequestQueue,
        *,
        max_concurrent_reconciles: int = 1,
        reconcile_timeout: float | None = None,
        cache_sync_timeout: float = 120.0,
        graceful_shutdown_timeout: float = 30.0,
    ) -> None:
        """`cache_sync_timeout` defaults to 2 minutes (controller-runtime's): long enough for a
        large initial list, short enough that a missing CRD or RBAC rule fails start-up visibly.
        `graceful_shutdown_timeout` defaults to 30 s, the pod's default termination grace period.
        """
        if max_concurrent_reconciles < 1:
            raise ValueError("max_concurrent_reconciles must be at least 1")
        if reconcile_timeout is not None and reconcile_timeout <= 0:
            raise ValueError("reconcile_timeout must be positive (or None for no timeout)")
        self.name = name
        self.queue = queue
        self.max_concurrent_reconciles = max_concurrent_reconciles
        self.reconcile_timeout = reconcile_timeout
        self.cache_sync_timeout = cache_sync_timeout
        self.graceful_shutdown_timeout = graceful_shutdown_timeout
        self._reconciler = reconciler
        self._sources: list[Source] = []
        self._lock = threading.Lock()
        self._started = False
        self._aborted = False
        self._cancel_run: Callable[[], None] | None = None
        self._work_ctx, self._cancel_work = Context.background().with_cancel()
        self._gate: Callable[[], bool] = lambda: True
        self._log = get_logger(LOGGER, controller=name)

    def watch(
        self,
        source: Source,
        map_fn: MapFunc,
        predicates: Sequence[Predicate] = (),
        *,
        description: str = "",
    ) -> None:
        """Enqueue the requests `map_fn` derives from `source`'s events that pass `predicates`.

        The handler is registered at once, so events delivered before start() wait in the queue
        and are reconciled as soon as the controller starts (a standby replica that wins the
        election starts with a warm queue).
        """
        with self._lock:
            if self._started:
                raise RuntimeError("cannot add a watch to a started controller")
            self._sources.append(source)
        source.add_event_handler(
            EnqueueHandler(self.queue, map_fn, predicates, controller=self.name, source=description)
        )

    def start(self, ctx: Context) -> None:
        """Reconcile until `ctx` is done, then drain (see the module docstring); blocks."""
        with self._lock:
            if self._started:
                raise RuntimeError(f"controller {self.name} already started")
            self._started = True
            run_ctx, self._cancel_run = ctx.with_cancel()
            if self._aborted:
                self._cancel_run()
        metrics.init_controller(self.name, self.max_concurrent_reconciles)
        workers: list[threading.Thread] = []
        try:
            if not self._wait_for_sync(run_ctx):
                return
            self._log.info("starting workers", workers=self.max_concurrent_reconciles)
            for i in range(self.max_concurrent_reconciles):
                worker = threading.Thread(
                    target=self._worker, name=f"{self.name}-worker-{i}", daemon=True
                )
                worker.start()
                workers.append(worker)
            run_ctx.wait()
        finally:
            self._shut_down(workers)
            self._cancel_run()

    def gate_reconciles(self, gate: Callable[[], bool]) -> None:
        """Start a reconcile only while `gate` says so (a leader: while its lease is proven
        valid); a request the gate holds back is queued again with backoff."""
        self._gate = gate

    def abort(self) -> None:
        """Stop at once: cancel in-flight reconciles and skip what is still queued."""
        with self._lock:
            self._aborted = True
            cancel_run = self._cancel_run
        self._cancel_work()
        self.queue.shut_down()
        if cancel_run is not None:
            cancel_run()

    def _wait_for_sync(self, ctx: Context) -> bool:
        deadline = time.monotonic() + self.cache_sync_timeout
        while not all(source.has_synced() for source in self._sources):
            if ctx.wait(SYNC_POLL_INTERVAL):
                return False
            if time.monotonic() >= deadline:
                raise CacheSyncTimeoutError(
                    f"controller {self.name}: informers not synced after "
                    f"{self.cache_sync_timeout} s"
                )
        return True

    def _shut_down(self, workers: list[threading.Thread]) -> None:
        if not workers:
            # Stopped before the informers synced: nobody would drain what is queued.
            self.queue.shut_down()
            self._cancel_work()
            return
        timeout = 0.0 if self._aborted else self.graceful_shutdown_timeout
        self._log.info("draining work queue", timeout=timeout)
        drained = self.queue.shut_down_with_drain(timeout)
        if not drained:
            self._log.warning("graceful shutdown timed out; cancelling in-flight reconciles")
        self._cancel_work()
        for worker in workers:
            worker.join(timeout=0 if not drained else None)
        self._log.info("controller stopped", drained=drained)

    def _worker(self) -> None:
        while (request := self.queue.get()) is not None:
            try:
                if self._work_ctx.done():
                    continue
                if not self._gate():
                    self._log.debug(
                        "reconcile held back: leadership not proven", request=str(request)
                    )
                    self.queue.add_rate_limited(request)
                    continue
                self._reconcile_handler(request)
            except BaseException:
                metrics.RECONCILE_PANICS.labels(self.name).inc()
                self._log.exception("fluidpy worker fault; worker continues", request=str(request))
            finally:
                self.queue.done(request)

    def _reconcile_handler(self, request: Request) -> None:
        with structlog.contextvars.bound_contextvars(
            controller=self.name,
            namespace=request.namespace,
            name=request.name,
            **{RECONCILE_ID_KEY: str(uuid.uuid4())},
        ):
            if self.reconcile_timeout is None:
                ctx, cancel = self._work_ctx.with_cancel()
            else:
                ctx, cancel = self._work_ctx.with_timeout(self.reconcile_timeout)
            active = metrics.ACTIVE_WORKERS.labels(self.name)
            active.inc()
            self._log.debug("Reconciling")
            started = time.perf_counter()
            result: Result | None = None
            failure: BaseException | None = None
            try:
                returned = self._reconciler.reconcile(ctx, request)
                if returned is not None and not isinstance(returned, Result):
                    raise TypeError(f"reconcile returned {type(returned).__name__}, not Result")
                result = returned
            except Exception as exc:
                failure = exc
            except BaseException as exc:
                metrics.RECONCILE_PANICS.labels(self.name).inc()
                self._log.error("reconcile panicked", exc_info=exc)
                failure = exc
            finally:
                duration = time.perf_counter() - started
                metrics.RECONCILE_TIME.labels(self.name).observe(duration)
                active.dec()
                timed_out = isinstance(ctx.err(), DeadlineExceeded)
                cancel()
            if timed_out:
                metrics.RECONCILE_TIMEOUTS.labels(self.name).inc()
                self._log.warning("reconcile timed out", timeout=self.reconcile_timeout)
            self._apply_outcome(request, result, failure, duration)

    def _apply_outcome(
        self,
        request: Request,
        result: Result | None,
        failure: BaseException | None,
        duration: float,
    ) -> None:
        total = metrics.RECONCILE_TOTAL
        if failure is not None:
            metrics.RECONCILE_ERRORS.labels(self.name).inc()
            total.labels(self.name, metrics.RESULT_ERROR).inc()
            if isinstance(failure, TerminalError):
                metrics.TERMINAL_RECONCILE_ERRORS.labels(self.name).inc()
                self.queue.forget(request)
                self._log.error("reconcile failed with a terminal error", exc_info=failure)
                return
            if isinstance(failure, WriteFenced):
                self._log.info("reconcile stopped: leadership not proven", error=str(failure))
            elif isinstance(failure, ContextError) and self._work_ctx.done():
                self._log.info("reconcile stopped by shutdown", error=str(failure))
            elif isinstance(failure, Exception):
                self._log.error("reconcile failed; retrying with backoff", exc_info=failure)
            self.queue.add_rate_limited(request)
            return
        if result is not None and result.requeue_after > 0:
            outcome = metrics.RESULT_REQUEUE_AFTER
            self.queue.forget(request)
            self.queue.add_after(request, result.requeue_after)
        elif result is not None and result.requeue:
            outcome = metrics.RESULT_REQUEUE
            self.queue.add_rate_limited(request)
        else:
            outcome = metrics.RESULT_SUCCESS
            self.queue.forget(request)
        total.labels(self.name, outcome).inc()
        self._log.debug(
            "Reconcile successful",
            result=outcome,
            requeue_after=result.requeue_after if result is not None else 0.0,
            duration=round(duration, 6),
        )

"""Cooperative cancellation and deadlines, shaped after Go's context.Context.

Threads cannot be killed, so work stops by checking its Context: every client call does, and
long-running loops wait on it instead of sleeping. A child Context is cancelled when its parent
is, which lets a manager stop every worker, informer and probe with one call.

Deadlines are kept by one thread for the whole process, started on first use: a context with a
timeout costs a heap entry, not a thread of its own (a manager makes one per reconcile).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import weakref
from collections.abc import Callable


class ContextError(Exception):
    """Raised by Context.check() once the context is done."""


class Cancelled(ContextError):
    def __init__(self) -> None:
        super().__init__("context cancelled")


class DeadlineExceeded(ContextError):
    def __init__(self) -> None:
        super().__init__("context deadline exceeded")


class Context:
    """A cancellation signal with an optional deadline, shared down a tree of work."""

    __slots__ = ("__weakref__", "_children", "_done", "_err", "_lock", "_parent", "deadline")

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._done = threading.Event()
        self._err: ContextError | None = None
        self._lock = threading.Lock()
        self._children: set[Context] = set()
        self._parent: Context | None = None

    @staticmethod
    def background() -> Context:
        """A root context that is never cancelled by itself."""
        return Context()

    def with_cancel(self) -> tuple[Context, Callable[[], None]]:
        child = Context(self.deadline)
        self._adopt(child)
        return child, child._cancel

    def with_timeout(self, seconds: float) -> tuple[Context, Callable[[], None]]:
        deadline = time.monotonic() + max(seconds, 0.0)
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        child = Context(deadline)
        self._adopt(child)
        if not child.done():
            _DEADLINES.add(child, deadline)
        return child, child._cancel

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the context is done or `timeout` passes; True when done."""
        return self._done.wait(timeout)

    def err(self) -> ContextError | None:
        return self._err

    def check(self) -> None:
        """Raise the reason this context ended, if it has."""
        if self._err is not None:
            raise self._err

    def remaining(self) -> float | None:
        """Seconds left before the deadline, or None without one."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.0)

    def _adopt(self, child: Context) -> None:
        with self._lock:
            if self._err is None:
                self._children.add(child)
                child._parent = self
                return
        child._finish(self._err)

    def _cancel(self) -> None:
        self._finish(Cancelled())

    def _finish(self, err: ContextError) -> None:
        with self._lock:
            if self._err is not None:
                return
            self._err = err
            children, self._children = self._children, set()
            parent, self._parent = self._parent, None
        if parent is not None:
            with parent._lock:
                parent._children.discard(self)
        self._done.set()
        for child in children:
            child._finish(err)


class _Deadlines:
    """Ends contexts at their deadlines, from one thread. The heap holds weak references: a
    context that ended sooner and was dropped leaves only its entry (a few dozen bytes) until
    its deadline comes; cheaper than removing it."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, weakref.ref[Context]]] = []
        self._order = itertools.count()  # ties never compare contexts
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, ctx: Context, deadline: float) -> None:
        with self._changed:
            entry = (deadline, next(self._order), weakref.ref(ctx))
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._changed.notify()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="context-deadlines", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._changed.wait(timeout)
                _, _, ref = heapq.heappop(self._heap)
            ctx = ref()
            if ctx is not None and not ctx.done():
                ctx._finish(DeadlineExceeded())


_DEADLINES = _Deadlines()

"""Cooperative cancellation and deadlines, shaped after Go's context.Context.

Threads cannot be killed, so work stops by checking its Context: every client call does, and
long-running loops wait on it instead of sleeping. A child Context is cancelled when its parent
is, which lets a manager stop every worker, informer and probe with one call.
"""

from __future__ import annotations

import threading
import time
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

    __slots__ = ("_children", "_done", "_err", "_lock", "_parent", "_timer", "deadline")

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._done = threading.Event()
        self._err: ContextError | None = None
        self._lock = threading.Lock()
        self._children: set[Context] = set()
        self._parent: Context | None = None
        self._timer: threading.Timer | None = None

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
            timer = threading.Timer(
                max(deadline - time.monotonic(), 0.0), child._finish, (DeadlineExceeded(),)
            )
            timer.daemon = True
            child._timer = timer
            timer.start()
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
            timer, self._timer = self._timer, None
            parent, self._parent = self._parent, None
        if parent is not None:
            with parent._lock:
                parent._children.discard(self)
        if timer is not None:
            timer.cancel()
        self._done.set()
        for child in children:
            child._finish(err)

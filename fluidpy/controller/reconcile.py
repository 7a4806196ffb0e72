"""The reconcile contract: a Request in, a Result (or an exception) out.

Reconciliation is level-based. A Request names an object and says nothing about what happened to
it; the reconciler reads the current state and drives the world towards the desired one, so it
is correct whatever sequence of events (or lost events) led to the call.

How the outcome maps onto the work queue:

| outcome                         | queue                         | reconcile_total result |
|---------------------------------|-------------------------------|------------------------|
| returns None or Result()        | forget (backoff resets)       | success                |
| Result(requeue_after=s), s > 0  | forget, then add_after(s)     | requeue_after          |
| Result(requeue=True)            | add_rate_limited (backoff)    | requeue                |
| raises TerminalError            | forget, no retry              | error                  |
| raises any other exception      | add_rate_limited (backoff)    | error                  |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fluidpy.context import Context


@dataclass(frozen=True, slots=True)
class Request:
    """The object to reconcile; namespace is "" for cluster-scoped objects."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True)
class Result:
    """What the reconciler wants next.

    `requeue_after` (seconds, default 0: no requeue) schedules another reconcile at a known time,
    for polling something that sends no events. `requeue` (default False) asks for another
    attempt with the queue's backoff, for "not ready yet" waits that are not errors; it is
    ignored when requeue_after is set.
    """

    requeue_after: float = 0.0
    requeue: bool = False

    def __post_init__(self) -> None:
        if self.requeue_after < 0:
            raise ValueError("requeue_after must not be negative")


class TerminalError(Exception):
    """Raise to report a failure that retrying cannot fix (an invalid spec, say).

    The error is logged and counted, and the request is not retried until a new event for the
    object arrives.
    """


class Reconciler(Protocol):
    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        """Drive the named object towards its desired state.

        `ctx` is cancelled on shutdown and when the controller's reconcile timeout expires: pass
        it to every client call, and check it in long loops.
        """
        ...


ReconcileFunc = Callable[[Context, Request], "Result | None"]


class ReconcilerFunc:
    """Adapts a plain function to the Reconciler protocol."""

    def __init__(self, fn: ReconcileFunc) -> None:
        self._fn = fn

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        return self._fn(ctx, request)

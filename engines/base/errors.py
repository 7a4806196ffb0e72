"""The ways an engine says a runtime cannot proceed, each with its own outcome.

The RuntimeReconciler turns each into a status condition, a Warning event and a log line that say
what is wrong and how to fix it. What happens next differs:

- ValidationError: the spec cannot work as written. Nothing is retried until the spec changes
  (the change itself triggers the next reconcile).
- WaitingFor: something the runtime needs does not exist yet (its class, a Secret). Nothing is
  retried on a timer: the missing object is watched, and its creation triggers the next reconcile
  (unless the error names a `retry_after`, for what no watch reports).
- any other exception: a transient failure, retried with per-key exponential backoff.
"""

from __future__ import annotations


class EngineError(Exception):
    """An error that carries the condition reason to report it under."""

    reason = "ErrorProcessRuntime"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class ValidationError(EngineError):
    """The runtime's spec (or its class, or its Dataset) is invalid; names the field and the fix."""

    reason = "ErrorValidateSpecFields"

    def __init__(self, field: str, problem: str, fix: str, *, reason: str | None = None) -> None:
        super().__init__(f"{field}: {problem}; {fix}", reason=reason)
        self.field = field


class WaitingFor(EngineError):
    """A dependency is missing; the reconcile resumes by itself once it appears.

    `warning` (default True) records a Warning event; a step that is merely in progress (a
    volume being deleted) sets it False and only shows in the condition.
    """

    reason = "Waiting"
    warning = True
    retry_after: float | None = None
    """Seconds after which to look again, for a wait no watch can end (None: a watch does)."""

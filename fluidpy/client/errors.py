"""API errors as exception types, so callers branch with `except NotFound` and not on codes.

The API server answers failures with a Status object (code, reason, message, details); the type
follows the code, and the reason where one code means two things (409 is a write conflict or an
object that already exists, and only the latter makes a create pointless to retry). Failures
without any answer from the server are TransportError, still an ApiError, so a caller that
wants "any API failure" catches one type.
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """The API server refused a request (or could not be reached: see TransportError)."""

    status: int
    reason: str
    message: str
    body: dict[str, Any]

    def __init__(
        self, status: int, reason: str, message: str, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body if body is not None else {}


class NotFound(ApiError):
    """404: the object (or its namespace) does not exist."""


class Conflict(ApiError):
    """409: the write was based on a stale resourceVersion; re-read and retry."""


class AlreadyExists(ApiError):
    """409 with reason AlreadyExists: a create found the name taken. Not a Conflict: retrying
    the same create cannot succeed."""


class Gone(ApiError):
    """410: the requested resourceVersion is older than the server's history (relist)."""


class Invalid(ApiError):
    """422: the object failed validation; the details name the offending fields."""


class Forbidden(ApiError):
    """403: RBAC (or an admission plugin) denied the request."""


class TransportError(ApiError):
    """No HTTP answer at all: connection refused or reset, TLS failure, timeout. Status 0."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "TransportError", message)


class WatchInactive(TransportError):
    """A watch stream delivered no byte (not even a bookmark) within its inactivity timeout.

    The connection may still look open (a NAT or proxy dropped it silently); the only remedy is
    to open a new watch.
    """


_BY_STATUS: dict[int, type[ApiError]] = {
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def error_from_status(status: dict[str, Any], http_status: int | None = None) -> ApiError:
    """The exception for a Status object (a response body or a watch ERROR event)."""
    code = http_status if http_status is not None else int(status.get("code") or 0)
    reason = str(status.get("reason") or "")
    message = str(status.get("message") or "")
    if code == 409 and reason == "AlreadyExists":
        cls: type[ApiError] = AlreadyExists
    elif reason in ("Expired", "Gone"):
        # The reason, not only the code, marks an expired resourceVersion or continue token:
        # whatever code carried it, the only remedy is the same (list afresh).
        cls = Gone
    else:
        cls = _BY_STATUS.get(code, ApiError)
    return cls(code, reason or _default_reason(code), message, status)


def error_from_response(http_status: int, data: bytes, http_reason: str = "") -> ApiError:
    """The exception for a failed HTTP response, whether or not its body is a Status."""
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return error_from_status(body, http_status)
    text = data.decode("utf-8", "replace").strip()
    status = {"code": http_status, "reason": http_reason or _default_reason(http_status)}
    return error_from_status({**status, "message": text}, http_status)


def _default_reason(code: int) -> str:
    reasons = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        405: "MethodNotAllowed",
        409: "Conflict",
        410: "Gone",
        415: "UnsupportedMediaType",
        422: "Invalid",
        429: "TooManyRequests",
        500: "InternalError",
        503: "ServiceUnavailable",
        504: "Timeout",
    }
    return reasons.get(code, "Unknown")

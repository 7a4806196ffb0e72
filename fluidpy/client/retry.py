"""Retry a read-modify-write on conflict: the optimistic-concurrency loop every controller needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from fluidpy.client.errors import Conflict

T = TypeVar("T")


def retry_on_conflict(fn: Callable[[], T], attempts: int = 5) -> T:
    """Call `fn` until it does not raise Conflict, at most `attempts` times (default 5).

    `fn` must re-read the object each time: a conflict means its copy was stale. The pause
    between tries is short (10 to 11 ms) because a conflict resolves as soon as the next read
    sees the other writer's change; waiting longer only delays. After the last attempt the
    Conflict propagates; any other exception propagates at once.
    """
    retrying = Retrying(
        retry=retry_if_exception_type(Conflict),
        stop=stop_after_attempt(attempts),
        wait=wait_random(0.010, 0.011),
        reraise=True,
    )
    return retrying(fn)

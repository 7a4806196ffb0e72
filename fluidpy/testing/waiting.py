"""Waiting for a condition in tests without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 90.0
"""Generous on purpose: a loaded 2-core CI machine runs the whole control plane too. The wait
returns as soon as the condition holds, so a generous bound costs nothing when things work."""


def wait_for(
    probe: Callable[[], T | None],
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.1,
) -> T:
    """Call `probe` until it returns something truthy and return that; fail naming `what`.

    The last value seen goes into the failure message, so a timeout shows how far things got.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}; last: {last!r}"
            )
        time.sleep(interval)

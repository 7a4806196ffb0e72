"""The sharder's memory of its own writes until its informers show them.

The sharder decides from its informers' view, which lags behind its own writes. Deciding a group
again before the view has caught up could, for instance, see an object as unassigned that was
just assigned. Every write already carries the version it was based on, so a stale decision can
at worst fail; remembering the versions written over makes the sharder wait instead of failing.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class Expectations:
    """Per object: the resourceVersion the sharder last wrote over, until the view moves past it."""

    def __init__(self) -> None:
        self._written_over: dict[Hashable, str] = {}
        self._lock = threading.Lock()

    def wrote(self, key: Hashable, previous_version: str) -> None:
        with self._lock:
            self._written_over[key] = previous_version

    def caught_up(self, key: Hashable, seen_version: str | None) -> bool:
        """True when the view shows a version other than the one written over (the view only
        moves forward, so that is the write or something later); forgets the write then."""
        with self._lock:
            previous = self._written_over.get(key)
            if previous is None:
                return True
            if seen_version == previous:
                return False
            del self._written_over[key]
            return True

"""JSON merge patches (RFC 7386) computed from two versions of an object.

A reconcile that edits a working copy sends only what changed: fewer bytes, no clobbering of
fields another writer owns, and no request at all when nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that turns `old` into `new`; empty when they are equal.

    Lists are replaced whole (merge patches cannot address list items) and removed keys become
    None, which a merge patch reads as "delete".
    """
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if before is _MISSING:
            patch[key] = value
        elif isinstance(before, Mapping) and isinstance(value, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif before != value:
            patch[key] = value
    return patch


_MISSING: Any = object()

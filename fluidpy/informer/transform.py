"""What the informer does to each object before caching it.

Two things make a cached object smaller without changing what a controller can read:

- metadata.managedFields goes: it is server-side apply's bookkeeping, often a quarter of a Pod's
  JSON, and controllers never read it (client-go's SetTransform exists mostly for this).
- Dictionary keys are shared: json.loads gives every object its own copy of "metadata", "name",
  "containerPort" and the hundred other keys, about 50 bytes each. Interning makes every cached
  object point at one copy, and rebuilding each dict at its final size drops the slack that
  growing it left behind. Values are left alone: names, uids and most label values are unique,
  and interning unique strings only adds to the interpreter's intern table.

benchmarks/bench_informer.py measures the effect (bytes per cached Pod-sized object).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Transform = Callable[[dict[str, Any]], dict[str, Any]]


def strip_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return obj


def share_keys(value: Any) -> Any:
    """The same JSON tree with every dict rebuilt around interned keys."""
    if type(value) is dict:
        intern = sys.intern
        return {intern(key): share_keys(item) for key, item in value.items()}
    if type(value) is list:
        return [share_keys(item) for item in value]
    return value


def default_transform(obj: dict[str, Any]) -> dict[str, Any]:
    """Strip managedFields and share keys: the informer's default."""
    compact: dict[str, Any] = share_keys(strip_managed_fields(obj))
    return compact

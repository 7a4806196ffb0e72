"""What the informer does to each object before caching it.

Two things make a cached object smaller without changing what a controller can read:

- metadata.managedFields goes: it is server-side apply's bookkeeping, often a quarter of a Pod's
  JSON, and controllers never read it (client-go's SetTransform exists mostly for this).
- Strings are shared: json.loads gives every object its own copy of "metadata", "name",
  "containerPort" and every other key, and of every value, although most of them ("True",
  "TCP", "IfNotPresent", image names, mount paths, the owner's uid) repeat across the objects of
  a kind. Interning makes all cached objects point at one copy, and rebuilding each dict at its
  final size drops the slack that growing it left behind. Values longer than SHARED_VALUE_MAX
  characters are left alone: those are data (ConfigMap contents, certificates) or ids that never
  repeat, and interning a unique string only adds an entry to the interpreter's intern table.

For a realistic Pod (4.9 KiB of JSON) this takes a cached object from about 32 KiB to about
11 KiB; the price is roughly half a json.loads more CPU per event (benchmarks/bench_informer.py
measures both). Pass `strip_managed_fields` as the transform to keep the CPU and spend memory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Transform = Callable[[dict[str, Any]], dict[str, Any]]

SHARED_VALUE_MAX = 64


def strip_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return obj


def share_strings(value: Any) -> Any:
    """The same JSON tree, dicts rebuilt, with keys and short string values interned."""
    kind = type(value)
    if kind is dict:
        intern = sys.intern
        return {intern(key): share_strings(item) for key, item in value.items()}
    if kind is list:
        return [share_strings(item) for item in value]
    if kind is str and len(value) <= SHARED_VALUE_MAX:
        return sys.intern(value)
    return value


def default_transform(obj: dict[str, Any]) -> dict[str, Any]:
    """Strip managedFields and share strings: the informer's default."""
    compact: dict[str, Any] = share_strings(strip_managed_fields(obj))
    return compact


def without_secret_values(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret kept as metadata only: watching Secrets tells a controller that one exists or
    changed, and the values never sit in its memory (reads of Secrets go to the API). Objects
    watched as PartialObjectMetadata have no values to drop; they are named Secrets again."""
    obj.pop("data", None)
    obj.pop("stringData", None)
    obj["apiVersion"], obj["kind"] = "v1", "Secret"
    return default_transform(obj)

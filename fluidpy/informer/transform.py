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

A kind whose readers need only some of its fields can go further with `keeping(...)`: a
whitelist of field paths, everything else dropped before it is stored (a StatefulSet's pod
template, most of a Pod's spec).
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


PathTree = dict[str, "PathTree | None"]
"""Field names to the fields kept below them; None keeps the whole value."""


def keeping(*paths: str) -> Transform:
    """The default transform, keeping of each object only apiVersion, kind, metadata and the
    fields `paths` name (dotted: "spec.template.spec.affinity"; a path through a list applies to
    each item: "spec.containers.name" keeps every container's name and nothing else of it).

    A whitelist, not a list of what to drop: a field the API gains, or one a reader starts
    needing, is absent from the cache until its path is added, which a test of the reader
    shows, where a blacklist would keep growing the cache silently. Readers of a trimmed kind
    must be listed with its paths (the product's per-kind lists say which reader needs what)."""
    tree: PathTree = {"apiVersion": None, "kind": None, "metadata": None}
    for path in paths:
        node = tree
        *parents, last = path.split(".")
        for name in parents:
            child = node.setdefault(name, {})
            if child is None:  # a shorter path already keeps the whole value
                break
            node = child
        else:
            node[last] = None

    def transform(obj: dict[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = _pick(strip_managed_fields(obj), tree)
        return default_transform(kept)

    return transform


def _pick(value: Any, tree: PathTree | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_pick(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: _pick(value[key], below) for key, below in tree.items() if key in value}
    return value

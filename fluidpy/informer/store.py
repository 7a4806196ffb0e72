"""The informer's store: objects by key, with secondary indexes, and the relist diff.

Keys are "namespace/name", or "name" for cluster-scoped objects. Indexes map an index value to
the keys of the objects an index function returned it for, so "every Pod owned by this
StatefulSet" is a dictionary lookup, not a scan. Two indexes exist on every store: "namespace"
and "owner" (the controller owner: "<namespace>/<Kind>/<name>" for namespaced objects,
"<Kind>/<name>" for cluster-scoped ones). A third, "label" ("<namespace>/<key>=<value>" for each
label), is added where objects are listed by label (the cache adds it on the first such list):
listing a runtime's pods then costs its pods, not every pod of the namespace.

A relist (after the watch history expired) replaces part of the store wholesale. diff() turns
the old and new contents into the events a handler would have seen had the watch never broken:
adds for new objects, updates for changed ones, deletes for vanished ones.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Obj = dict[str, Any]
IndexFunc = Callable[[Obj], list[str]]

NAMESPACE_INDEX = "namespace"
OWNER_INDEX = "owner"
LABEL_INDEX = "label"


def object_key(obj: Mapping[str, Any]) -> str:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace")
    name = metadata["name"]
    return f"{namespace}/{name}" if namespace else name


def key_for(name: str, namespace: str | None = None) -> str:
    return f"{namespace}/{name}" if namespace else name


def namespace_index(obj: Obj) -> list[str]:
    namespace = obj["metadata"].get("namespace")
    return [namespace] if namespace else []


def owner_index(obj: Obj) -> list[str]:
    metadata = obj["metadata"]
    for ref in metadata.get("ownerReferences") or ():
        if ref.get("controller"):
            return [owner_key(ref["kind"], ref["name"], metadata.get("namespace"))]
    return []


def owner_key(kind: str, name: str, namespace: str | None = None) -> str:
    """The "owner" index value for objects controlled by `kind`/`name` (owners share the
    namespace of what they own, or own cluster-scoped objects from anywhere)."""
    return f"{namespace}/{kind}/{name}" if namespace else f"{kind}/{name}"


def label_index(obj: Obj) -> list[str]:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace")
    return [label_key(k, v, namespace) for k, v in (metadata.get("labels") or {}).items()]


def label_key(key: str, value: str, namespace: str | None = None) -> str:
    """The "label" index value for objects labelled key=value, in `namespace` (None for
    cluster-scoped objects)."""
    return f"{namespace}/{key}={value}" if namespace else f"{key}={value}"


BUILTIN_INDEXERS: dict[str, IndexFunc] = {
    NAMESPACE_INDEX: namespace_index,
    OWNER_INDEX: owner_index,
}

ChangeType = Literal["add", "update", "delete"]


@dataclass(frozen=True, slots=True)
class Change:
    """One event a relist implies; `old` is None for adds, `new` is None for deletes."""

    type: ChangeType
    key: str
    old: Obj | None
    new: Obj | None


def resource_version(obj: Mapping[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("resourceVersion") or "")


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether `new` is a different state; the resourceVersion tells, when both have one."""
    old_rv, new_rv = resource_version(old), resource_version(new)
    if old_rv and new_rv:
        return old_rv != new_rv
    return old != new


def diff(current: Mapping[str, Obj], fresh: Mapping[str, Obj]) -> list[Change]:
    """The events that turn `current` into `fresh` (deletes first, then adds and updates)."""
    changes = [Change("delete", key, obj, None) for key, obj in current.items() if key not in fresh]
    for key, obj in fresh.items():
        old = current.get(key)
        if old is None:
            changes.append(Change("add", key, None, obj))
        elif changed(old, obj):
            changes.append(Change("update", key, old, obj))
    return changes


class Store:
    """A thread-safe keyed store with indexes; objects are shared, never copied.

    Readers get the stored dicts themselves: treat them as read-only (the Client hands out
    copies; handlers and Cache readers see the originals for speed).
    """

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Obj] = {}
        self._indexers: dict[str, IndexFunc] = dict(BUILTIN_INDEXERS)
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}
        if indexers:
            self.add_indexers(indexers)

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add indexes (also over the objects already stored); a taken name is an error."""
        with self._lock:
            taken = set(indexers) & set(self._indexers)
            if taken:
                raise ValueError(f"indexes already exist: {sorted(taken)}")
            for name, func in indexers.items():
                self._add_indexer(name, func)

    def ensure_indexer(self, name: str, func: IndexFunc) -> None:
        """Add the index unless one of that name exists: for indexes built on first use."""
        with self._lock:
            if name not in self._indexers:
                self._add_indexer(name, func)

    def _add_indexer(self, name: str, func: IndexFunc) -> None:
        self._indexers[name] = func
        index: dict[str, set[str]] = {}
        for key, obj in self._items.items():
            for value in func(obj):
                index.setdefault(value, set()).add(key)
        self._indices[name] = index

    def get(self, key: str) -> Obj | None:
        with self._lock:
            return self._items.get(key)

    def list(self) -> list[Obj]:
        with self._lock:
            return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        with self._lock:
            return list(self._items)

    def by_index(self, index: str, value: str) -> builtins.list[Obj]:
        with self._lock:
            try:
                keys = self._indices[index].get(value, ())
            except KeyError:
                raise KeyError(f"no index named {index!r}") from None
            return [self._items[key] for key in keys]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def upsert(self, key: str, obj: Obj) -> Obj | None:
        """Store `obj` under `key`; the object it replaced, if any."""
        with self._lock:
            old = self._items.get(key)
            self._items[key] = obj
            self._reindex(key, old, obj)
            return old

    def delete(self, key: str) -> Obj | None:
        """Remove `key`; the object removed, or None if there was none."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._reindex(key, old, None)
            return old

    def replace(
        self, fresh: Mapping[str, Obj], namespace: str | None = None
    ) -> builtins.list[Change]:
        """Make the store's content (in `namespace` only, if given) equal to `fresh`, and
        return the changes that took."""
        with self._lock:
            if namespace is None:
                current = dict(self._items)
            else:
                keys = self._indices[NAMESPACE_INDEX].get(namespace, ())
                current = {key: self._items[key] for key in keys}
            changes = diff(current, fresh)
            for change in changes:
                if change.new is None:
                    del self._items[change.key]
                else:
                    self._items[change.key] = change.new
                self._reindex(change.key, change.old, change.new)
            return changes

    def _reindex(self, key: str, old: Obj | None, new: Obj | None) -> None:
        for name, func in self._indexers.items():
            old_values = func(old) if old is not None else []
            new_values = func(new) if new is not None else []
            if old_values == new_values:
                continue
            index = self._indices[name]
            for value in old_values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in new_values:
                index.setdefault(value, set()).add(key)

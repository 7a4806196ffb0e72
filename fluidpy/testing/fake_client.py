"""FakeClient: fluidpy's Client over objects in memory, for unit tests of engines and reconcilers.

The counterpart of controller-runtime's client/fake. It keeps the API server's rules a
reconciler depends on, so a test that passes here means something on a real cluster:

- every write gets a new resourceVersion; `update`, and a merge patch that names one, fail with
  Conflict when it is stale; `create` fails with AlreadyExists, writes to a missing object with
  NotFound;
- `metadata.generation` counts spec changes; uid (a UUID derived from kind, namespace and name,
  so tests are repeatable) and creationTimestamp are set on create;
- deleting an object with finalizers only sets its deletionTimestamp; it goes once a write
  empties its finalizers;
- `patch` is a JSON merge patch (RFC 7386); `apply` is server-side apply as far as one field
  manager sees it (the applied fields are set, labels and annotations merge, status is kept);
  `*_status` writes touch only status;
- `list` honours namespaces, label selectors and field selectors.

Not modelled: other field managers' ownership, admission, defaulting, watches (use the local
control plane, fluidpy.testing.LocalCluster, for those). For tests there are `objects()`,
`find()`, `set_status()` (what a workload controller would report), `writes` (every write, in
order), `reads` (every get) and `unreachable` (every request fails as a network partition would).
"""

from __future__ import annotations

import builtins
import copy
import itertools
import threading
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from fluidpy.client import GVK
from fluidpy.client.errors import AlreadyExists, Conflict, NotFound, TransportError
from fluidpy.client.mapping import RESTMapping
from fluidpy.client.selector import parse_field_selector, parse_label_selector

CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "CacheRuntimeClass",
    }
)
"""Kinds without a namespace (the rest are namespaced), as discovery would say."""
CREATION_TIMESTAMP = "2024-01-01T00:00:00Z"
DELETION_TIMESTAMP = "2024-01-01T00:00:01Z"

Key = tuple[GVK, str, str]


class ObjectStore:
    """The objects of one fake API server; several FakeClients may share it (several
    managers, say), each with its own `unreachable` switch."""

    def __init__(self, cluster_scoped: Iterable[str] = CLUSTER_SCOPED) -> None:
        self.cluster_scoped = frozenset(cluster_scoped)
        self.objects: dict[Key, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self._versions = itertools.count(1)

    def key(self, gvk: GVK, name: str, namespace: str | None) -> Key:
        return (gvk, "" if gvk.kind in self.cluster_scoped else namespace or "", name)

    def next_version(self) -> str:
        return str(next(self._versions))


class FakeClient:
    """The Client interface over an ObjectStore; see the module docstring for the rules kept."""

    def __init__(self, *objects: Mapping[str, Any], store: ObjectStore | None = None) -> None:
        self.store = store or ObjectStore()
        self.writes: list[tuple[str, str, str]] = []
        """(verb, kind, name) of every write, in order: create, update, patch, apply, delete
        and their status forms."""
        self.reads: list[tuple[str, str]] = []
        """(kind, name) of every get, in order."""
        self.unreachable = False
        """When True every request raises TransportError, as a partitioned network does."""
        for obj in objects:
            self._store(self._key_of(obj), copy.deepcopy(dict(obj)), None)

    # The parts of Client that are not requests ---------------------------------------------

    @property
    def live(self) -> FakeClient:
        return self

    @property
    def cache(self) -> None:
        return None

    @property
    def connection(self) -> None:
        return None

    @property
    def field_manager(self) -> str:
        return "fluidpy"

    def with_cache(self, cache: object) -> FakeClient:
        return self

    def with_write_fence(self, fence: object) -> FakeClient:
        """No leadership to fence in memory: the same client."""
        return self

    def with_own_rate_limit(self) -> FakeClient:
        """No rate limit in memory: the same client."""
        return self

    def metadata_only(self) -> FakeClient:
        """Objects stay whole in memory: the same client."""
        return self

    def mapping(self, gvk: GVK, *, ctx: Any = None) -> RESTMapping:
        return RESTMapping(gvk, gvk.kind.lower() + "s", gvk.kind not in self.store.cluster_scoped)

    # Reads ---------------------------------------------------------------------------------

    def get(
        self, gvk: GVK, name: str, namespace: str | None = None, *, ctx: Any = None
    ) -> dict[str, Any] | None:
        self._reach()
        self.reads.append((gvk.kind, name))
        with self.store.lock:
            found = self.store.objects.get(self.store.key(gvk, name, namespace))
            return copy.deepcopy(found) if found is not None else None

    def list(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        ctx: Any = None,
    ) -> builtins.list[dict[str, Any]]:
        self._reach()
        labels = parse_label_selector(label_selector or "")
        fields = parse_field_selector(field_selector or "")
        with self.store.lock:
            return [
                copy.deepcopy(obj)
                for (kind, ns, _), obj in sorted(self.store.objects.items(), key=_by_key)
                if kind == gvk
                and (not namespace or ns == namespace)
                and labels.matches_object(obj)
                and fields.matches_object(obj)
            ]

    # Writes --------------------------------------------------------------------------------

    def create(self, obj: Mapping[str, Any], *, ctx: Any = None) -> dict[str, Any]:
        key = self._key_of(obj)
        with self._writing("create", key) as current:
            if current is not None:
                raise AlreadyExists(409, "AlreadyExists", f"{key[0].kind} {key[2]} exists")
            return self._store(key, copy.deepcopy(dict(obj)), None)

    def update(self, obj: Mapping[str, Any], *, ctx: Any = None) -> dict[str, Any]:
        key = self._key_of(obj)
        with self._writing("update", key) as current:
            self._check_version(key, self._existing(key, current), obj)
            return self._store(
                key, {**copy.deepcopy(dict(obj)), "status": _status(current)}, current
            )

    def update_status(self, obj: Mapping[str, Any], *, ctx: Any = None) -> dict[str, Any]:
        key = self._key_of(obj)
        with self._writing("update_status", key) as current:
            existing = self._existing(key, current)
            self._check_version(key, existing, obj)
            status = copy.deepcopy(obj.get("status") or {})
            return self._store(key, {**copy.deepcopy(existing), "status": status}, current)

    def patch(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None,
        patch: Any,
        *,
        patch_type: str = "merge",
        ctx: Any = None,
    ) -> dict[str, Any]:
        key = self.store.key(gvk, name, namespace)
        return self._merge("patch", key, patch, patch_type, status_only=False)

    def patch_status(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None,
        patch: Any,
        *,
        patch_type: str = "merge",
        ctx: Any = None,
    ) -> dict[str, Any]:
        key = self.store.key(gvk, name, namespace)
        return self._merge("patch_status", key, patch, patch_type, status_only=True)

    def apply(
        self, obj: Mapping[str, Any], *, force: bool = True, ctx: Any = None
    ) -> dict[str, Any]:
        """Server-side apply by one field manager: the applied fields become what `obj` says
        (whole values below the top level), labels and annotations merge, status stays."""
        key = self._key_of(obj)
        with self._writing("apply", key) as current:
            applied = copy.deepcopy(dict(obj))
            if current is None:
                return self._store(key, applied, None)
            merged = copy.deepcopy(current)
            for field, value in applied.items():
                if field not in ("metadata", "status"):
                    merged[field] = value
            metadata = merged["metadata"]
            for field, value in applied["metadata"].items():
                if field in ("labels", "annotations"):
                    metadata[field] = {**(metadata.get(field) or {}), **value}
                elif field not in ("resourceVersion", "uid", "creationTimestamp", "generation"):
                    metadata[field] = value
            return self._store(key, merged, current)

    def apply_status(
        self, obj: Mapping[str, Any], *, force: bool = True, ctx: Any = None
    ) -> dict[str, Any]:
        key = self._key_of(obj)
        with self._writing("apply_status", key) as current:
            existing = self._existing(key, current)
            status = {**_status(existing), **copy.deepcopy(obj.get("status") or {})}
            return self._store(key, {**copy.deepcopy(existing), "status": status}, current)

    def delete(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        ctx: Any = None,
    ) -> bool:
        """Gone at once, or, while finalizers remain, marked with a deletionTimestamp."""
        key = self.store.key(gvk, name, namespace)
        with self._writing("delete", key) as current:
            if current is None:
                return False
            for field, wanted in (preconditions or {}).items():
                if current["metadata"].get(field) != wanted:
                    raise Conflict(409, "Conflict", f"{gvk.kind} {name}: {field} changed")
            if current["metadata"].get("finalizers"):
                if not current["metadata"].get("deletionTimestamp"):
                    marked = copy.deepcopy(current)
                    marked["metadata"]["deletionTimestamp"] = DELETION_TIMESTAMP
                    self._store(key, marked, current)
                return True
            del self.store.objects[key]
            return True

    # For tests -----------------------------------------------------------------------------

    def objects(self) -> builtins.list[dict[str, Any]]:
        """Every stored object (live, not copies: tests may look, and change status)."""
        with self.store.lock:
            return builtins.list(self.store.objects.values())

    def find(self, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        """The stored object of that kind name (any group), not a copy; "" matches any
        namespace."""
        with self.store.lock:
            for (gvk, ns, stored), obj in self.store.objects.items():
                if gvk.kind == kind and stored == name and (not namespace or ns == namespace):
                    return obj
        return None

    def set_status(self, kind: str, name: str, namespace: str, **status: Any) -> None:
        """Report status as the object's controller would, for the current generation."""
        obj = self.find(kind, name, namespace)
        if obj is None:
            raise NotFound(404, "NotFound", f"{kind} {name} does not exist")
        with self.store.lock:
            obj["status"] = {"observedGeneration": obj["metadata"]["generation"], **status}
            obj["metadata"]["resourceVersion"] = self.store.next_version()

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Store `obj` as it is (its resourceVersion too, if it has one), creating or
        replacing, with no write recorded: a test's setup, or a cache that lags."""
        key = self._key_of(obj)
        version = (obj.get("metadata") or {}).get("resourceVersion")
        with self.store.lock:
            stored = self._store(key, copy.deepcopy(dict(obj)), self.store.objects.get(key))
            if version:
                self.store.objects[key]["metadata"]["resourceVersion"] = version
                stored["metadata"]["resourceVersion"] = version
            return stored

    def remove(self, gvk: GVK, name: str, namespace: str | None = None) -> None:
        """Make the object absent, finalizers or not, with no write recorded: a test's setup."""
        with self.store.lock:
            self.store.objects.pop(self.store.key(gvk, name, namespace), None)

    # The rules -----------------------------------------------------------------------------

    def _reach(self) -> None:
        if self.unreachable:
            raise TransportError("the API server is unreachable (FakeClient.unreachable)")

    def _key_of(self, obj: Mapping[str, Any]) -> Key:
        metadata = obj.get("metadata") or {}
        return self.store.key(GVK.of_object(obj), metadata["name"], metadata.get("namespace"))

    def _writing(self, verb: str, key: Key) -> _Write:
        self._reach()
        self.writes.append((verb, key[0].kind, key[2]))
        return _Write(self.store, key)

    def _existing(self, key: Key, current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise NotFound(404, "NotFound", f"{key[0].kind} {key[2]} not found")
        return current

    @staticmethod
    def _check_version(key: Key, current: Mapping[str, Any], obj: Mapping[str, Any]) -> None:
        wanted = (obj.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", f"{key[0].kind} {key[2]}: the object has been modified")

    def _merge(
        self, verb: str, key: Key, patch: Any, patch_type: str, *, status_only: bool
    ) -> dict[str, Any]:
        if patch_type != "merge":
            raise NotImplementedError(f"FakeClient speaks merge patches only, not {patch_type}")
        with self._writing(verb, key) as current:
            existing = self._existing(key, current)
            self._check_version(key, existing, patch)
            if status_only:
                patch = {"status": patch.get("status")}
            merged = _merged(existing, patch)
            merged["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            return self._store(key, merged, current)

    def _store(
        self, key: Key, obj: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Keep `obj` under `key` with the server's bookkeeping; returns a copy."""
        metadata = obj.setdefault("metadata", {})
        if current is None:
            metadata.setdefault(
                "uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key[0]}/{key[1]}/{key[2]}"))
            )
            metadata.setdefault("creationTimestamp", CREATION_TIMESTAMP)
            metadata.setdefault("generation", 1)
        else:
            kept = current["metadata"]
            for field in ("uid", "creationTimestamp", "deletionTimestamp"):
                if field in kept:
                    metadata[field] = kept[field]
            changed = current.get("spec") != obj.get("spec")
            metadata["generation"] = kept.get("generation", 1) + (1 if changed else 0)
        if key[1]:
            metadata["namespace"] = key[1]
        metadata["resourceVersion"] = self.store.next_version()
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            self.store.objects.pop(key, None)
        else:
            self.store.objects[key] = obj
        return copy.deepcopy(obj)


class _Write:
    """The store locked for one write; yields the object as it is (None when absent)."""

    def __init__(self, store: ObjectStore, key: Key) -> None:
        self._store = store
        self._key = key

    def __enter__(self) -> dict[str, Any] | None:
        self._store.lock.acquire()
        return self._store.objects.get(self._key)

    def __exit__(self, *exc_info: object) -> None:
        self._store.lock.release()


def _by_key(item: tuple[Key, dict[str, Any]]) -> tuple[str, str, str]:
    (gvk, namespace, name), _ = item
    return (gvk.kind, namespace, name)


def _status(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    return copy.deepcopy(dict((obj or {}).get("status") or {}))


def _merged(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, None deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result

"""What a runtime may touch: only objects it controls. The one home of that rule.

Kubernetes' own controllers act only on objects whose controller owner reference names them, and
report a conflict rather than adopt or overwrite anything else. A runtime does the same:

- every namespaced object it creates carries a controller owner reference to the runtime's UID,
  and "ours" means exactly that: never a name, never an annotation such as `CreatedBy: fluid`;
- a PersistentVolume is cluster-scoped and cannot have a namespaced owner, so it (and its claim,
  which must outlive the runtime's garbage collection until its pods are gone) carries labels
  naming the runtime's kind, namespace, name and UID, and "ours" means all four match;
- an object with a name the runtime needs that is not ours is never written, patched, adopted
  or deleted: `NameConflict` says which object is in the way and how to resolve it, and the
  runtime waits, woken by a watch on that object (`CONFLICTS` maps it back to the runtime);
- server-side apply is forced only over an object we control (so the manager's field ownership
  wins over someone's `kubectl edit` of *our* object); a create goes out unforced, so an object
  that appeared since we looked is a 409, not a takeover.

Everything here is pure except `apply_owned`, which does the reads and the one write.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.errors import WaitingFor
from fluidpy.engines.base.status import bound_to_other_runtime

OWNER_KIND_LABEL = "fluid.io/owner-runtime-kind"
OWNER_NAMESPACE_LABEL = "fluid.io/owner-runtime-namespace"
OWNER_NAME_LABEL = "fluid.io/owner-runtime-name"
OWNER_UID_LABEL = "fluid.io/owner-runtime-uid"
OWNER_LABELS = (OWNER_KIND_LABEL, OWNER_NAMESPACE_LABEL, OWNER_NAME_LABEL, OWNER_UID_LABEL)

Obj = Mapping[str, Any]


def _metadata(obj: Obj | None) -> Mapping[str, Any]:
    return (obj or {}).get("metadata") or {}


def controller_reference(obj: Obj | None) -> Mapping[str, Any] | None:
    """The owner reference with `controller: true`, if any (Kubernetes allows one)."""
    for reference in _metadata(obj).get("ownerReferences") or []:
        if reference.get("controller"):
            return dict(reference)
    return None


def owner_labels(runtime: Obj) -> dict[str, str]:
    """The labels that mark a PersistentVolume (and its claim) as one runtime's."""
    metadata = _metadata(runtime)
    return {
        OWNER_KIND_LABEL: str(runtime.get("kind", "")),
        OWNER_NAMESPACE_LABEL: str(metadata.get("namespace", "")),
        OWNER_NAME_LABEL: str(metadata.get("name", "")),
        OWNER_UID_LABEL: str(metadata.get("uid", "")),
    }


def controlled_by(obj: Obj | None, runtime: Obj) -> bool:
    """Whether `obj` is the runtime's: its controller reference names the runtime's UID, or
    (for volumes) its owner labels name the runtime."""
    uid = _metadata(runtime).get("uid")
    if not uid or obj is None:
        return False
    reference = controller_reference(obj)
    if reference is not None:
        return bool(reference.get("uid") == uid)
    labels = _metadata(obj).get("labels") or {}
    return all(labels.get(key) == value for key, value in owner_labels(runtime).items())


def same_owner(live: Obj, desired: Obj) -> bool:
    """Whether `live` belongs to whoever `desired` (a rendering) names as its owner."""
    reference = controller_reference(desired)
    if reference is not None:
        live_reference = controller_reference(live)
        return live_reference is not None and live_reference.get("uid") == reference.get("uid")
    wanted = _metadata(desired).get("labels") or {}
    if not wanted.get(OWNER_UID_LABEL):
        return False
    labels = _metadata(live).get("labels") or {}
    return all(labels.get(key) == wanted.get(key) for key in OWNER_LABELS)


def describe(gvk: GVK, namespace: str | None, name: str) -> str:
    return f"{gvk.kind} {namespace}/{name}" if namespace else f"{gvk.kind} {name}"


def holder_of(live: Obj) -> str:
    """Who holds an object, in words: its controller, or nobody we know of."""
    reference = controller_reference(live)
    if reference is not None:
        return f"it is controlled by {reference.get('kind')} {reference.get('name')}"
    labels = _metadata(live).get("labels") or {}
    if labels.get(OWNER_UID_LABEL):
        return (
            f"it belongs to {labels.get(OWNER_KIND_LABEL)} "
            f"{labels.get(OWNER_NAMESPACE_LABEL)}/{labels.get(OWNER_NAME_LABEL)} "
            f"(uid {labels.get(OWNER_UID_LABEL)})"
        )
    return "it has no controller (made by a person or another tool)"


class NameConflict(WaitingFor):
    """An object with a name the runtime needs exists and is not the runtime's."""

    reason = "NameConflict"

    def __init__(self, gvk: GVK, namespace: str | None, name: str, live: Obj) -> None:
        what = describe(gvk, namespace, name)
        super().__init__(
            f"{what} already exists and is not this runtime's ({holder_of(live)}); it is left "
            f"untouched. Rename or delete {what}, or use another Dataset name; the runtime "
            "proceeds by itself once the name is free"
        )
        self.gvk = gvk
        self.object_namespace = namespace
        self.object_name = name


RuntimeKey = tuple[str, str]
ObjectKey = tuple[GVK, str, str]


class Conflicts:
    """Which runtimes wait for which object to change; thread-safe.

    A foreign object carries nothing that points back at the runtime it blocks, so the runtime
    controller's watches on the kinds a runtime creates use this record to wake the runtime when
    that object changes or goes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: defaultdict[ObjectKey, set[tuple[str, str, str]]] = defaultdict(set)

    def record(self, key: ObjectKey, runtime_kind: str, namespace: str, name: str) -> None:
        with self._lock:
            self._waiting[key].add((runtime_kind, namespace, name))

    def release(self, key: ObjectKey, runtime_kind: str, namespace: str, name: str) -> None:
        with self._lock:
            waiting = self._waiting.get(key)
            if waiting is None:
                return
            waiting.discard((runtime_kind, namespace, name))
            if not waiting:
                del self._waiting[key]

    def forget_runtime(self, runtime_kind: str, namespace: str, name: str) -> None:
        with self._lock:
            for key in list(self._waiting):
                self._waiting[key].discard((runtime_kind, namespace, name))
                if not self._waiting[key]:
                    del self._waiting[key]

    def waiting_on(self, key: ObjectKey, runtime_kind: str) -> list[RuntimeKey]:
        with self._lock:
            return sorted((ns, n) for k, ns, n in self._waiting.get(key, ()) if k == runtime_kind)

    def mapper(self, gvk: GVK, runtime_kind: str) -> Callable[[dict[str, Any]], list[RuntimeKey]]:
        """For a watch on `gvk`: the runtimes of `runtime_kind` an object of it blocks."""

        def runtimes(obj: dict[str, Any]) -> list[RuntimeKey]:
            metadata = _metadata(obj)
            key = (gvk, metadata.get("namespace") or "", metadata.get("name") or "")
            return self.waiting_on(key, runtime_kind)

        return runtimes


CONFLICTS = Conflicts()
"""The process's record, shared by every engine and the runtime controllers' watches."""


def _owner_key(desired: Obj) -> tuple[str, str, str]:
    """(kind, namespace, name) of the runtime a rendering belongs to."""
    reference = controller_reference(desired)
    metadata = _metadata(desired)
    if reference is not None:
        return (
            str(reference.get("kind", "")),
            str(metadata.get("namespace", "")),
            str(reference.get("name", "")),
        )
    labels = metadata.get("labels") or {}
    return (
        str(labels.get(OWNER_KIND_LABEL, "")),
        str(labels.get(OWNER_NAMESPACE_LABEL, "")),
        str(labels.get(OWNER_NAME_LABEL, "")),
    )


def check_name_free(gvk: GVK, desired: Obj, live: Obj | None) -> None:
    """Raise NameConflict when `live` (the object under `desired`'s name) is not ours; record
    the conflict so a change to `live` wakes the runtime, and drop the record once it is gone."""
    metadata = _metadata(desired)
    namespace = metadata.get("namespace") or ""
    key: ObjectKey = (gvk, namespace, metadata["name"])
    if live is not None and not same_owner(live, desired):
        CONFLICTS.record(key, *_owner_key(desired))
        raise NameConflict(gvk, namespace or None, metadata["name"], live)
    CONFLICTS.release(key, *_owner_key(desired))


def apply_owned(
    client: Client, desired: dict[str, Any], live: dict[str, Any] | None, ctx: Context | None
) -> dict[str, Any]:
    """Server-side apply `desired` (which names its owner) unless the name is taken by an object
    that is not the owner's.

    `live` is the cached copy. A cache may not hold every object of a kind (an informer can be
    narrowed to fluidpy's own labels, as a shard's is), so a missing object is looked up on the
    API server once before it is created, unless the cache holds every object of its kind.
    """
    gvk = GVK.of_object(desired)
    metadata = desired["metadata"]
    namespace = metadata.get("namespace")
    cache = client.cache
    if live is None and (cache is None or not cache.holds_every(gvk, namespace)):
        live = client.live.get(gvk, metadata["name"], namespace, ctx=ctx)
    check_name_free(gvk, desired, live)
    return client.apply(desired, force=live is not None, ctx=ctx)


def serves_dataset(ctx: ReconcileRequestContext, runtime_type: str) -> bool:
    """Whether the runtime may clean up what belongs to its Dataset as a whole (the FUSE label
    Fluid's CSI plugin puts on nodes): not while the Dataset is bound to another runtime, whose
    clients still need it."""
    if ctx.dataset is None:
        return True
    other = bound_to_other_runtime(ctx.dataset, ctx.name, ctx.namespace, ctx.category, runtime_type)
    return other is None

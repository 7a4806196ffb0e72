"""Server-side apply of rendered objects, skipped when the live object is already as rendered.

Applying every object on every reconcile would be correct (apply is idempotent) but costs one
API request per object per pass, and a runtime is reconciled on every pod and workload change.
So each rendered object carries the hash of its rendering in an annotation, and an apply is
skipped when the cached live object carries the same hash and still has every field the
rendering sets (someone else may have changed them since). A field the rendering stops setting
changes the hash, and server-side apply removes it, because this field manager owned it.

An object of the same name that is not the runtime's is never applied over (engines.base.
ownership): the pass stops with NameConflict instead.

The manager's cache may keep only part of a spec (a StatefulSet's without its pod template,
controllers/cache_views.py), which cannot show that it covers the rendering. For such an object
the spec counts as applied while its metadata.generation, which the API server raises on every
spec change, is the one our own apply returned, or one a full read from the API server showed
covering the same rendering (one read per object per process, after a restart); anything else
is checked on a full read before it is applied again.

Right after an apply the informer cache may not have the new object yet; the Applier remembers
which cached version it wrote over, and does not write again while the cache still shows it
(the write's own watch event wakes the runtime again anyway).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from typing import Any

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines.base.ownership import apply_owned, check_name_free
from fluidpy.engines.base.units import same_quantity
from fluidpy.log import get_logger

log = get_logger("fluidpy.engines.cacheruntime")

APPLIED_HASH = "cacheruntime.fluid.io/applied-hash"


def fingerprint(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stamped(desired: dict[str, Any]) -> dict[str, Any]:
    """The rendering with its own hash in metadata.annotations."""
    obj = copy.deepcopy(desired)
    digest = fingerprint(desired)
    obj["metadata"].setdefault("annotations", {})[APPLIED_HASH] = digest
    return obj


def _empty(value: Any) -> bool:
    """Values the API server drops or never returns: Go's omitempty zero values."""
    return value is None or value is False or value in ("", [], {})


def covers(live: Any, desired: Any) -> bool:
    """Whether `live` has every field `desired` sets, with the same value (a quantity may be
    spelled differently; an empty desired value matches an absent one; lists match item by
    item). Fields only `live` has (defaults, status) do not matter."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return _empty(live) and all(_empty(v) for v in desired.values())
        return all(covers(live.get(key), value) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list):
            return _empty(live) and not desired
        return len(live) == len(desired) and all(map(covers, live, desired))
    if _empty(desired):
        return _empty(live)
    return bool(desired == live) or same_quantity(desired, live)


def up_to_date(live: dict[str, Any] | None, desired: dict[str, Any]) -> bool:
    """`desired` is stamped; True when applying it would change nothing we care about."""
    if live is None:
        return False
    annotations = live.get("metadata", {}).get("annotations") or {}
    wanted = desired["metadata"]["annotations"][APPLIED_HASH]
    return annotations.get(APPLIED_HASH) == wanted and covers(live, desired)


def _version(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else obj.get("metadata", {}).get("resourceVersion")


def _generation(obj: dict[str, Any] | None) -> int | None:
    generation = None if obj is None else obj.get("metadata", {}).get("generation")
    return int(generation) if generation else None


def _without_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key != "spec"}


Key = tuple[GVK, str, str]


class Applier:
    """Applies rendered objects for one runtime; safe to call from several threads."""

    def __init__(self) -> None:
        self._written: dict[Key, tuple[str, str | None]] = {}
        self._applied_specs: dict[Key, tuple[str, int]] = {}
        """(stamp, metadata.generation) of a spec known to cover that stamp's rendering."""
        self._lock = threading.Lock()

    def ensure(
        self, client: Client, desired: dict[str, Any], ctx: Context | None = None
    ) -> tuple[dict[str, Any] | None, bool]:
        """Make the object as rendered. Returns the freshest copy known (None while a create is
        not in the cache yet) and whether an apply was sent."""
        gvk = GVK.of_object(desired)
        metadata = desired["metadata"]
        key = (gvk, metadata.get("namespace") or "", metadata["name"])
        live = client.get(gvk, metadata["name"], metadata.get("namespace"), ctx=ctx)
        if live is not None:
            check_name_free(gvk, desired, live)
        target = stamped(desired)
        digest = target["metadata"]["annotations"][APPLIED_HASH]
        if self._current(client, key, live, target, ctx):
            with self._lock:
                self._written.pop(key, None)  # the cache has caught up with our write
            return live, False
        with self._lock:
            if self._written.get(key) == (digest, _version(live)):
                return live, False
        result = apply_owned(client, target, live, ctx)
        with self._lock:
            self._written[key] = (digest, _version(live))
            generation = _generation(result)
            if generation is not None:
                self._applied_specs[key] = (digest, generation)
        if live is None:
            log.info("created", object=f"{gvk.kind} {metadata['name']}")
        return result, True

    def _current(
        self,
        client: Client,
        key: Key,
        live: dict[str, Any] | None,
        target: dict[str, Any],
        ctx: Context | None,
    ) -> bool:
        """Whether `live` (cached) is as `target` (stamped) renders it: up_to_date, except that
        a spec the cached copy does not cover is taken as applied at a known generation, else
        checked on the object as the API server has it (see the module docstring)."""
        if live is None or not up_to_date(_without_spec(live), _without_spec(target)):
            return False
        if covers(live.get("spec"), target.get("spec")):
            return True
        generation = _generation(live)
        digest = target["metadata"]["annotations"][APPLIED_HASH]
        if generation is None:
            return False
        with self._lock:
            if self._applied_specs.get(key) == (digest, generation):
                return True
        gvk, namespace, name = key
        full = client.live.get(gvk, name, namespace or None, ctx=ctx)
        full_generation = _generation(full)
        if full_generation is None or not up_to_date(full, target):
            return False
        with self._lock:
            self._applied_specs[key] = (digest, full_generation)
        return True

    def forget(self, gvk: GVK, namespace: str, name: str) -> None:
        with self._lock:
            self._written.pop((gvk, namespace, name), None)
            self._applied_specs.pop((gvk, namespace, name), None)

"""Bounds on what one runtime may ask the cluster for, and specs no engine can serve, checked
before anything is rendered.

The CRDs allow any int32 replica count, and a StatefulSet with a million replicas makes the
controller manager create pods until the cluster falls over. Every engine's components sit at
the same few spec paths, so one check here covers every runtime kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fluidpy.engines.base.errors import ValidationError

DEFAULT_MAX_COMPONENT_REPLICAS = 1000
"""Far above any cache cluster anyone runs (upstream's largest documented runs are in the
hundreds of workers), far below what floods a control plane with pods."""

REPLICA_PATHS = (
    ("replicas",),
    ("master", "replicas"),
    ("worker", "replicas"),
    ("fuse", "replicas"),
    ("client", "replicas"),
)
"""Where the built-in kinds keep replica counts: Alluxio and Jindo's workers at spec.replicas,
CacheRuntime's components under their own names."""


def _at(spec: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = spec
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def check_replicas(spec: Mapping[str, Any], limit: int) -> None:
    """Raise ValidationError (reason ReplicasOverLimit) for the first component asking for
    more than `limit` replicas."""
    for path in REPLICA_PATHS:
        replicas = _at(spec, path)
        if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > limit:
            raise ValidationError(
                f"spec.{'.'.join(path)}",
                f"{replicas} replicas is more than this manager allows ({limit})",
                "lower it, or start the manager with a larger --max-component-replicas; "
                "nothing is created until then",
                reason="ReplicasOverLimit",
            )


def check_dataset_has_mounts(dataset: Mapping[str, Any]) -> None:
    """A cache of nothing: upstream's CRD accepts a Dataset without mounts (some runtimes, such
    as Vineyard, bring their own data), so the API server cannot refuse it, but no runtime
    fluidpy serves can do anything with one."""
    if (dataset.get("spec") or {}).get("mounts"):
        return
    metadata = dataset.get("metadata") or {}
    raise ValidationError(
        f"Dataset {metadata.get('namespace')}/{metadata.get('name')} spec.mounts",
        "is empty, so there is nothing to cache",
        "add at least one mount (name and mountPoint such as s3://bucket/dir)",
    )

"""RuntimeInfo: the names, labels and paths every engine derives from a runtime.

Conventions are upstream Fluid's, so nodes, PVs and PVCs look the same to Fluid's CSI plugin and
webhooks whichever controller made them. Label keys longer than a label name allows fall back to
the Dataset's UID, as upstream does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATASET_ID_LABEL = "fluid.io/dataset-id"
CREATED_BY_ANNOTATION = "CreatedBy"
CREATED_BY_FLUID = "fluid"
LABEL_NAME_LIMIT = 63
EXCLUSIVE = "Exclusive"
SHARED = "Shared"


def dataset_id(namespace: str, name: str, dataset_uid: str = "") -> str:
    """The value of `fluid.io/dataset-id` on the Dataset, the runtime, the PV and the PVC:
    `<ns>-<name>`, or the Dataset's UID where that would not fit a label value (as upstream)."""
    return namespaced_key("", namespace, name, dataset_uid)


def namespaced_key(prefix: str, namespace: str, name: str, dataset_uid: str = "") -> str:
    """`prefix + <ns>-<name>`, or `prefix + <uid>` when that would not fit a label name."""
    key = f"{prefix}{namespace}-{name}"
    if len(key) >= LABEL_NAME_LIMIT and dataset_uid:
        return f"{prefix}{dataset_uid}"
    return key


@dataclass(frozen=True)
class TieredStoreLevel:
    """One cache level, normalised: its medium, paths with their quotas, and watermarks."""

    medium: str
    paths: tuple[tuple[str, str], ...]
    high: str = ""
    low: str = ""
    volume_type: str = "hostPath"


MEMORY = "MEM"
DISK_MEDIA = ("SSD", "HDD")


def level_bytes(level: TieredStoreLevel) -> int:
    return sum(int(quota) for _, quota in level.paths)


def capacity_by_medium(levels: list[TieredStoreLevel]) -> tuple[int, int]:
    """(memory bytes, disk bytes) over all levels, for the node capacity labels."""
    memory = sum(level_bytes(level) for level in levels if level.medium == MEMORY)
    disk = sum(level_bytes(level) for level in levels if level.medium in DISK_MEDIA)
    return memory, disk


@dataclass
class RuntimeInfo:
    """Everything about a runtime that the engines need to name and place things."""

    name: str
    namespace: str
    runtime_type: str
    owner_dataset_uid: str = ""
    placement: str = EXCLUSIVE
    tiered_store: list[TieredStoreLevel] = field(default_factory=list)
    fuse_node_selector: dict[str, str] = field(default_factory=dict)

    @property
    def dataset_id(self) -> str:
        return dataset_id(self.namespace, self.name, self.owner_dataset_uid)

    def _key(self, prefix: str) -> str:
        return namespaced_key(prefix, self.namespace, self.name, self.owner_dataset_uid)

    @property
    def runtime_label(self) -> str:
        """On nodes that hold this runtime's cache."""
        return self._key(f"fluid.io/s-{self.runtime_type}-")

    @property
    def common_label(self) -> str:
        """On nodes that hold this Dataset's cache, whatever the runtime."""
        return self._key("fluid.io/s-")

    @property
    def fuse_label(self) -> str:
        """Set by Fluid's CSI plugin on nodes where an application mounts the Dataset."""
        return self._key("fluid.io/f-")

    def capacity_label(self, kind: str) -> str:
        """Cache capacity on a node: kind `m` (memory), `d` (disk) or `t` (total)."""
        return self._key(f"fluid.io/s-h-{self.runtime_type}-{kind}-")

    @property
    def exclusive_label_value(self) -> str:
        """`fluid_exclusive` on the nodes of an Exclusive Dataset's workers: `<ns>_<name>`, or
        the Dataset's UID where that would not fit a label value (`<ns>_<uid>` might not)."""
        value = f"{self.namespace}_{self.name}"
        if len(value) >= LABEL_NAME_LIMIT and self.owner_dataset_uid:
            return self.owner_dataset_uid
        return value

    @property
    def persistent_volume_name(self) -> str:
        return f"{self.namespace}-{self.name}"

    def fuse_mount_path(self, mount_root: str, directory: str) -> str:
        return fuse_mount_path(mount_root, self.runtime_type, self.namespace, self.name, directory)


def fuse_mount_path(
    mount_root: str, runtime_type: str, namespace: str, name: str, directory: str
) -> str:
    """Where the FUSE client mounts the cache on a node, `<root>/<runtime type>/<ns>/<name>/
    <directory>`: the PV's fluid_path, which Fluid's CSI plugin bind-mounts into applications,
    so every FUSE DaemonSet must mount exactly here (or at its parent)."""
    return f"{mount_root.rstrip('/')}/{runtime_type}/{namespace}/{name}/{directory}"


def placement_of(dataset: dict[str, Any] | None) -> str:
    """The Dataset's placement mode; unset means Exclusive, as upstream."""
    placement = ((dataset or {}).get("spec") or {}).get("placement") or EXCLUSIVE
    return str(placement)


def owner_dataset_uid(runtime: dict[str, Any]) -> str:
    """The UID of the Dataset that owns the runtime ("" until the owner reference is set)."""
    name = runtime["metadata"]["name"]
    for reference in runtime["metadata"].get("ownerReferences") or []:
        if reference.get("kind") == "Dataset" and reference.get("name") == name:
            return str(reference.get("uid", ""))
    return ""

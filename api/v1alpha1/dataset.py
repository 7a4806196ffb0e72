"""Dataset: the data a user wants cached, and (in status) which runtime serves it."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from fluidpy.api.v1alpha1.base import (
    AGE_COLUMN,
    DNS1035_NAME_RULE,
    DateTime,
    FluidModel,
    Int32,
    NativeObject,
    PrinterColumn,
    Resource,
    Toleration,
)
from fluidpy.api.v1alpha1.common import (
    ConditionStatus,
    EncryptOption,
    Mount,
    PlacementMode,
    User,
    conditions_field,
)

ACCELERATE_CATEGORY = "Accelerate"
"""The category every cache runtime binds a Dataset with (status.runtimes[].category)."""


class DatasetPhase(StrEnum):
    NONE = ""
    NOT_BOUND = "NotBound"
    BOUND = "Bound"
    FAILED = "Failed"
    UPDATING = "Updating"
    DATA_MIGRATING = "DataMigrating"
    PENDING = "Pending"


class DatasetConditionType(StrEnum):
    RUNTIME_SCHEDULED = "RuntimeScheduled"
    READY = "Ready"
    NOT_READY = "NotReady"
    UPDATE_READY = "UpdateReady"
    UPDATING = "Updating"
    INITIALIZED = "Initialized"
    CACHE_STATES_REPORTED = "CacheStatesReported"
    """fluidpy's: False (reason NOT_REPORTED_BY_RUNTIME) when the bound runtime cannot report
    cache figures, so the empty Cached columns say why."""


NOT_REPORTED_BY_RUNTIME = "NotReportedByRuntime"


class AccessMode(StrEnum):
    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_ONLY_MANY = "ReadOnlyMany"
    READ_WRITE_MANY = "ReadWriteMany"
    READ_WRITE_ONCE_POD = "ReadWriteOncePod"


class CacheableNodeAffinity(FluidModel):
    required: NativeObject | None = None
    """A native NodeSelector: the nodes the cache may run on."""


class DataRestoreLocation(FluidModel):
    path: str | None = None
    """local://<subpath> or pvc://<name>/<subpath>."""
    node_name: str | None = None


class DatasetRuntime(FluidModel):
    """A runtime bound to the Dataset."""

    name: str | None = None
    namespace: str | None = None
    category: str | None = None
    """Always ACCELERATE_CATEGORY for cache runtimes."""
    type: str | None = None
    """The runtime type: cache, alluxio, jindo, ..."""
    master_replicas: Int32 | None = None


MOUNTS_LIMIT = 128
"""Mounts one Dataset may list: far above real use, and a bound the API server needs to price
the rule that mount names are unique."""


class DatasetSpec(FluidModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.mounts) || self.mounts.all(m, !has(m.name) || m.name == ''"
                    " || self.mounts.exists_one(n, has(n.name) && n.name == m.name))",
                    "message": "mount names must be unique: rename or merge the mounts that "
                    "share a name",
                },
                {
                    "rule": "!has(self.mounts) || self.mounts.all(m,"
                    " m.mountPoint.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://'))",
                    "message": "every mounts[].mountPoint needs a scheme, such as "
                    "s3://bucket/dir, pvc://claim/dir or local:///dir",
                },
                {
                    "rule": "!has(self.mounts) || self.mounts.all(m, !has(m.path) || m.path == ''"
                    " || (m.path.startsWith('/') && !m.path.contains('/../')"
                    " && !m.path.endsWith('/..')))",
                    "message": "every mounts[].path must be absolute (start with /) and must "
                    "not contain ..",
                },
            ]
        }
    )

    mounts: list[Mount] | None = Field(default=None, min_length=1, max_length=MOUNTS_LIMIT)
    owner: User | None = None
    node_affinity: CacheableNodeAffinity | None = None
    tolerations: list[Toleration] | None = None
    access_modes: list[AccessMode] | None = None
    """Access modes of the PersistentVolume; [ReadOnlyMany] when empty."""
    runtimes: list[DatasetRuntime] | None = None
    placement: PlacementMode | None = None
    data_restore_location: DataRestoreLocation | None = None
    shared_options: dict[str, str] | None = None
    """Options merged into every mount's options."""
    shared_encrypt_options: list[EncryptOption] | None = None
    """Encrypt options merged into every mount's."""


class DatasetCondition(FluidModel):
    type: str
    """A DatasetConditionType."""
    status: ConditionStatus
    reason: str | None = None
    message: str | None = None
    last_update_time: DateTime | None = None
    last_transition_time: DateTime | None = None


class HCFSStatus(FluidModel):
    endpoint: str | None = None
    underlayer_file_system_version: str | None = None


class DatasetStatus(FluidModel):
    model_config = ConfigDict(json_schema_extra={"required": ["conditions"]})

    mounts: list[Mount] | None = None
    """The mounts the runtime has applied, to tell spec changes apart."""
    ufs_total: str | None = None
    phase: DatasetPhase | None = None
    runtimes: list[DatasetRuntime] | None = None
    conditions: list[DatasetCondition] | None = conditions_field()
    """Required once status is written (as upstream), so a fresh status carries []."""
    cache_states: dict[str, str] | None = None
    """Cache figures keyed by CacheStateKey."""
    hcfs: HCFSStatus | None = None
    file_num: str | None = None
    data_load_ref: str | None = None
    data_backup_ref: str | None = None
    operation_ref: dict[str, str] | None = None
    dataset_ref: list[str] | None = None
    """Datasets (namespace/name) that mount this one through dataset://."""


class Dataset(Resource):
    """A set of under-file-system mounts to cache; one runtime of the same name binds to it."""

    KIND: ClassVar[str] = "Dataset"
    PLURAL: ClassVar[str] = "datasets"
    NAME_RULE: ClassVar[JsonDict | None] = DNS1035_NAME_RULE
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("dataset",)
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = (
        PrinterColumn("Ufs Total Size", ".status.ufsTotal"),
        PrinterColumn("Cached", ".status.cacheStates.cached"),
        PrinterColumn("Cache Capacity", ".status.cacheStates.cacheCapacity"),
        PrinterColumn("Cached Percentage", ".status.cacheStates.cachedPercentage"),
        PrinterColumn("Phase", ".status.phase"),
        PrinterColumn(
            "Cache Figures",
            f'.status.conditions[?(@.type=="{DatasetConditionType.CACHE_STATES_REPORTED}")].reason',
        ),
        PrinterColumn("HCFS URL", ".status.hcfs.endpoint", priority=10),
        PrinterColumn("TOTAL FILES", ".status.fileNum", priority=11),
        PrinterColumn("CACHE HIT RATIO", ".status.cacheStates.cacheHitRatio", priority=10),
        AGE_COLUMN,
    )

    spec: DatasetSpec = Field(default_factory=DatasetSpec)
    status: DatasetStatus = Field(default_factory=DatasetStatus)

    def can_be_bound(self, name: str, namespace: str, category: str) -> bool:
        """True when no runtime is bound yet, or the given one already is (upstream's rule)."""
        bound = self.status.runtimes or []
        return not bound or any(
            r.name == name and r.namespace == namespace and r.category == category for r in bound
        )

    def is_exclusive(self) -> bool:
        """Exclusive placement (the default) keeps other Datasets' caches off this one's nodes."""
        return self.spec.placement in (None, PlacementMode.DEFAULT, PlacementMode.EXCLUSIVE)

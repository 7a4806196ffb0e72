"""Types shared by Datasets and the runtimes: mounts, secrets, tiered stores, runtime status."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from fluidpy.api.v1alpha1.base import (
    QUANTITY_LIST_PATTERN,
    DateTime,
    FluidModel,
    Int32,
    Int64,
    NativeObject,
    Quantity,
)


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class RuntimePhase(StrEnum):
    """How far a runtime component (or the whole runtime) is from serving."""

    NONE = ""
    NOT_READY = "NotReady"
    PARTIAL_READY = "PartialReady"
    READY = "Ready"


class MediumType(StrEnum):
    """The cache medium of an Alluxio/Jindo tiered-store level."""

    MEM = "MEM"
    SSD = "SSD"
    HDD = "HDD"


class VolumeType(StrEnum):
    HOST_PATH = "hostPath"
    EMPTY_DIR = "emptyDir"


class NetworkMode(StrEnum):
    """Pod networking of a runtime component; "" means host network, as upstream."""

    DEFAULT = ""
    HOST_NETWORK = "HostNetwork"
    CONTAINER_NETWORK = "ContainerNetwork"


class PlacementMode(StrEnum):
    """Whether a Dataset's cache shares nodes with other Datasets; "" means Exclusive."""

    DEFAULT = ""
    EXCLUSIVE = "Exclusive"
    SHARED = "Shared"


class RuntimeConditionType(StrEnum):
    MASTER_INITIALIZED = "MasterInitialized"
    MASTER_READY = "MasterReady"
    WORKERS_INITIALIZED = "WorkersInitialized"
    WORKERS_READY = "WorkersReady"
    WORKERS_SCALED_IN = "WorkersScaledIn"
    WORKERS_SCALED_OUT = "WorkersScaledOut"
    FUSES_INITIALIZED = "FusesInitialized"
    FUSES_READY = "FusesReady"
    FUSES_SCALED_IN = "FusesScaledIn"
    FUSES_SCALED_OUT = "FusesScaledOut"


class CacheStateKey(StrEnum):
    """Keys of the `cacheStates` maps of runtime and Dataset status (printer columns read them)."""

    CACHED = "cached"
    CACHE_CAPACITY = "cacheCapacity"
    CACHED_PERCENTAGE = "cachedPercentage"
    CACHE_HIT_RATIO = "cacheHitRatio"
    LOCAL_HIT_RATIO = "localHitRatio"
    REMOTE_HIT_RATIO = "remoteHitRatio"
    CACHE_THROUGHPUT_RATIO = "cacheThroughputRatio"
    LOCAL_THROUGHPUT_RATIO = "localThroughputRatio"
    REMOTE_THROUGHPUT_RATIO = "remoteThroughputRatio"
    LOW_WATER_MARK = "lowWaterMark"
    HIGH_WATER_MARK = "highWaterMark"
    NON_CACHEABLE = "nonCacheable"


class SecretKeySelector(FluidModel):
    name: str
    """Name of the Secret, in the Dataset's namespace."""
    key: str | None = None


class EncryptOptionSource(FluidModel):
    secret_key_ref: SecretKeySelector | None = None


class EncryptOption(FluidModel):
    """A mount option whose value lives in a Secret, so it never appears in the Dataset."""

    name: str
    """Option name, as the cache system expects it."""
    value_from: EncryptOptionSource | None = None


MOUNT_NAME_LIMIT = 253
MOUNT_POINT_LIMIT = 4096
"""Bounds that let the API server price the Dataset's mount rules (CEL needs bounded strings);
far above any real name or URL."""


class Mount(FluidModel):
    """One under-file-system location the Dataset exposes."""

    mount_point: str = Field(min_length=5, max_length=MOUNT_POINT_LIMIT)
    """Where the data lives, with its scheme: s3://, oss://, pvc://, local://, dataset://, ..."""
    options: dict[str, str] | None = None
    name: str | None = Field(default=None, min_length=0, max_length=MOUNT_NAME_LIMIT)
    path: str | None = Field(default=None, max_length=MOUNT_POINT_LIMIT)
    """Path in the cache namespace; "/<name>" when empty."""
    read_only: bool | None = None
    shared: bool | None = None
    encrypt_options: list[EncryptOption] | None = None


class User(FluidModel):
    """The identity a runtime runs as and writes cache files with."""

    uid: Int64
    gid: Int64
    user: str
    group: str


class VersionSpec(FluidModel):
    image: str | None = None
    image_tag: str | None = None
    image_pull_policy: str | None = None


class PodMetadata(FluidModel):
    """Labels and annotations added to the pods of a component."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class LocalObjectReference(FluidModel):
    name: str | None = None


class Level(FluidModel):
    """One tier of an Alluxio/Jindo cache: a medium, its paths and its size."""

    mediumtype: MediumType
    volume_type: VolumeType = VolumeType.HOST_PATH
    volume_source: NativeObject | None = None
    """A native volume source used instead of the default hostPath/emptyDir."""
    path: str | None = Field(default=None, min_length=1)
    """Comma-separated cache directories."""
    quota: Quantity | None = None
    """Total size of the level, split evenly over its paths unless quotaList is given."""
    quota_list: str | None = Field(default=None, pattern=QUANTITY_LIST_PATTERN)
    """Comma-separated quota per path, in the order of path."""
    high: str | None = None
    """High watermark ratio, e.g. "0.95": eviction starts above it."""
    low: str | None = None
    """Low watermark ratio, e.g. "0.7": eviction stops below it."""


class TieredStore(FluidModel):
    levels: list[Level] | None = None


class CleanCachePolicy(FluidModel):
    grace_period_seconds: Int32 = 60
    """Seconds to wait for a cache clean before retrying it."""
    max_retry_attempts: Int32 = 3
    """Cache cleans attempted before giving up at deletion."""


class MetadataSyncPolicy(FluidModel):
    auto_sync: bool | None = None
    """Sync metadata from the under file system after setup; on when omitted."""


class RuntimeManagement(FluidModel):
    clean_cache_policy: CleanCachePolicy | None = None
    metadata_sync_policy: MetadataSyncPolicy | None = None


class ClientMetrics(FluidModel):
    enabled: bool | None = None
    scrape_target: str | None = None


class RuntimeCondition(FluidModel):
    type: str
    """A RuntimeConditionType, or a condition a controller adds (e.g. RuntimeClassNotFound)."""
    status: ConditionStatus
    reason: str | None = None
    message: str | None = None
    last_probe_time: DateTime | None = None
    last_transition_time: DateTime | None = None


def conditions_field() -> Any:
    """Conditions are a list-map keyed by type, so server-side apply merges them one by one."""
    return Field(
        default=None,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class APIGatewayStatus(FluidModel):
    endpoint: str | None = None


class RuntimeStatus(FluidModel):
    """Status of the master/worker/fuse runtimes (Alluxio, Jindo), field for field upstream's."""

    value_file: str | None = None
    """ConfigMap holding the values the runtime was rendered from."""
    master_phase: RuntimePhase | None = None
    master_reason: str | None = None
    worker_phase: RuntimePhase | None = None
    worker_reason: str | None = None
    desired_worker_number_scheduled: Int32 | None = None
    current_worker_number_scheduled: Int32 | None = None
    worker_number_ready: Int32 | None = None
    worker_number_available: Int32 | None = None
    worker_number_unavailable: Int32 | None = None
    desired_master_number_scheduled: Int32 | None = None
    current_master_number_scheduled: Int32 | None = None
    master_number_ready: Int32 | None = None
    fuse_phase: RuntimePhase | None = None
    fuse_reason: str | None = None
    current_fuse_number_scheduled: Int32 | None = None
    desired_fuse_number_scheduled: Int32 | None = None
    fuse_number_ready: Int32 | None = None
    fuse_number_unavailable: Int32 | None = None
    fuse_number_available: Int32 | None = None
    setup_duration: str | None = None
    conditions: list[RuntimeCondition] | None = conditions_field()
    cache_states: dict[str, str] | None = None
    """Cache figures keyed by CacheStateKey."""
    selector: str | None = None
    """Label selector of the worker pods, for the scale subresource."""
    api_gateway: APIGatewayStatus | None = None
    mount_time: DateTime | None = None
    mounts: list[Mount] | None = None
    cache_affinity: NativeObject | None = None
    """Node affinity that keeps applications near the cache workers."""

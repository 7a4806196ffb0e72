"""DataLoad: warm a Dataset's cache (upstream Fluid's data operation of the same name).

The spec and status are upstream's field for field, so upstream's manifests apply unchanged;
which of them fluidpy acts on, and how, is in docs/dataload.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from fluidpy.api.v1alpha1.base import (
    AGE_COLUMN,
    DateTime,
    FluidModel,
    Int32,
    NativeObject,
    PrinterColumn,
    Resource,
    ResourceRequirements,
    Toleration,
)
from fluidpy.api.v1alpha1.common import PodMetadata, RuntimeCondition, conditions_field


class DataLoadPolicy(StrEnum):
    ONCE = "Once"
    CRON = "Cron"
    ON_EVENT = "OnEvent"


class OperationPhase(StrEnum):
    """A data operation's phase (upstream's common.Phase)."""

    NONE = ""
    PENDING = "Pending"
    EXECUTING = "Executing"
    COMPLETE = "Complete"
    FAILED = "Failed"


class OperationKind(StrEnum):
    DATA_LOAD = "DataLoad"
    DATA_BACKUP = "DataBackup"
    DATA_MIGRATE = "DataMigrate"
    DATA_PROCESS = "DataProcess"


class TargetDataset(FluidModel):
    name: str
    namespace: str | None = None
    """Must be the DataLoad's own namespace (or empty, meaning it)."""


class TargetPath(FluidModel):
    path: str
    """A path in the cache's namespace, as the Dataset's mounts place it (e.g. /spark)."""
    replicas: Int32 | None = None
    """Cache replicas of the path's blocks; 1 when unset (upstream's chart default)."""


class OperationRef(FluidModel):
    """The operation this one runs after (upstream's runAfter); accepted, not acted on."""

    api_version: str | None = None
    kind: OperationKind
    name: str
    namespace: str | None = None
    affinity_strategy: NativeObject | None = None


class DataLoadSpec(FluidModel):
    dataset: TargetDataset | None = None
    load_metadata: bool | None = None
    """Refresh the cache's metadata of the target paths before loading them."""
    target: list[TargetPath] | None = None
    """The paths to load; none means the whole Dataset (/)."""
    options: dict[str, str] | None = None
    """Extra settings for the cache system's loader (engine-specific)."""
    pod_metadata: PodMetadata | None = None
    """Labels and annotations added to the loader pod."""
    affinity: NativeObject | None = None
    tolerations: list[Toleration] | None = None
    node_selector: dict[str, str] | None = None
    scheduler_name: str | None = None
    policy: DataLoadPolicy = DataLoadPolicy.ONCE
    """Once (default): one run. Cron: a run per `schedule` tick. OnEvent: upstream defines no
    event source for DataLoad and runs it once, as does fluidpy."""
    schedule: str | None = None
    """Five-field cron schedule (minute hour day-of-month month day-of-week), for Cron."""
    run_after: OperationRef | None = None
    ttl_seconds_after_finished: Int32 | None = None
    """Delete the DataLoad this many seconds after it finished (Once only, as upstream)."""
    resources: ResourceRequirements | None = None


class WaitingStatus(FluidModel):
    operation_complete: bool | None = None


class OperationStatus(FluidModel):
    phase: OperationPhase | None = None
    duration: str | None = None
    """How long the last run took, e.g. 1m5s; "Unfinished" while it runs."""
    conditions: list[RuntimeCondition] | None = conditions_field()
    """While waiting, a Waiting condition says for what; once the run ended, the Job's own
    Complete or Failed condition."""
    infos: dict[str, str] | None = None
    last_schedule_time: DateTime | None = None
    last_successful_time: DateTime | None = None
    waiting_for: WaitingStatus | None = None
    node_affinity: NativeObject | None = None


class DataLoad(Resource):
    """Loads a Dataset's data (or metadata) into its runtime's cache, once or on a schedule."""

    KIND: ClassVar[str] = "DataLoad"
    PLURAL: ClassVar[str] = "dataloads"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("load",)
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = (
        PrinterColumn("Dataset", ".spec.dataset.name"),
        PrinterColumn("Phase", ".status.phase"),
        AGE_COLUMN,
        PrinterColumn("Duration", ".status.duration"),
    )

    spec: DataLoadSpec = Field(default_factory=DataLoadSpec)
    status: OperationStatus = Field(default_factory=OperationStatus)

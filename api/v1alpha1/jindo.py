"""JindoRuntime: field for field upstream Fluid's, so Fluid's own manifests apply unchanged."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic.config import JsonDict

from fluidpy.api.v1alpha1.base import (
    AGE_COLUMN,
    DNS1035_NAME_RULE,
    FluidModel,
    Int32,
    PrinterColumn,
    Resource,
    ResourceRequirements,
    Scale,
    Toleration,
    Volume,
    VolumeMount,
)
from fluidpy.api.v1alpha1.common import (
    CleanCachePolicy,
    ClientMetrics,
    LocalObjectReference,
    NetworkMode,
    PodMetadata,
    RuntimeStatus,
    TieredStore,
    User,
    VersionSpec,
)


class JindoCompTemplateSpec(FluidModel):
    """Settings of a Jindo master or worker."""

    replicas: Int32 | None = Field(default=None, ge=1)
    properties: dict[str, str] | None = None
    ports: dict[str, int] | None = None
    resources: ResourceRequirements | None = None
    env: dict[str, str] | None = None
    node_selector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = None
    labels: dict[str, str] | None = None
    """Deprecated upstream in favour of podMetadata.labels; still honoured."""
    pod_metadata: PodMetadata | None = None
    disabled: bool | None = None
    volume_mounts: list[VolumeMount] | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None


class JindoFuseSpec(FluidModel):
    image: str | None = None
    image_tag: str | None = None
    image_pull_policy: str | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    properties: dict[str, str] | None = None
    env: dict[str, str] | None = None
    resources: ResourceRequirements | None = None
    args: list[str] | None = None
    """FUSE mount options, e.g. -oauto_cache."""
    node_selector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = None
    labels: dict[str, str] | None = None
    pod_metadata: PodMetadata | None = None
    clean_policy: str | None = None
    """When FUSE pods go: OnRuntimeDeleted (default) or OnDemand."""
    disabled: bool | None = None
    log_config: dict[str, str] | None = None
    metrics: ClientMetrics | None = None


class JindoRuntimeSpec(FluidModel):
    jindo_version: VersionSpec | None = None
    master: JindoCompTemplateSpec | None = None
    worker: JindoCompTemplateSpec | None = None
    fuse: JindoFuseSpec | None = None
    properties: dict[str, str] | None = None
    tieredstore: TieredStore | None = None
    replicas: Int32 | None = None
    """Number of cache workers; the scale subresource's replicas."""
    run_as: User | None = None
    user: str | None = None
    hadoop_config: str | None = None
    secret: str | None = None
    labels: dict[str, str] | None = None
    pod_metadata: PodMetadata | None = None
    log_config: dict[str, str] | None = None
    volumes: list[Volume] | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    networkmode: NetworkMode | None = None
    """Lower-case on the wire, as upstream."""
    clean_cache_policy: CleanCachePolicy | None = None


class JindoRuntime(Resource):
    """A JindoCache cluster (master, workers, FUSE) for the Dataset of the same name."""

    KIND: ClassVar[str] = "JindoRuntime"
    PLURAL: ClassVar[str] = "jindoruntimes"
    NAME_RULE: ClassVar[JsonDict | None] = DNS1035_NAME_RULE
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("jindo",)
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = (
        PrinterColumn("Ready Masters", ".status.masterNumberReady", "integer", 10),
        PrinterColumn("Desired Masters", ".status.desiredMasterNumberScheduled", "integer", 10),
        PrinterColumn("Master Phase", ".status.masterPhase"),
        PrinterColumn("Ready Workers", ".status.workerNumberReady", "integer", 10),
        PrinterColumn("Desired Workers", ".status.desiredWorkerNumberScheduled", "integer", 10),
        PrinterColumn("Worker Phase", ".status.workerPhase"),
        PrinterColumn("Ready Fuses", ".status.fuseNumberReady", "integer", 10),
        PrinterColumn("Desired Fuses", ".status.desiredFuseNumberScheduled", "integer", 10),
        PrinterColumn("Fuse Phase", ".status.fusePhase"),
        AGE_COLUMN,
    )
    SCALE: ClassVar[Scale | None] = Scale(
        spec_replicas_path=".spec.replicas",
        status_replicas_path=".status.currentWorkerNumberScheduled",
        label_selector_path=".status.selector",
    )

    spec: JindoRuntimeSpec = Field(default_factory=JindoRuntimeSpec)
    status: RuntimeStatus = Field(default_factory=RuntimeStatus)

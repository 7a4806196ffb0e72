"""AlluxioRuntime: field for field upstream Fluid's, so Fluid's own manifests apply unchanged."""

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
    Volume,
    VolumeMount,
)
from fluidpy.api.v1alpha1.common import (
    LocalObjectReference,
    NetworkMode,
    PodMetadata,
    RuntimeManagement,
    RuntimeStatus,
    TieredStore,
    User,
    VersionSpec,
)


class AlluxioCompTemplateSpec(FluidModel):
    """Settings of an Alluxio component (master, job master, worker, job worker, API gateway)."""

    replicas: Int32 | None = Field(default=None, ge=1)
    jvm_options: list[str] | None = None
    properties: dict[str, str] | None = None
    """Alluxio properties for this component, over the runtime-wide ones."""
    ports: dict[str, int] | None = None
    resources: ResourceRequirements | None = None
    env: dict[str, str] | None = None
    enabled: bool | None = None
    node_selector: dict[str, str] | None = None
    network_mode: NetworkMode | None = None
    volume_mounts: list[VolumeMount] | None = None
    pod_metadata: PodMetadata | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None


class AlluxioFuseSpec(FluidModel):
    image: str | None = None
    image_tag: str | None = None
    image_pull_policy: str | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    jvm_options: list[str] | None = None
    properties: dict[str, str] | None = None
    env: dict[str, str] | None = None
    resources: ResourceRequirements | None = None
    args: list[str] | None = None
    """The FUSE command line, replacing the default."""
    node_selector: dict[str, str] | None = None
    clean_policy: str | None = None
    """When FUSE pods go: OnRuntimeDeleted (default) or OnDemand."""
    network_mode: NetworkMode | None = None
    volume_mounts: list[VolumeMount] | None = None
    pod_metadata: PodMetadata | None = None


class InitUsersSpec(FluidModel):
    image: str | None = None
    image_tag: str | None = None
    image_pull_policy: str | None = None
    env: dict[str, str] | None = None
    resources: ResourceRequirements | None = None


class Data(FluidModel):
    replicas: Int32 | None = None
    """Copies of each block kept in the cache."""
    pin: bool | None = None


class AlluxioRuntimeSpec(FluidModel):
    alluxio_version: VersionSpec | None = None
    master: AlluxioCompTemplateSpec | None = None
    job_master: AlluxioCompTemplateSpec | None = None
    worker: AlluxioCompTemplateSpec | None = None
    job_worker: AlluxioCompTemplateSpec | None = None
    api_gateway: AlluxioCompTemplateSpec | None = None
    init_users: InitUsersSpec | None = None
    fuse: AlluxioFuseSpec | None = None
    properties: dict[str, str] | None = None
    jvm_options: list[str] | None = None
    tieredstore: TieredStore | None = None
    data: Data | None = None
    replicas: Int32 | None = None
    """Number of cache workers; the scale subresource's replicas."""
    run_as: User | None = None
    disable_prometheus: bool | None = None
    hadoop_config: str | None = None
    """ConfigMap with hdfs-site.xml and core-site.xml for HDFS under file systems."""
    volumes: list[Volume] | None = None
    pod_metadata: PodMetadata | None = None
    management: RuntimeManagement | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None


class AlluxioRuntime(Resource):
    """An Alluxio cache cluster (master, workers, FUSE) for the Dataset of the same name."""

    KIND: ClassVar[str] = "AlluxioRuntime"
    PLURAL: ClassVar[str] = "alluxioruntimes"
    NAME_RULE: ClassVar[JsonDict | None] = DNS1035_NAME_RULE
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("alluxio",)
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
        PrinterColumn("API Gateway", ".status.apiGateway.endpoint", priority=10),
        AGE_COLUMN,
    )
    SCALE: ClassVar[Scale | None] = Scale(
        spec_replicas_path=".spec.replicas",
        status_replicas_path=".status.currentWorkerNumberScheduled",
        label_selector_path=".status.selector",
    )

    spec: AlluxioRuntimeSpec = Field(default_factory=AlluxioRuntimeSpec)
    status: RuntimeStatus = Field(default_factory=RuntimeStatus)

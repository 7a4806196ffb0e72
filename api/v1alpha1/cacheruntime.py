"""CacheRuntime: one instance of a CacheRuntimeClass, serving the Dataset of the same name."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from fluidpy.api.v1alpha1.base import (
    AGE_COLUMN,
    DNS1035_NAME_RULE,
    DateTime,
    EnvVar,
    FluidModel,
    Int32,
    NativeObject,
    PrinterColumn,
    Quantity,
    Resource,
    ResourceRequirements,
    Volume,
    VolumeMount,
)
from fluidpy.api.v1alpha1.common import RuntimeCondition, RuntimePhase, conditions_field

WATERMARK_PATTERN = r"^(0(\.[0-9]*)?|1(\.0*)?|\.[0-9]+)$"
"""A ratio between 0 and 1 written as a string, e.g. "0.8"."""


class EmptyDirMedium(FluidModel):
    medium: str | None = Field(default=None, pattern=r"^(|Memory|HugePages(-.+)?)$")
    """Storage medium of the emptyDir: "" (node disk), Memory (tmpfs) or HugePages."""


class HostPathType(StrEnum):
    UNSET = ""
    DIRECTORY_OR_CREATE = "DirectoryOrCreate"
    DIRECTORY = "Directory"
    FILE_OR_CREATE = "FileOrCreate"
    FILE = "File"
    SOCKET = "Socket"
    CHAR_DEVICE = "CharDevice"
    BLOCK_DEVICE = "BlockDevice"


class HostPathMedium(FluidModel):
    path: str = Field(min_length=1)
    """Directory on the node."""
    type: HostPathType | None = None


class TieredStoreMedium(FluidModel):
    """Where a level's cache lives: exactly one of emptyDir or hostPath."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.emptyDir) != has(self.hostPath)",
                    "message": "medium must set exactly one of emptyDir or hostPath",
                }
            ]
        }
    )

    empty_dir: EmptyDirMedium | None = None
    host_path: HostPathMedium | None = None


class TieredStoreLevel(FluidModel):
    """One cache tier of a component: a volume mounted at `path`."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.low) || !has(self.high)"
                    " || double(self.low) <= double(self.high)",
                    "message": "low must not be above high (eviction stops at low and starts "
                    "at high); swap the two watermarks",
                }
            ]
        }
    )

    quota: Quantity | None = None
    """Size of the level; the emptyDir's sizeLimit."""
    low: str | None = Field(default=None, pattern=WATERMARK_PATTERN)
    high: str | None = Field(default=None, pattern=WATERMARK_PATTERN)
    path: str = Field(min_length=1)
    """Mount path of the level in the component's containers."""
    medium: TieredStoreMedium


class RuntimeTieredStore(FluidModel):
    levels: list[TieredStoreLevel] | None = None


class CacheRuntimeComponent(FluidModel):
    """Settings of one component, layered over what its CacheRuntimeClass defines."""

    disabled: bool | None = None
    """Do not run this component even though the class defines it."""
    options: dict[str, str] | None = None
    """Options overriding the class's, key by key."""
    tiered_store: RuntimeTieredStore | None = None
    volume_mounts: list[VolumeMount] | None = None
    """Mounts of volumes from spec.volumes into the component's containers."""
    env: list[EnvVar] | None = None
    """Environment added after the variables Fluid injects."""
    resources: ResourceRequirements | None = None
    node_selector: dict[str, str] | None = None


class CacheRuntimeReplicatedComponent(CacheRuntimeComponent):
    """Settings of the master or the workers, which run a set number of pods."""

    replicas: Int32 = Field(default=1, ge=0)


class CacheRuntimeSpec(FluidModel):
    runtime_class_name: str = Field(min_length=1)
    """Name of the CacheRuntimeClass this runtime instantiates."""
    master: CacheRuntimeReplicatedComponent | None = None
    worker: CacheRuntimeReplicatedComponent | None = None
    client: CacheRuntimeComponent | None = None
    volumes: list[Volume] | None = None
    """Volumes the components' volumeMounts may use."""
    options: dict[str, str] | None = None
    """Options for every component: above the class's component options, below
    spec.<component>.options."""


class CacheRuntimeComponentStatus(FluidModel):
    phase: RuntimePhase | None = None
    reason: str | None = None
    message: str | None = None
    desired_replicas: Int32 | None = None
    current_replicas: Int32 | None = None
    ready_replicas: Int32 | None = None
    available_replicas: Int32 | None = None
    unavailable_replicas: Int32 | None = None


class CacheRuntimeStatus(FluidModel):
    phase: RuntimePhase | None = None
    """Ready once the master and the workers are (the client never gates readiness)."""
    master: CacheRuntimeComponentStatus | None = None
    worker: CacheRuntimeComponentStatus | None = None
    client: CacheRuntimeComponentStatus | None = None
    conditions: list[RuntimeCondition] | None = conditions_field()
    value_file: str | None = None
    """The runtime config ConfigMap (fluid-runtime-config-<name>)."""
    setup_duration: str | None = None
    selector: str | None = None
    cache_affinity: NativeObject | None = None
    mount_time: DateTime | None = None


def _component_columns(component: str, plural: str) -> tuple[PrinterColumn, ...]:
    base = f".status.{component}"
    title = component.capitalize()
    return (
        PrinterColumn(f"{title} Phase", f"{base}.phase"),
        PrinterColumn(f"Ready {plural}", f"{base}.readyReplicas", "integer", priority=10),
        PrinterColumn(f"Desired {plural}", f"{base}.desiredReplicas", "integer", priority=10),
    )


class CacheRuntime(Resource):
    """A cache system instance built from a CacheRuntimeClass, for the Dataset of the same name."""

    KIND: ClassVar[str] = "CacheRuntime"
    PLURAL: ClassVar[str] = "cacheruntimes"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("cache",)
    """Upstream gives CacheRuntime no short name; `cache` follows its runtimes' (alluxio, jindo)."""
    NAME_RULE: ClassVar[JsonDict | None] = DNS1035_NAME_RULE
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = (
        PrinterColumn("Class", ".spec.runtimeClassName"),
        *_component_columns("master", "Masters"),
        *_component_columns("worker", "Workers"),
        *_component_columns("client", "Clients"),
        PrinterColumn("Phase", ".status.phase"),
        AGE_COLUMN,
    )

    spec: CacheRuntimeSpec
    status: CacheRuntimeStatus = Field(default_factory=CacheRuntimeStatus)

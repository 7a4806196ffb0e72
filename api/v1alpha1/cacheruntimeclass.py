"""CacheRuntimeClass: a cache system described in YAML, a template CacheRuntimes instantiate.

Cluster-scoped and without a spec (its fields sit at the top level), as in the integration guide.
Which components the class defines gives its topology: master, worker and client (MasterSlave),
worker and client (P2P), or client alone (ClientOnly).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from fluidpy.api.v1alpha1.base import (
    AGE_COLUMN,
    FluidModel,
    Int32,
    PodTemplateSpec,
    PrinterColumn,
    Resource,
)
from fluidpy.api.v1alpha1.dataload import OperationKind


class WorkloadKind(StrEnum):
    STATEFUL_SET = "StatefulSet"
    DAEMON_SET = "DaemonSet"
    DEPLOYMENT = "Deployment"


class WorkloadType(FluidModel):
    """The kind of workload that runs a component's pods."""

    api_version: Literal["apps/v1"]
    kind: WorkloadKind


class HeadlessService(FluidModel):
    """Presence asks for a headless Service; it has no settings yet."""


class ComponentService(FluidModel):
    headless: HeadlessService | None = None
    """Create a headless Service named like the workload (StatefulSets only)."""


class EncryptOptionDependency(FluidModel):
    """Presence mounts the Dataset's encryptOptions Secrets into the component."""


class ExtraConfigMapMount(FluidModel):
    name: str
    """A config map declared in the class's extraResources.configMaps."""
    mount_path: str
    """Where the config map's keys appear as files (read-only)."""


class ComponentExtraResources(FluidModel):
    config_maps: list[ExtraConfigMapMount] | None = None


class ComponentDependencies(FluidModel):
    encrypt_option: EncryptOptionDependency | None = None
    """Mount each Secret the Dataset's encryptOptions name at /etc/fluid/secrets/<secret>/."""
    extra_resources: ComponentExtraResources | None = None
    """Mount the class's extra ConfigMaps (each named in extraResources.configMaps) read-only
    at their mountPath in the first container and the first init container."""


MIN_EXECUTION_TIMEOUT = 20
"""Seconds: a shorter timeout is raised to this, as upstream does, so a slow API server or a
cold container does not fail a command that would have succeeded."""


class ExecutionEntry(FluidModel):
    """A command the engine runs in the component's first pod (container 0), through pod exec
    on the API server; what it prints on stdout is the answer."""

    command: list[str] = Field(min_length=1)
    timeout: Int32 | None = Field(default=None, ge=1)
    """Seconds before the command counts as failed; unset or below 20 means 20."""


class ExecutionEntries(FluidModel):
    """The commands a cache system offers the engine, as upstream's executionEntries."""

    mount_ufs: ExecutionEntry | None = Field(default=None, alias="mountUFS")
    """Mount the Dataset's under file systems; prints `{"mounted": ["/path", ...]}`. Master only
    (a master-worker cache system); binding waits until it succeeds."""
    report_summary: ExecutionEntry | None = None
    """Print the cache figures as JSON with string fields cached, cachedPercentage,
    cacheCapacity and cacheHitRatio; they become the Dataset's status.cacheStates. Master, or
    worker when the class has no master."""


class RuntimeComponentDefinition(FluidModel):
    """How the class runs one component: workload kind, pod template, service, dependencies."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.service) || !has(self.service.headless)"
                    " || self.workloadType.kind == 'StatefulSet'",
                    "message": "service.headless needs workloadType.kind StatefulSet "
                    "(pods of other workloads have no stable DNS names); "
                    "remove service.headless or use a StatefulSet",
                }
            ]
        }
    )

    workload_type: WorkloadType
    service: ComponentService | None = None
    dependencies: ComponentDependencies | None = None
    options: dict[str, str] | None = None
    """Default options, overridden key by key by the CacheRuntime's."""
    execution_entries: ExecutionEntries | None = None
    pod_template_spec: PodTemplateSpec
    """The component's pod template, kept whole (labels and annotations included)."""


class Topology(FluidModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.master) || has(self.worker) || has(self.client)",
                    "message": "topology must define at least one of master, worker, client",
                }
            ]
        }
    )

    master: RuntimeComponentDefinition | None = None
    worker: RuntimeComponentDefinition | None = None
    client: RuntimeComponentDefinition | None = None


class ExtraConfigMap(FluidModel):
    name: str
    data: dict[str, str] | None = None


class ExtraResources(FluidModel):
    config_maps: list[ExtraConfigMap] | None = None
    """Config maps the class ships for its components, created in each runtime's namespace
    under their own names and owned by the runtime; one of that name that is not the
    runtime's is left as it is (the runtime reports it)."""


class DataOperationSpec(FluidModel):
    """How the cache system runs one data operation: a container the operation's Job runs."""

    name: OperationKind
    """The operation; fluidpy runs DataLoad (the others are accepted and refused at run time,
    as upstream)."""
    image: str | None = None
    """The loader's image; the worker's image when unset."""
    command: list[str] | None = None
    args: list[str] | None = None


class CacheRuntimeClass(Resource):
    """A cache system's template: its components, how to run them and what they need."""

    KIND: ClassVar[str] = "CacheRuntimeClass"
    PLURAL: ClassVar[str] = "cacheruntimeclasses"
    NAMESPACED: ClassVar[bool] = False
    PRINTER_COLUMNS: ClassVar[tuple[PrinterColumn, ...]] = (
        PrinterColumn("File System", ".fileSystemType"),
        *(
            PrinterColumn(component.capitalize(), f".topology.{component}.workloadType.kind")
            for component in ("master", "worker", "client")
        ),
        AGE_COLUMN,
    )

    file_system_type: str = Field(min_length=1)
    """The file system type a client mount shows once mounted (the mount readiness check)."""
    topology: Topology
    extra_resources: ExtraResources | None = None
    data_operation_specs: list[DataOperationSpec] | None = None
    """The data operations (DataLoad, ...) the cache system supports, and how it runs them."""

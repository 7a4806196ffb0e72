"""The skeleton every Master/Worker renderer shares: its inputs, default images, Hadoop config.

An engine's render module subclasses `WorkloadRenderer` with a method per object it runs; the
inputs (runtime, Dataset spec, RuntimeInfo, owner, mount root, images) and the pieces that do
not depend on the cache system live here, once.
"""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.masterworker import rendering
from fluidpy.engines.masterworker.cache_system import Workloads
from fluidpy.engines.masterworker.layout import FUSE, Layout
from fluidpy.engines.masterworker.rendering import Obj

HADOOP_CONFIG_DIRECTORY = "/hdfs-config"
"""Where the ConfigMap named by `spec.hadoopConfig` is mounted (hdfs-site.xml, core-site.xml)."""


@dataclass(frozen=True)
class Images:
    """Default images (image:tag) of the cache system's servers and of its FUSE client; the
    runtime's version and fuse.image fields win over them."""

    runtime: str
    fuse: str

    def overridden(
        self, variables: Mapping[str, str], runtime_variable: str, fuse_variable: str
    ) -> Images:
        """These defaults, replaced by upstream's image variables where they are set."""
        return Images(
            runtime=variables.get(runtime_variable) or self.runtime,
            fuse=variables.get(fuse_variable) or self.fuse,
        )


class MasterWorkerRuntime(Protocol):
    """Any Master/Worker runtime model; the skeleton reads `spec.hadoopConfig` and
    `spec.runAs`, which every one of them has."""

    @property
    def spec(self) -> Any: ...


RuntimeT = TypeVar("RuntimeT", bound=MasterWorkerRuntime)


class ComponentSpec(Protocol):
    """Any Master/Worker component spec: its ports by name override the defaults."""

    @property
    def ports(self) -> dict[str, int] | None: ...


ComponentT = TypeVar("ComponentT", bound=ComponentSpec)


class WorkloadRenderer(ABC, Generic[RuntimeT, ComponentT]):
    """One rendering: the inputs, and (in subclasses) a method per object."""

    app: ClassVar[str]
    """The chart's `app` label of every object; the FUSE mount point's last path segment on
    the node is `<app>-fuse`, the master container where the CLI runs `<app>-master`."""
    default_images: ClassVar[Images]
    component_model: type[ComponentT]
    """The model of a component's spec (master, worker, ...)."""
    default_ports: ClassVar[dict[str, dict[str, int]]]
    """The cache system's default ports by component; `spec.<component>.ports` overrides them
    by name."""

    @classmethod
    def fuse_directory(cls) -> str:
        return f"{cls.app}-fuse"

    @classmethod
    def master_container(cls) -> str:
        return f"{cls.app}-master"

    def __init__(
        self,
        runtime: RuntimeT,
        dataset: DatasetSpec,
        info: RuntimeInfo,
        *,
        owner: Obj,
        mount_root: str,
        images: Images,
    ) -> None:
        self.runtime = runtime
        self.spec = runtime.spec
        self.dataset = dataset
        self.info = info
        self.owner = owner
        self.mount_root = mount_root
        self.images = images
        self.layout = Layout.of(info, self.app)

    @classmethod
    def render(
        cls,
        runtime: RuntimeT,
        dataset: DatasetSpec,
        info: RuntimeInfo,
        *,
        owner: Obj,
        mount_root: str,
        images: Images,
    ) -> Workloads:
        """Every object of the runtime; `owner` is the controller owner reference they carry."""
        renderer = cls(runtime, dataset, info, owner=owner, mount_root=mount_root, images=images)
        return renderer.workloads()

    @abstractmethod
    def workloads(self) -> Workloads: ...

    def fuse_mount_path(self) -> str:
        """Where the FUSE client mounts the cache on the node (the PV's path)."""
        return self.info.fuse_mount_path(self.mount_root, self.fuse_directory())

    def fuse_host_directory(self) -> str:
        """The node directory the FUSE DaemonSet mounts: the mount point's parent."""
        return posixpath.dirname(self.fuse_mount_path())

    def component(self, name: str) -> ComponentT:
        """The spec of one component (master, worker, ...), its defaults when unset."""
        spec: ComponentT | None = getattr(self.spec, name)
        return spec or self.component_model()

    def configured_ports(self, component: str) -> dict[str, int]:
        """The component's default ports with the spec's over them."""
        return {**self.default_ports[component], **(self.component(component).ports or {})}

    def fuse_daemonset(self, pod_spec: Obj, user_labels: Mapping[str, str] | None = None) -> Obj:
        """The FUSE DaemonSet around `pod_spec`, its pods labelled as FUSE pods (over any
        user labels) with the runtime's and FUSE's pod metadata."""
        fuse = self.spec.fuse
        template = {
            "metadata": rendering.pod_metadata(
                {**(user_labels or {}), **self.layout.labels(FUSE)},
                self.spec.pod_metadata,
                fuse.pod_metadata if fuse else None,
            ),
            "spec": pod_spec,
        }
        return rendering.fuse_daemonset(self.layout, self.owner, template)

    def hadoop_volumes(self) -> tuple[list[Obj], list[Obj]]:
        """The `spec.hadoopConfig` ConfigMap as a volume and its read-only mount, if set."""
        name = self.spec.hadoop_config
        if not name:
            return [], []
        return (
            [{"name": "hdfs-config", "configMap": {"name": name}}],
            [{"name": "hdfs-config", "mountPath": HADOOP_CONFIG_DIRECTORY, "readOnly": True}],
        )

    def with_pull_policy_and_user(self, container: Obj, pull_policy: str | None) -> Obj:
        """A server container with the version's pull policy and `spec.runAs`, when set."""
        if pull_policy:
            container["imagePullPolicy"] = pull_policy
        context = rendering.security_context(self.spec.run_as)
        if context:
            container["securityContext"] = context
        return container

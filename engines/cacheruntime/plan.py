"""The Plan: a CacheRuntime, its class and its Dataset resolved into what should exist.

Everything a renderer needs is decided here once per reconcile: which components run (the class
defines them and the runtime does not disable them), with which workload kind, options, pod
template and runtime settings, which Secrets the Dataset's encryptOptions name, and the paths
and names derived from the runtime. Renderers then stay simple functions of a Plan.

Building a Plan assumes valid input; validation.py checks the input first and says what to fix.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fluidpy.api.v1alpha1 import (
    CacheRuntime,
    CacheRuntimeClass,
    CacheRuntimeComponent,
    CacheRuntimeReplicatedComponent,
    Dataset,
    RuntimeComponentDefinition,
)
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.base.units import parse_quantity
from fluidpy.engines.cacheruntime.naming import (
    COMPONENTS,
    DAEMONSET,
    Component,
    config_map_name,
    secret_file,
    target_path,
    workload_name,
)

DEFAULT_REPLICAS = 1
"""Master and worker replicas when the runtime does not say (the CRD's default too)."""
DEFAULT_ACCESS_MODES = ("ReadOnlyMany",)
"""Fluid's default when the Dataset names none: a cache serves reads."""
MEMORY_MEDIUM = "Memory"
"""The emptyDir medium of a tmpfs."""


@dataclass(frozen=True)
class ComponentPlan:
    """One of master, worker, client: what the class defines and the runtime adds."""

    component: Component
    workload: str
    """`<name>-<component>`, the workload's (and headless Service's) name."""
    definition: RuntimeComponentDefinition | None
    """The class's definition; None when the class has no such component."""
    settings: CacheRuntimeComponent
    """The runtime's settings (empty when the runtime says nothing about the component)."""
    enabled: bool
    runtime_options: dict[str, str] = field(default_factory=dict)
    """The runtime's spec.options, which every component gets."""

    @property
    def kind(self) -> str:
        """The workload kind (StatefulSet, DaemonSet, Deployment); "" when not defined."""
        return self.definition.workload_type.kind.value if self.definition else ""

    @property
    def headless(self) -> bool:
        service = self.definition.service if self.definition else None
        return bool(self.enabled and service is not None and service.headless is not None)

    @property
    def service_name(self) -> str:
        """The headless Service's name, "" when the component has none."""
        return self.workload if self.headless else ""

    @property
    def mounts_secrets(self) -> bool:
        dependencies = self.definition.dependencies if self.definition else None
        return bool(dependencies is not None and dependencies.encrypt_option is not None)

    @property
    def extra_config_map_mounts(self) -> list[tuple[str, str]]:
        """(config map, mount path) for each of the class's extra ConfigMaps the component
        mounts (dependencies.extraResources.configMaps)."""
        dependencies = self.definition.dependencies if self.definition else None
        extra = dependencies.extra_resources if dependencies else None
        return [(item.name, item.mount_path) for item in (extra and extra.config_maps) or []]

    @property
    def replicas(self) -> int | None:
        """Pods wanted; None for a DaemonSet, whose nodes decide."""
        if self.kind == DAEMONSET.kind:
            return None
        if isinstance(self.settings, CacheRuntimeReplicatedComponent):
            return self.settings.replicas
        # The client has no replicas field; a Deployment client runs one pod unless the
        # runtime carries one anyway (kept as an unmodelled field).
        extra = (self.settings.model_extra or {}).get("replicas")
        return int(extra) if isinstance(extra, int) else DEFAULT_REPLICAS

    @property
    def options(self) -> dict[str, str]:
        """Key by key, lowest first: the class's component options, the runtime's spec.options,
        the runtime's spec.<component>.options (upstream's order); sorted by key."""
        merged = dict((self.definition.options if self.definition else None) or {})
        merged.update(self.runtime_options)
        merged.update(self.settings.options or {})
        return dict(sorted(merged.items()))

    @property
    def pod_template(self) -> dict[str, Any]:
        """A private copy of the class's pod template."""
        template = self.definition.pod_template_spec if self.definition else {}
        return copy.deepcopy(template)

    @property
    def tiered_levels(self) -> list[Any]:
        store = self.settings.tiered_store
        return list(store.levels or []) if store is not None else []

    @property
    def memory_quota(self) -> int:
        """Bytes of the levels held in memory (emptyDir medium Memory, a tmpfs): the kubelet
        counts a tmpfs's pages against the container's memory, so they are added to its
        memory request and limit. Assumes quotas were validated (validation.py)."""
        return sum(
            parse_quantity(level.quota)
            for level in self.tiered_levels
            if level.quota is not None
            and level.medium.empty_dir is not None
            and level.medium.empty_dir.medium == MEMORY_MEDIUM
        )


@dataclass(frozen=True)
class SecretOption:
    """An encrypt option: the option name the cache system knows, and where its value is."""

    option: str
    secret: str
    key: str


@dataclass(frozen=True)
class Plan:
    """A CacheRuntime resolved against its class and Dataset."""

    name: str
    namespace: str
    class_name: str
    owner_reference: dict[str, Any]
    target_path: str
    info: RuntimeInfo
    """Names and labels upstream derives from the runtime, and the Dataset's placement."""
    dataset: DatasetSpec
    """The Dataset's spec: its node affinity and tolerations place the components."""
    access_modes: tuple[str, ...]
    mounts: tuple[dict[str, Any], ...]
    """Entries of the runtime config's `mounts`: mountPoint, options (shared ones overlaid by
    the mount's), name."""
    secret_options: tuple[SecretOption, ...]
    volumes: tuple[dict[str, Any], ...]
    """The runtime's spec.volumes, usable by the components' volumeMounts."""
    extra_config_maps: tuple[dict[str, Any], ...]
    """The class's extraResources.configMaps: {name, data}."""
    components: dict[Component, ComponentPlan] = field(default_factory=dict)

    @property
    def config_map(self) -> str:
        return config_map_name(self.name)

    @property
    def fuse_label(self) -> str:
        return self.info.fuse_label

    def component(self, component: Component) -> ComponentPlan:
        return self.components[component]

    def enabled(self) -> Iterator[ComponentPlan]:
        return (plan for plan in self.components.values() if plan.enabled)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Secrets the encryptOptions name, each once, in the order they first appear."""
        return tuple(dict.fromkeys(o.secret for o in self.secret_options if o.secret))

    @property
    def encrypt_option_files(self) -> dict[str, str]:
        """Option name -> file inside a component; a later option of the same name wins."""
        files = {
            option.option: secret_file(option.secret, option.key) for option in self.secret_options
        }
        return dict(sorted(files.items()))


def _settings(runtime: CacheRuntime, component: Component) -> CacheRuntimeComponent:
    settings = getattr(runtime.spec, component)
    if settings is not None:
        return settings  # type: ignore[no-any-return]
    if component == "client":
        return CacheRuntimeComponent()
    return CacheRuntimeReplicatedComponent()


def component_plan(
    name: str, runtime: CacheRuntime, runtime_class: CacheRuntimeClass, component: Component
) -> ComponentPlan:
    definition = getattr(runtime_class.topology, component)
    settings = _settings(runtime, component)
    return ComponentPlan(
        component=component,
        workload=workload_name(name, component),
        definition=definition,
        settings=settings,
        enabled=definition is not None and not settings.disabled,
        runtime_options=dict(runtime.spec.options or {}),
    )


def secret_options(dataset: Dataset) -> tuple[SecretOption, ...]:
    """The Dataset's shared encrypt options, then each mount's, in order."""
    found: list[SecretOption] = []
    groups = [dataset.spec.shared_encrypt_options or []]
    groups += [mount.encrypt_options or [] for mount in dataset.spec.mounts or []]
    for group in groups:
        for option in group:
            ref = option.value_from.secret_key_ref if option.value_from else None
            # An option without a reference is kept (empty) so validation can name it.
            found.append(
                SecretOption(option.name, ref.name if ref else "", (ref and ref.key) or "")
            )
    return tuple(found)


def mount_entries(dataset: Dataset) -> tuple[dict[str, Any], ...]:
    shared = dataset.spec.shared_options or {}
    entries = []
    for mount in dataset.spec.mounts or []:
        options = {**shared, **(mount.options or {})}
        entries.append(
            {
                "mountPoint": mount.mount_point,
                "options": dict(sorted(options.items())),
                "name": mount.name or "",
            }
        )
    return tuple(entries)


def make_plan(
    runtime: CacheRuntime,
    runtime_class: CacheRuntimeClass,
    dataset: Dataset,
    *,
    owner_reference: dict[str, Any],
    mount_root: str,
    info: RuntimeInfo,
) -> Plan:
    name = runtime.metadata.name or ""
    namespace = runtime.metadata.namespace or ""
    extra = runtime_class.extra_resources.config_maps if runtime_class.extra_resources else None
    return Plan(
        name=name,
        namespace=namespace,
        class_name=runtime.spec.runtime_class_name,
        owner_reference=owner_reference,
        target_path=target_path(mount_root, namespace, name),
        info=info,
        dataset=dataset.spec,
        access_modes=tuple(mode.value for mode in dataset.spec.access_modes or [])
        or DEFAULT_ACCESS_MODES,
        mounts=mount_entries(dataset),
        secret_options=secret_options(dataset),
        volumes=tuple(runtime.spec.volumes or []),
        extra_config_maps=tuple(
            {"name": item.name, "data": dict(item.data or {})} for item in extra or []
        ),
        components={
            component: component_plan(name, runtime, runtime_class, component)
            for component in COMPONENTS
        },
    )

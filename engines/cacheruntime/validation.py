"""What a CacheRuntime, its class and its Dataset must satisfy before anything is created.

Every check raises engines.base.ValidationError naming the field, what is wrong with it and how
to fix it; the RuntimeReconciler turns that into a condition and a Warning event and waits for
the spec to change. The CRDs reject much of this already (enums, CEL rules); the checks here are
the ones a CRD cannot express (a runtime against its class, derived name lengths) plus the
schema rules again, for objects stored under an older, looser CRD.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from fluidpy.api.v1alpha1 import (
    CacheRuntime,
    CacheRuntimeClass,
    CacheRuntimeReplicatedComponent,
    Dataset,
)
from fluidpy.api.v1alpha1.base import Resource
from fluidpy.engines.base import ValidationError
from fluidpy.engines.base.units import quantity_value
from fluidpy.engines.cacheruntime.naming import (
    COMPONENTS,
    DAEMONSET,
    STATEFULSET,
    STATEFULSET_NAME_LIMIT,
    WORKLOAD_KINDS,
    name_limit,
)
from fluidpy.engines.cacheruntime.plan import DEFAULT_REPLICAS, ComponentPlan, Plan

ModelT = TypeVar("ModelT", bound=Resource)

SUPPORTED_WORKLOADS = "apiVersion apps/v1 with kind StatefulSet, DaemonSet or Deployment"


def parse(model: type[ModelT], obj: dict[str, Any], what: str) -> ModelT:
    """The object as its model; a schema violation becomes a ValidationError on its field."""
    try:
        return model.model_validate(obj)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise ValidationError(
            f"{what} {location}".strip(),
            first["msg"],
            f"correct the field in {what}",
        ) from None


def check_class(class_name: str, raw: dict[str, Any]) -> None:
    """The class's topology: at least one component, each with a workload kind we can run, a
    headless Service only on a StatefulSet, and at least one container."""
    where = f"CacheRuntimeClass {class_name}"
    topology = raw.get("topology") or {}
    if not any(topology.get(component) for component in COMPONENTS):
        raise ValidationError(
            f"{where} topology",
            "defines no component",
            "define at least one of topology.master, topology.worker, topology.client",
        )
    for component in COMPONENTS:
        definition = topology.get(component)
        if definition:
            _check_definition(where, component, definition)


def _check_definition(where: str, component: str, definition: dict[str, Any]) -> None:
    workload = definition.get("workloadType") or {}
    api_version, kind = workload.get("apiVersion"), workload.get("kind")
    if api_version != "apps/v1" or kind not in WORKLOAD_KINDS:
        raise ValidationError(
            f"{where} topology.{component}.workloadType",
            f"{api_version or '<no apiVersion>'} {kind or '<no kind>'} is not a workload "
            "CacheRuntime can run",
            f"use {SUPPORTED_WORKLOADS}",
        )
    if "headless" in (definition.get("service") or {}) and kind != STATEFULSET.kind:
        raise ValidationError(
            f"{where} topology.{component}.service.headless",
            f"needs a StatefulSet, but the {component} is a {kind} (only StatefulSet pods have "
            "stable DNS names behind a headless Service)",
            "remove service.headless or set workloadType.kind to StatefulSet",
        )
    _check_pod_template(f"{where} topology.{component}.podTemplateSpec", definition)


def _json_type(value: Any) -> str:
    """A value's JSON type in words, for messages about a field of the wrong type."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "an object"


def _check_pod_template(field: str, definition: dict[str, Any]) -> None:
    """The template's shape, whose inside the CRD keeps unchecked (a whole PodTemplateSpec):
    spec an object, containers a non-empty list of objects, each with a name."""
    template = definition.get("podTemplateSpec")
    if not isinstance(template, dict):
        raise ValidationError(
            field, f"is {_json_type(template)}, not an object", "give the component a pod template"
        )
    spec = template.get("spec")
    if not isinstance(spec, dict):
        raise ValidationError(
            f"{field}.spec",
            f"is {_json_type(spec)}, not an object (a PodSpec)",
            "write the pod's spec as a mapping with containers, volumes, ...",
        )
    containers = spec.get("containers")
    if not isinstance(containers, list):
        raise ValidationError(
            f"{field}.spec.containers",
            f"is {_json_type(containers)}, not a list of containers",
            "write containers as a list, each item a container with a name and an image",
        )
    if not containers:
        raise ValidationError(
            f"{field}.spec.containers", "is empty", "give the component at least one container"
        )
    for index, container in enumerate(containers):
        if not isinstance(container, dict) or not isinstance(container.get("name"), str):
            raise ValidationError(
                f"{field}.spec.containers[{index}]",
                f"is {_json_type(container)} without a name, not a container",
                "give every container a name and an image",
            )


def check_runtime_against_class(runtime: CacheRuntime, runtime_class: CacheRuntimeClass) -> None:
    """The runtime configures only components its class defines."""
    defined = [c for c in COMPONENTS if getattr(runtime_class.topology, c) is not None]
    for component in COMPONENTS:
        settings = getattr(runtime.spec, component)
        if settings is None or settings.disabled or component in defined:
            continue
        raise ValidationError(
            f"spec.{component}",
            f"configures the {component}, but CacheRuntimeClass "
            f"{runtime.spec.runtime_class_name} defines no {component} (it defines "
            f"{', '.join(defined)})",
            f"remove spec.{component}, set spec.{component}.disabled: true, or use a class "
            f"with a {component}",
        )


def check_plan(plan: Plan) -> None:
    """Something to run; per enabled component: replicas, volume mounts, tiered store, derived
    names, and a FUSE client that can mount FUSE."""
    if not any(True for _ in plan.enabled()):
        raise ValidationError(
            "spec",
            "disables every component, so the runtime would run nothing",
            "enable at least one of spec.master, spec.worker, spec.client (remove disabled: true)",
        )
    _check_fuse_client(plan)
    for component in plan.components.values():
        _check_extra_config_maps(plan, component)
    for component in plan.enabled():
        _check_replicas(plan, component)
        _check_volume_mounts(plan, component)
        _check_tiered_store(component)
        _check_name_length(plan, component)
    if any(component.mounts_secrets for component in plan.enabled()):
        _check_secret_options(plan)


def _check_replicas(plan: Plan, component: ComponentPlan) -> None:
    settings = component.settings
    if component.kind != DAEMONSET.kind or not isinstance(
        settings, CacheRuntimeReplicatedComponent
    ):
        return
    # The CRD defaults replicas to 1 whenever the component block exists, so 1 cannot be told
    # apart from "not set"; any other value is a request the DaemonSet cannot honour.
    if "replicas" in settings.model_fields_set and settings.replicas != DEFAULT_REPLICAS:
        raise ValidationError(
            f"spec.{component.component}.replicas",
            f"is {settings.replicas}, but CacheRuntimeClass {plan.class_name} runs the "
            f"{component.component} as a DaemonSet, which runs one pod per eligible node",
            f"remove spec.{component.component}.replicas and choose the nodes with "
            f"spec.{component.component}.nodeSelector",
        )


def _check_volume_mounts(plan: Plan, component: ComponentPlan) -> None:
    template_spec = component.pod_template.get("spec") or {}
    known = {volume.get("name") for volume in plan.volumes}
    known |= {volume.get("name") for volume in template_spec.get("volumes") or []}
    for index, mount in enumerate(component.settings.volume_mounts or []):
        if mount.get("name") not in known:
            raise ValidationError(
                f"spec.{component.component}.volumeMounts[{index}].name",
                f"names volume {mount.get('name')!r}, which neither spec.volumes nor the "
                "class's pod template defines",
                "add the volume to spec.volumes or fix the name",
            )


def _check_fuse_client(plan: Plan) -> None:
    """A DaemonSet client is the FUSE client on the application's node: one of its containers
    must be privileged, or have CAP_SYS_ADMIN and /dev/fuse from the host, or every mount
    fails at run time, long after the runtime reported Ready."""
    client = plan.component("client")
    if not client.enabled or client.kind != DAEMONSET.kind:
        return
    spec = client.pod_template.get("spec") or {}
    fuse_volumes = {
        volume.get("name")
        for volume in spec.get("volumes") or []
        if isinstance(volume, dict) and (volume.get("hostPath") or {}).get("path") == "/dev/fuse"
    }
    for container in spec.get("containers") or []:
        security = container.get("securityContext") or {}
        if security.get("privileged") is True:
            return
        added = (security.get("capabilities") or {}).get("add") or []
        mounted = {mount.get("name") for mount in container.get("volumeMounts") or []}
        if "SYS_ADMIN" in added and fuse_volumes & mounted:
            return
    raise ValidationError(
        f"CacheRuntimeClass {plan.class_name} topology.client.podTemplateSpec.spec.containers",
        "no container of the FUSE client can mount FUSE: none is privileged, and none has "
        "capability SYS_ADMIN with /dev/fuse mounted from the host",
        "set securityContext.privileged: true on the FUSE container, or add capability "
        "SYS_ADMIN and a hostPath volume /dev/fuse mounted in it",
    )


def _check_tiered_store(component: ComponentPlan) -> None:
    for index, level in enumerate(component.tiered_levels):
        field = f"spec.{component.component}.tieredStore.levels[{index}]"
        if level.quota is not None and not _positive(level.quota):
            raise ValidationError(
                f"{field}.quota",
                f"{level.quota!r} is not a positive size",
                "write a size such as 2Gi or 500Mi, or remove quota for no limit",
            )
        media = [m for m in (level.medium.empty_dir, level.medium.host_path) if m is not None]
        if len(media) != 1:
            raise ValidationError(
                f"{field}.medium",
                f"sets {len(media)} media",
                "set exactly one of emptyDir or hostPath",
            )


def _positive(quantity: str | int) -> bool:
    try:
        return quantity_value(quantity) > 0
    except ValueError:
        return False


def _check_extra_config_maps(plan: Plan, component: ComponentPlan) -> None:
    """A component mounts only extra ConfigMaps its class declares (the engine creates those)."""
    declared = [item["name"] for item in plan.extra_config_maps]
    for index, (name, _) in enumerate(component.extra_config_map_mounts):
        if name in declared:
            continue
        where = f"topology.{component.component}.dependencies.extraResources.configMaps[{index}]"
        raise ValidationError(
            f"CacheRuntimeClass {plan.class_name} {where}.name",
            f"names config map {name!r}, which the class's extraResources.configMaps does not "
            f"declare (it declares {', '.join(map(repr, declared)) or 'none'})",
            f"add {name!r} to extraResources.configMaps of the class or fix the name",
        )


def _check_name_length(plan: Plan, component: ComponentPlan) -> None:
    limit = name_limit(component.kind)
    if len(component.workload) <= limit:
        return
    why = (
        " (its pods carry the label controller-revision-hash=<name>-<hash of up to 10 "
        "characters>, which must fit 63)"
        if limit == STATEFULSET_NAME_LIMIT
        else ""
    )
    longest = limit - len(component.component) - 1
    raise ValidationError(
        "metadata.name",
        f"{plan.name!r} makes the {component.kind} name {component.workload!r} "
        f"{len(component.workload)} characters long, over Kubernetes' limit of {limit} "
        f"characters for a {component.kind} name{why}",
        f"use a runtime (and Dataset) name of at most {longest} characters",
    )


def _check_secret_options(plan: Plan) -> None:
    for option in plan.secret_options:
        if not option.secret or not option.key:
            raise ValidationError(
                f"Dataset {plan.namespace}/{plan.name} encryptOptions {option.option!r}",
                "has no valueFrom.secretKeyRef name or key",
                "name the Secret and the key that holds the option's value",
            )


def check_dataset(dataset: dict[str, Any]) -> Dataset:
    metadata = dataset.get("metadata") or {}
    return parse(Dataset, dataset, f"Dataset {metadata.get('namespace')}/{metadata.get('name')}")

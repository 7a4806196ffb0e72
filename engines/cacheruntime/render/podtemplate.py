"""A component's pod template: the class's template plus what Fluid gives every component.

The class's template is kept whole (its labels, annotations, containers and volumes). On top of
it, with names prefixed `fluid-` so they cannot clash by accident:

| what | goes into |
|---|---|
| FLUID_* environment, then the runtime's env | every container and init container, first |
| the runtime config (read-only, /etc/fluid/config) | every container and init container |
| the class's extra ConfigMaps the component asks for (read-only) | container 0, init container 0 |
| encryptOptions Secrets (read-only, /etc/fluid/secrets/<secret>) | the same, when the class asks |
| tiered store levels, the runtime's volumeMounts | every container |
| the runtime's resources (overlaying the template's) | the first container, the main one |
| memory tiers' quotas, added to memory requests/limits set | the first container, after that |
| the FUSE mount directory (Bidirectional) | privileged containers of a DaemonSet client |
| the Dataset's tolerations; placement labels and affinity (render/placement.py) | pods; workers |

Lists keyed by name (env, volumes) or mount path (volumeMounts) keep one entry per key: the
position of its first appearance and the value of its last, so the runtime overrides the class
and Fluid's own entries stay where a script expects them. Kubernetes itself would use the last
of duplicate env entries; server-side apply refuses duplicates outright.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fluidpy.engines.base.units import format_quantity, parse_quantity
from fluidpy.engines.cacheruntime.naming import (
    CONFIG_DIR,
    CONFIG_PATH,
    CONFIG_VOLUME,
    DAEMONSET,
    FUSE_VOLUME,
    extra_volume_name,
    secret_mount_path,
    secret_volume_name,
    selector_labels,
    tiered_volume_name,
)
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan
from fluidpy.engines.cacheruntime.render.placement import place_pod_template

Entry = dict[str, Any]


def merge_by(entries: Iterable[Entry], key: str) -> list[Entry]:
    """One entry per `key` value: first position, last value."""
    merged: dict[Any, Entry] = {}
    for entry in entries:
        merged[entry.get(key)] = entry
    return list(merged.values())


def fluid_env(plan: Plan, component: ComponentPlan) -> list[Entry]:
    """The five variables every container starts with, in this order."""
    return [
        {"name": "FLUID_DATASET_NAME", "value": plan.name},
        {"name": "FLUID_DATASET_NAMESPACE", "value": plan.namespace},
        {"name": "FLUID_RUNTIME_CONFIG_PATH", "value": CONFIG_PATH},
        {"name": "FLUID_RUNTIME_MOUNT_PATH", "value": plan.target_path},
        {"name": "FLUID_RUNTIME_COMPONENT_TYPE", "value": component.component},
    ]


def config_volume(plan: Plan) -> tuple[Entry, Entry]:
    volume = {"name": CONFIG_VOLUME, "configMap": {"name": plan.config_map}}
    mount = {"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": True}
    return volume, mount


def secret_volumes(plan: Plan) -> list[tuple[Entry, Entry]]:
    pairs = []
    for secret in plan.secrets:
        name = secret_volume_name(secret)
        pairs.append(
            (
                {"name": name, "secret": {"secretName": secret}},
                {"name": name, "mountPath": secret_mount_path(secret), "readOnly": True},
            )
        )
    return pairs


def extra_config_map_volumes(plan: Plan, component: ComponentPlan) -> list[tuple[Entry, Entry]]:
    return [
        (
            {"name": extra_volume_name(plan.name, config_map), "configMap": {"name": config_map}},
            {
                "name": extra_volume_name(plan.name, config_map),
                "mountPath": mount_path,
                "readOnly": True,
            },
        )
        for config_map, mount_path in component.extra_config_map_mounts
    ]


def tiered_volumes(component: ComponentPlan) -> list[tuple[Entry, Entry]]:
    """One volume per level: an emptyDir (its medium, sizeLimit = quota) or a hostPath."""
    pairs = []
    for index, level in enumerate(component.tiered_levels):
        name = tiered_volume_name(index)
        volume: Entry = {"name": name}
        if level.medium.empty_dir is not None:
            empty_dir: Entry = {}
            if level.medium.empty_dir.medium:
                empty_dir["medium"] = level.medium.empty_dir.medium
            if level.quota is not None:
                empty_dir["sizeLimit"] = str(level.quota)
            volume["emptyDir"] = empty_dir
        else:
            host = level.medium.host_path
            host_path: Entry = {"path": host.path}
            if host.type:
                host_path["type"] = str(host.type.value)
            volume["hostPath"] = host_path
        pairs.append((volume, {"name": name, "mountPath": level.path}))
    return pairs


def fuse_volume(plan: Plan) -> tuple[Entry, Entry]:
    volume = {
        "name": FUSE_VOLUME,
        "hostPath": {"path": plan.target_path, "type": "DirectoryOrCreate"},
    }
    mount = {
        "name": FUSE_VOLUME,
        "mountPath": plan.target_path,
        "mountPropagation": "Bidirectional",
    }
    return volume, mount


def _privileged(container: Entry) -> bool:
    return bool((container.get("securityContext") or {}).get("privileged"))


def _overlay_resources(template: Entry | None, runtime: Entry) -> Entry:
    """The runtime's requests and limits win per resource name; other keys are replaced."""
    merged: Entry = dict(template or {})
    for key, value in runtime.items():
        if key in ("requests", "limits") and isinstance(value, dict):
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = value
    return merged


def _with_memory(resources: Entry | None, memory: int) -> Entry | None:
    """`memory` bytes added to the memory request and limit that are set and not zero: a tmpfs
    cache's pages count against the container's memory, and without room for them the kubelet
    OOM-kills a worker that fills its cache. A memory left unset stays unset (no limit), and
    one that is not a quantity is left for the API server to refuse, naming it."""
    if not resources or not memory:
        return resources
    added = dict(resources)
    for key in ("requests", "limits"):
        amounts = added.get(key)
        if not isinstance(amounts, dict):
            continue
        current = _bytes(amounts.get("memory"))
        if current:
            added[key] = {**amounts, "memory": format_quantity(current + memory)}
    return added


def _bytes(quantity: Any) -> int | None:
    try:
        return parse_quantity(quantity)
    except ValueError:
        return None


def render_pod_template(plan: Plan, component: ComponentPlan) -> dict[str, Any]:
    template = component.pod_template
    metadata = dict(template.get("metadata") or {})
    metadata["labels"] = {
        **(metadata.get("labels") or {}),
        **selector_labels(plan.name, component.component),
    }
    spec = dict(template.get("spec") or {})
    settings = component.settings

    shared_pairs = [config_volume(plan)]
    if component.mounts_secrets:
        shared_pairs += secret_volumes(plan)
    main_pairs = tiered_volumes(component)
    first_pairs = extra_config_map_volumes(plan, component)
    runtime_mounts = list(settings.volume_mounts or [])
    fuse = component.component == "client" and component.kind == DAEMONSET.kind
    env = fluid_env(plan, component)
    runtime_env = list(settings.env or [])

    def dress(container: Entry, *, regular: bool, first: bool) -> Entry:
        dressed = dict(container)
        dressed["env"] = merge_by([*env, *(container.get("env") or []), *runtime_env], "name")
        mounts = [*(container.get("volumeMounts") or []), *(m for _, m in shared_pairs)]
        if first:
            mounts += [m for _, m in first_pairs]
        if regular:
            mounts += [*runtime_mounts, *(m for _, m in main_pairs)]
            if fuse and _privileged(container):
                mounts.append(fuse_volume(plan)[1])
        dressed["volumeMounts"] = merge_by(mounts, "mountPath")
        if first and regular:
            resources = container.get("resources")
            if settings.resources:
                resources = _overlay_resources(resources, settings.resources)
            resources = _with_memory(resources, component.memory_quota)
            if resources is not None:
                dressed["resources"] = resources
        return dressed

    spec["containers"] = _each(
        spec.get("containers"), lambda c, i: dress(c, regular=True, first=i == 0)
    )
    if spec.get("initContainers"):
        spec["initContainers"] = _each(
            spec["initContainers"], lambda c, i: dress(c, regular=False, first=i == 0)
        )

    used = {mount.get("name") for mount in runtime_mounts}
    volumes = [
        *(spec.get("volumes") or []),
        *(volume for volume in plan.volumes if volume.get("name") in used),
        *(v for v, _ in shared_pairs),
        *(v for v, _ in first_pairs),
        *(v for v, _ in main_pairs),
    ]
    if fuse and any(_privileged(c) for c in spec["containers"]):
        volumes.append(fuse_volume(plan)[0])
    spec["volumes"] = merge_by(volumes, "name")

    node_selector = {**(spec.get("nodeSelector") or {}), **(settings.node_selector or {})}
    if fuse:
        # Fluid's CSI plugin labels a node when an application there mounts the Dataset, so
        # the FUSE client runs exactly where it is used.
        node_selector[plan.fuse_label] = "true"
    if node_selector:
        spec["nodeSelector"] = node_selector
    return place_pod_template(plan, component, {"metadata": metadata, "spec": spec})


def _each(containers: Any, dress: Callable[[Entry, int], Entry]) -> list[Entry]:
    return [dress(container, index) for index, container in enumerate(containers or [])]

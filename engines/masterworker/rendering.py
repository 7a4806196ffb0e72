"""Pieces of Kubernetes objects every master/worker/FUSE renderer needs.

All pure: plain dicts in, plain dicts out. The render hash lets an engine skip applying an
object whose rendering has not changed since it was last applied: server-side apply of an
unchanged object is harmless but still one request, and a busy manager reconciles often.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from fluidpy.api.v1alpha1.common import PodMetadata, User
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.runtime_info import RuntimeInfo, TieredStoreLevel
from fluidpy.engines.masterworker.layout import FUSE, MASTER, Layout
from fluidpy.engines.masterworker.ufs import (
    LOCAL_SCHEME,
    PVC_SCHEME,
    is_native,
    local_directory,
    mount_name,
)

RENDER_HASH_ANNOTATION = "fluid.io/render-hash"

Obj = dict[str, Any]


def with_render_hash(obj: Obj) -> Obj:
    """The object with an annotation that changes exactly when its rendering does."""
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
    annotations = {**(obj["metadata"].get("annotations") or {}), RENDER_HASH_ANNOTATION: digest}
    return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}}


def render_hash(obj: Mapping[str, Any] | None) -> str | None:
    if obj is None:
        return None
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(RENDER_HASH_ANNOTATION)
    return str(value) if value is not None else None


def metadata(layout: Layout, name: str, component: str, owner: Obj, **extra_labels: str) -> Obj:
    return {
        "name": name,
        "namespace": layout.namespace,
        "labels": {**layout.labels(component), **extra_labels},
        "ownerReferences": [owner],
    }


def pod_metadata(labels: Mapping[str, str], *overlays: PodMetadata | None) -> Obj:
    """Pod template metadata: user labels and annotations first, ours last (ours must win, the
    selectors depend on them)."""
    user_labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for overlay in overlays:
        if overlay is not None:
            user_labels.update(overlay.labels or {})
            annotations.update(overlay.annotations or {})
    result: Obj = {"labels": {**user_labels, **labels}}
    if annotations:
        result["annotations"] = annotations
    return result


def env_list(*sources: Mapping[str, str] | None) -> list[Obj]:
    """Environment variables from name -> value maps, later maps winning, sorted by name."""
    merged: dict[str, str] = {}
    for source in sources:
        merged.update(source or {})
    return [{"name": key, "value": value} for key, value in sorted(merged.items())]


def image_of(image: str | None, tag: str | None, default: str) -> str:
    """`image:tag` from a spec's image and tag, each falling back to the default's part."""
    default_image, _, default_tag = default.rpartition(":")
    return f"{image or default_image}:{tag or default_tag}"


def pull_secrets(*lists: Iterable[Any] | None) -> list[Obj]:
    names: dict[str, None] = {}
    for items in lists:
        for item in items or ():
            name = getattr(item, "name", None)
            if name:
                names[name] = None
    return [{"name": name} for name in names]


def security_context(run_as: User | None) -> Obj:
    if run_as is None:
        return {}
    return {"runAsUser": run_as.uid, "runAsGroup": run_as.gid}


def cache_directory(path: str, layout: Layout) -> str:
    """Where one runtime's cache lives under a tiered-store path: `<path>/<ns>/<name>`, so two
    runtimes sharing /dev/shm never share files."""
    return f"{path.rstrip('/')}/{layout.namespace}/{layout.name}"


def tiered_store_volumes(
    levels: Iterable[TieredStoreLevel], layout: Layout
) -> tuple[list[Obj], list[Obj]]:
    """Volumes and mounts for every cache directory: a host path, or an emptyDir whose size
    limit is the directory's quota (in memory for MEM levels)."""
    volumes: list[Obj] = []
    mounts: list[Obj] = []
    for index, level in enumerate(levels):
        for number, (path, quota) in enumerate(level.paths):
            name = f"cache-{index}-{number}"
            directory = cache_directory(path, layout)
            if level.volume_type == "emptyDir":
                source: Obj = {"sizeLimit": quota}
                if level.medium == "MEM":
                    source["medium"] = "Memory"
                volumes.append({"name": name, "emptyDir": source})
            else:
                volumes.append(
                    {"name": name, "hostPath": {"path": directory, "type": "DirectoryOrCreate"}}
                )
            mounts.append({"name": name, "mountPath": directory})
    return volumes, mounts


def native_ufs_volumes(spec: DatasetSpec) -> tuple[list[Obj], list[Obj]]:
    """Volumes for the Dataset's local:// and pvc:// mounts, at /underFSStorage/<name>."""
    volumes: list[Obj] = []
    mounts: list[Obj] = []
    for index, mount in enumerate(m for m in spec.mounts or [] if is_native(m)):
        name = f"ufs-{index}"
        target = mount.mount_point
        volume_mount: Obj = {"name": name, "mountPath": local_directory(mount)}
        if target.startswith(PVC_SCHEME):
            claim, _, sub_path = target[len(PVC_SCHEME) :].partition("/")
            volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim}})
            if sub_path:
                volume_mount["subPath"] = sub_path
        else:
            path = "/" + target[len(LOCAL_SCHEME) :].lstrip("/")
            volumes.append({"name": name, "hostPath": {"path": path, "type": "Directory"}})
        if mount.read_only:
            volume_mount["readOnly"] = True
        mounts.append(volume_mount)
    return volumes, mounts


def native_mount_names(spec: DatasetSpec) -> list[str]:
    return [mount_name(m) for m in spec.mounts or [] if is_native(m)]


def fuse_node_selector(info: RuntimeInfo, selector: Mapping[str, str] | None) -> dict[str, str]:
    """The spec's FUSE node selector, narrowed to the nodes where Fluid's CSI plugin labelled
    the node for this Dataset (an application there mounts it)."""
    return {**(selector or {}), info.fuse_label: "true"}


def master_service(layout: Layout, owner: Obj, ports: Mapping[str, int]) -> Obj:
    """The headless Service that gives master pods stable DNS names; not-ready pods are
    published too, so masters of an HA quorum find each other while starting."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(layout, layout.master_service, MASTER, owner),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": layout.selector(MASTER),
            "ports": [
                {"name": name, "port": port, "targetPort": port, "protocol": "TCP"}
                for name, port in ports.items()
            ],
        },
    }


def container_ports(ports: Mapping[str, int]) -> list[Obj]:
    return [
        {"name": name, "containerPort": port, "protocol": "TCP"} for name, port in ports.items()
    ]


def fuse_device_volume() -> tuple[Obj, Obj]:
    return (
        {"name": "fuse-device", "hostPath": {"path": "/dev/fuse", "type": "CharDevice"}},
        {"name": "fuse-device", "mountPath": "/dev/fuse"},
    )


def fuse_mount_volume(host_directory: str, mount_path: str) -> tuple[Obj, Obj]:
    """The host directory the FUSE client mounts into, shared back to the host (Bidirectional)
    so applications on the node see the mount."""
    return (
        {"name": "fuse-mount", "hostPath": {"path": host_directory, "type": "DirectoryOrCreate"}},
        {"name": "fuse-mount", "mountPath": mount_path, "mountPropagation": "Bidirectional"},
    )


def statefulset(layout: Layout, component: str, owner: Obj, replicas: int, template: Obj) -> Obj:
    """The master or worker StatefulSet. Pods start in parallel and are replaced only when
    deleted (OnDelete), as upstream's charts do: restarting a cache by surprise would drop
    what it holds."""
    name = layout.master if component == MASTER else layout.workers
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(layout, name, component, owner),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": layout.selector(component)},
            "template": template,
        },
    }


def fuse_daemonset(layout: Layout, owner: Obj, template: Obj) -> Obj:
    """FUSE pods update OnDelete: replacing one under a running application would break its
    mount, so a new FUSE version waits until the pod is deleted on purpose."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(layout, layout.fuse, FUSE, owner),
        "spec": {
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": layout.selector(FUSE)},
            "template": template,
        },
    }


def pod_ip_env(*names: str) -> list[Obj]:
    """Variables set to the pod's IP, which cache processes advertise themselves by."""
    return [
        {"name": name, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} for name in names
    ]


def rpc_readiness() -> Obj:
    """Ready once the process accepts connections on its `rpc` port: a master counts as ready
    (and the engine starts running its CLI) only when it can answer."""
    return {"tcpSocket": {"port": "rpc"}, "initialDelaySeconds": 5, "periodSeconds": 10}

"""The PersistentVolume and PersistentVolumeClaim through which applications mount a Dataset.

`render_*` are pure; `create_volume` and `delete_volume` apply them. Fluid's CSI node plugin
(driver `fuse.csi.fluid.io`) serves the PV: it reads the volume attributes to find the FUSE mount
on the node.
"""

from __future__ import annotations

from typing import Any

from fluidpy.client import GVK, AlreadyExists, Client, Conflict
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.errors import EngineError, WaitingFor
from fluidpy.engines.base.ownership import check_name_free, controlled_by, owner_labels
from fluidpy.engines.base.runtime_info import (
    CREATED_BY_ANNOTATION,
    CREATED_BY_FLUID,
    DATASET_ID_LABEL,
    RuntimeInfo,
)

PV = GVK("", "v1", "PersistentVolume")
PVC = GVK("", "v1", "PersistentVolumeClaim")
POD = GVK("", "v1", "Pod")
CSI_DRIVER = "fuse.csi.fluid.io"
STORAGE_CLASS = "fluid"
DEFAULT_CAPACITY = "100Pi"
"""A Dataset has no size of its own; upstream's default, overridable per Dataset."""
CAPACITY_ANNOTATION = "pvc.fluid.io/resources.requests.storage"
DEFAULT_ACCESS_MODES = ("ReadOnlyMany",)
VOLUME_CREATED = "VolumeCreated"
FUSE_GENERATION_LABEL = "fuse.runtime.fluid.io/generation"
"""On the PVC: the FUSE client DaemonSet's metadata.generation. Fluid's CSI plugin compares it
with a node's FUSE pod to tell whether that pod predates the DaemonSet's newest template."""


def _access_modes(dataset: dict[str, Any]) -> list[str]:
    return list((dataset.get("spec") or {}).get("accessModes") or DEFAULT_ACCESS_MODES)


def _capacity(dataset: dict[str, Any]) -> str:
    annotations = dataset.get("metadata", {}).get("annotations") or {}
    return str(annotations.get(CAPACITY_ANNOTATION) or DEFAULT_CAPACITY)


def render_persistent_volume(
    info: RuntimeInfo,
    dataset: dict[str, Any],
    *,
    fuse_path: str,
    mount_type: str,
    owner: dict[str, str],
) -> dict[str, Any]:
    """`owner`: ownership.owner_labels of the runtime, the only proof the PV is its own."""
    attributes = {
        "fluid_path": fuse_path,
        "mount_type": mount_type,
        "runtime_name": info.name,
        "runtime_namespace": info.namespace,
        "mount_pod_node_selector_key": info.fuse_label,
    }
    spec: dict[str, Any] = {
        "accessModes": _access_modes(dataset),
        "capacity": {"storage": _capacity(dataset)},
        "storageClassName": STORAGE_CLASS,
        "persistentVolumeReclaimPolicy": "Retain",
        "claimRef": {"namespace": info.namespace, "name": info.name},
        "csi": {
            "driver": CSI_DRIVER,
            "volumeHandle": info.persistent_volume_name,
            "volumeAttributes": attributes,
        },
    }
    if info.fuse_node_selector:
        spec["nodeAffinity"] = {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": key, "operator": "In", "values": [value]}
                            for key, value in sorted(info.fuse_node_selector.items())
                        ]
                    }
                ]
            }
        }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": info.persistent_volume_name,
            "labels": {**owner, info.common_label: "true", DATASET_ID_LABEL: info.dataset_id},
            "annotations": {CREATED_BY_ANNOTATION: CREATED_BY_FLUID},
        },
        "spec": spec,
    }


def render_persistent_volume_claim(
    info: RuntimeInfo,
    dataset: dict[str, Any],
    *,
    owner: dict[str, str],
    fuse_generation: int | None = None,
) -> dict[str, Any]:
    """No owner reference: the claim must outlive the runtime until its pods are gone (deletion
    waits for them); `owner` labels mark it as the runtime's instead. `fuse_generation`: the
    FUSE DaemonSet's generation, None (the default) when the runtime has no such DaemonSet."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": info.name,
            "namespace": info.namespace,
            "labels": {
                **owner,
                info.common_label: "true",
                DATASET_ID_LABEL: info.dataset_id,
                **_generation_label(fuse_generation),
            },
            "annotations": {CREATED_BY_ANNOTATION: CREATED_BY_FLUID},
        },
        "spec": {
            "accessModes": _access_modes(dataset),
            "resources": {"requests": {"storage": _capacity(dataset)}},
            "storageClassName": STORAGE_CLASS,
            "volumeName": info.persistent_volume_name,
        },
    }


def _generation_label(fuse_generation: int | None) -> dict[str, str]:
    return {} if fuse_generation is None else {FUSE_GENERATION_LABEL: str(fuse_generation)}


def create_volume(
    ctx: ReconcileRequestContext,
    info: RuntimeInfo,
    *,
    fuse_path: str,
    mount_type: str,
    fuse_generation: int | None = None,
) -> None:
    """Create the PV, then the PVC, unless they exist and are this runtime's; an object of the
    same name that is not is reported (NameConflict), never overwritten or adopted. The PVC's
    FUSE generation label follows `fuse_generation` (see render_persistent_volume_claim).

    Our PVC in the informer cache means both exist (the PV is created first), so a steady
    runtime costs no request here; otherwise each object is created outright and only read
    back when the API server says it already exists.
    """
    if ctx.dataset is None:
        raise EngineError("the Dataset disappeared before its volume could be created")
    owner = owner_labels(ctx.runtime)
    claim = ctx.client.get(PVC, info.name, info.namespace)
    pvc = render_persistent_volume_claim(
        info, ctx.dataset, owner=owner, fuse_generation=fuse_generation
    )
    if claim is not None:
        check_name_free(PVC, pvc, claim)
        _keep_generation_label(ctx, claim, fuse_generation)
        return
    pv = render_persistent_volume(
        info, ctx.dataset, fuse_path=fuse_path, mount_type=mount_type, owner=owner
    )
    _create_unless_ours(ctx, pv)
    if _create_unless_ours(ctx, pvc):
        message = (
            f"Created the volume: PersistentVolumeClaim {info.name} on PersistentVolume "
            f"{info.persistent_volume_name}."
        )
        ctx.log.info(message, reason=VOLUME_CREATED, on=ctx.runtime["kind"])
        ctx.event("Normal", VOLUME_CREATED, message)


def _keep_generation_label(
    ctx: ReconcileRequestContext, claim: dict[str, Any], fuse_generation: int | None
) -> None:
    """Move the claim's FUSE generation label to `fuse_generation` (None removes it)."""
    labels = claim["metadata"].get("labels") or {}
    wanted = None if fuse_generation is None else str(fuse_generation)
    if labels.get(FUSE_GENERATION_LABEL) == wanted:
        return
    metadata = claim["metadata"]
    ctx.client.patch(
        PVC,
        metadata["name"],
        metadata["namespace"],
        {"metadata": {"labels": {FUSE_GENERATION_LABEL: wanted}}},
        ctx=ctx.ctx,
    )


def _create_unless_ours(ctx: ReconcileRequestContext, obj: dict[str, Any]) -> bool:
    """True when this call created the object."""
    gvk = GVK.of_object(obj)
    metadata = obj["metadata"]
    try:
        ctx.client.create(obj, ctx=ctx.ctx)
    except AlreadyExists:
        name, namespace = metadata["name"], metadata.get("namespace")
        existing = ctx.client.live.get(gvk, name, namespace, ctx=ctx.ctx)
        if existing is None:
            raise Conflict(409, "Conflict", f"{gvk.kind} {name} went away while created") from None
        check_name_free(gvk, obj, existing)
        return False
    check_name_free(gvk, obj, None)
    return True


IN_USE_RECHECK = 20.0
"""Seconds between looks at a volume's users while they block a deletion (Fluid's 20 s): the
manager watches only its own workloads' pods, not the applications', so no event says when the
last user is gone."""


def pods_using_claim(client: Client, namespace: str, claim: str) -> list[str]:
    """Names of unfinished pods that mount the claim (they hold the volume in use). Read from
    the API server: application pods are not cached. Only a deletion asks."""
    users = []
    for pod in client.live.list(POD, namespace):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
                users.append(pod["metadata"]["name"])
                break
    return sorted(users)


class VolumeDeleting(WaitingFor):
    """The PVC is going; deletion resumes when it is gone (claims are watched)."""

    reason = "VolumeDeleting"
    warning = False


class VolumeInUse(WaitingFor):
    """The PVC is still mounted by pods; deletion resumes when they go (looked at again every
    IN_USE_RECHECK seconds)."""

    reason = "VolumeInUse"
    retry_after = IN_USE_RECHECK


def delete_volume(ctx: ReconcileRequestContext, info: RuntimeInfo) -> None:
    """Delete the PVC, then the PV, each only when it is this runtime's. Raises VolumeInUse,
    naming the pods, while pods use the PVC; the reconcile looks again until they are gone."""
    client = ctx.client
    pvc = client.live.get(PVC, info.name, info.namespace, ctx=ctx.ctx)
    if pvc is not None and controlled_by(pvc, ctx.runtime):
        users = pods_using_claim(client, info.namespace, info.name)
        if users:
            raise VolumeInUse(
                f"PersistentVolumeClaim {info.namespace}/{info.name} is used by pod(s) "
                f"{', '.join(users)}; delete them to finish deleting the runtime"
            )
        client.delete(PVC, info.name, info.namespace, ctx=ctx.ctx)
        if client.live.get(PVC, info.name, info.namespace, ctx=ctx.ctx) is not None:
            raise VolumeDeleting(
                f"PersistentVolumeClaim {info.namespace}/{info.name} is being deleted"
            )
    pv = client.live.get(PV, info.persistent_volume_name, ctx=ctx.ctx)
    if pv is not None and controlled_by(pv, ctx.runtime):
        client.delete(PV, info.persistent_volume_name, ctx=ctx.ctx)

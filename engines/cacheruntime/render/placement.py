"""Where a CacheRuntime's pods run and which nodes count as its cache nodes, as upstream Fluid.

The class's pod template decides first; Fluid's rules are added on top of it
(engines/base/placement.py): every component tolerates the Dataset's tolerations, and the
workers carry the placement labels and the anti-affinity of `Dataset.spec.placement`, prefer the
nodes where the FUSE client runs, and keep to the nodes both the template's and the Dataset's
required node affinity allow. The nodes the workers land on are then labelled as the Dataset's
cache nodes (engines/base/nodes.py), with the capacity of one worker's tiered store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from fluidpy.engines.base.nodes import scheduled_nodes
from fluidpy.engines.base.placement import (
    cache_affinity,
    dataset_tolerations,
    placement_labels,
    worker_affinity,
)
from fluidpy.engines.base.runtime_info import DISK_MEDIA, MEMORY, RuntimeInfo, TieredStoreLevel
from fluidpy.engines.base.units import parse_quantity
from fluidpy.engines.cacheruntime.naming import DEPLOYMENT
from fluidpy.engines.cacheruntime.plan import MEMORY_MEDIUM, ComponentPlan, Plan

Obj = dict[str, Any]
REPLICASET = "ReplicaSet"
DISK = DISK_MEDIA[0]
"""The medium a level not in memory is counted as: the node labels only tell memory from disk."""


def place_pod_template(plan: Plan, component: ComponentPlan, template: Obj) -> Obj:
    """`template` with the Dataset's tolerations and, for the workers, Fluid's placement."""
    metadata, spec = dict(template.get("metadata") or {}), dict(template.get("spec") or {})
    tolerations = dataset_tolerations(plan.dataset, spec.get("tolerations"))
    if tolerations:
        spec["tolerations"] = tolerations
    if component.component == "worker":
        metadata["labels"] = {**(metadata.get("labels") or {}), **placement_labels(plan.info)}
        spec["affinity"] = worker_affinity(plan.info, plan.dataset, spec.get("affinity"))
    return {**template, "metadata": metadata, "spec": spec}


def worker_cache_affinity(workload: Obj | None) -> Obj | None:
    """`status.cacheAffinity` from the worker workload as it stands (None while there is none)."""
    template = ((workload or {}).get("spec") or {}).get("template") or {}
    return cache_affinity(template.get("spec") or {}) if workload else None


def cache_node_info(plan: Plan) -> RuntimeInfo:
    """The runtime's labels with one worker's tiered store, for the capacity labels: levels in
    memory (a tmpfs, as memory_quota counts them) and the others, on disk. Assumes quotas were
    validated (validation.py)."""
    levels = []
    for level in plan.component("worker").tiered_levels:
        if level.quota is None:
            continue
        empty_dir = level.medium.empty_dir
        in_memory = empty_dir is not None and empty_dir.medium == MEMORY_MEDIUM
        medium = MEMORY if in_memory else DISK
        levels.append(TieredStoreLevel(medium, ((level.path, str(parse_quantity(level.quota))),)))
    return replace(plan.info, tiered_store=levels)


def worker_nodes(worker: ComponentPlan, pods: Iterable[Obj]) -> set[str]:
    """The nodes where the worker workload's pods run (pods it does not own are ignored, even
    when they carry its labels); none when the runtime runs no workers."""
    if not worker.enabled:
        return set()
    return scheduled_nodes(pod for pod in pods if _owned_by(pod, worker))


def _owned_by(pod: Obj, worker: ComponentPlan) -> bool:
    for reference in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if not reference.get("controller"):
            continue
        kind, name = reference.get("kind"), str(reference.get("name", ""))
        if kind == worker.kind and name == worker.workload:
            return True
        # A Deployment's pods belong to its ReplicaSets, `<deployment>-<hash>`.
        if worker.kind == DEPLOYMENT.kind and kind == REPLICASET:
            return name.rpartition("-")[0] == worker.workload
    return False

"""Status conventions shared by every engine: conditions, phases, and binding the Dataset.

All functions change status dicts in place (the working copies of a ReconcileRequestContext)
and never talk to the API server; the RuntimeReconciler writes what changed once per pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fluidpy.engines.base.context import ReconcileRequestContext

NOT_READY = "NotReady"
PARTIAL_READY = "PartialReady"
READY = "Ready"

DATASET_BOUND = "Bound"
DATASET_NOT_BOUND = "NotBound"
DATASET_FAILED = "Failed"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    status: dict[str, Any],
    type_: str,
    condition_status: bool,
    reason: str,
    message: str,
    *,
    probe_field: str | None = "lastProbeTime",
) -> bool:
    """Insert or replace the condition of `type_`; True when anything a person sees changed.

    lastTransitionTime moves only when the status flips, so `kubectl describe` shows how long a
    state has lasted; an unchanged condition is left alone entirely (no write, no churn).
    """
    conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
    wanted = "True" if condition_status else "False"
    for index, existing in enumerate(conditions):
        if existing.get("type") != type_:
            continue
        if (existing.get("status"), existing.get("reason"), existing.get("message")) == (
            wanted,
            reason,
            message,
        ):
            return False
        stamp = now()
        replacement = {**existing, "status": wanted, "reason": reason, "message": message}
        if existing.get("status") != wanted:
            replacement["lastTransitionTime"] = stamp
        if probe_field:
            replacement[probe_field] = stamp
        conditions[index] = replacement
        return True
    stamp = now()
    condition = {
        "type": type_,
        "status": wanted,
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp,
    }
    if probe_field:
        condition[probe_field] = stamp
    conditions.append(condition)
    return True


def remove_condition(status: dict[str, Any], type_: str) -> bool:
    conditions = status.get("conditions") or []
    kept = [c for c in conditions if c.get("type") != type_]
    if len(kept) == len(conditions):
        return False
    status["conditions"] = kept
    return True


def condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for existing in status.get("conditions") or []:
        if existing.get("type") == type_:
            return dict(existing)
    return None


def phase_of(desired: int, ready: int) -> str:
    """NotReady, PartialReady or Ready from replica counts; zero wanted is Ready."""
    if desired == 0 or (ready > 0 and ready >= desired):
        return READY
    if ready > 0:
        return PARTIAL_READY
    return NOT_READY


def workload_counts(workload: dict[str, Any] | None) -> tuple[int, int]:
    """(desired, ready) pods of a StatefulSet, Deployment or DaemonSet; (0, 0) when absent."""
    if workload is None:
        return 0, 0
    status = workload.get("status") or {}
    if workload.get("kind") == "DaemonSet":
        return int(status.get("desiredNumberScheduled") or 0), int(status.get("numberReady") or 0)
    replicas = (workload.get("spec") or {}).get("replicas")
    return int(1 if replicas is None else replicas), int(status.get("readyReplicas") or 0)


def runtime_entry(ctx: ReconcileRequestContext, runtime_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": ctx.name,
        "namespace": ctx.namespace,
        "category": ctx.category,
        "type": runtime_type,
    }
    master_replicas = (ctx.spec.get("master") or {}).get("replicas")
    if master_replicas is not None:
        entry["masterReplicas"] = master_replicas
    return entry


def bind_dataset(ctx: ReconcileRequestContext, runtime_type: str) -> None:
    """Mark the Dataset Bound to this runtime: phase, runtimes[], mounts and the Ready condition."""
    status = ctx.dataset_status
    if status is None:
        return
    status["phase"] = DATASET_BOUND
    entry = runtime_entry(ctx, runtime_type)
    others = [r for r in status.get("runtimes") or [] if r.get("category") != ctx.category]
    status["runtimes"] = [*others, entry]
    # The mounts the cache serves: set when first bound; afterwards only the engine's UFS update
    # changes them, so the difference from spec.mounts tells it what to mount or unmount.
    status.setdefault("mounts", list(ctx.dataset_spec.get("mounts") or []))
    set_condition(
        status,
        "Ready",
        True,
        "DatasetReady",
        f"The {runtime_type} runtime {ctx.name} is ready and bound to the dataset.",
        probe_field="lastUpdateTime",
    )
    remove_condition(status, "NotReady")


def set_dataset_phase(ctx: ReconcileRequestContext, phase: str, runtime_type: str) -> None:
    """UpdateDatasetStatus: Bound binds; Failed and other phases set the phase and say why."""
    if phase == DATASET_BOUND:
        bind_dataset(ctx, runtime_type)
        return
    status = ctx.dataset_status
    if status is None:
        return
    status["phase"] = phase
    if phase == DATASET_FAILED:
        set_condition(
            status,
            "Ready",
            False,
            "DatasetFailed",
            f"The {runtime_type} runtime {ctx.name} is not healthy.",
            probe_field="lastUpdateTime",
        )


def bound_to_other_runtime(
    dataset: dict[str, Any], name: str, namespace: str, category: str, runtime_type: str
) -> dict[str, Any] | None:
    """The runtime entry that keeps this runtime from binding, or None when it may bind.

    An entry is this runtime's only when its type matches too: an AlluxioRuntime and a
    CacheRuntime may share a name, and the second must not take the first one's Dataset."""
    for entry in (dataset.get("status") or {}).get("runtimes") or []:
        if entry.get("category") != category:
            continue
        if (
            entry.get("name") == name
            and entry.get("namespace", namespace) == namespace
            and entry.get("type", runtime_type) == runtime_type
        ):
            return None
        return dict(entry)
    return None


def reset_dataset_status(status: dict[str, Any]) -> None:
    """What a Dataset looks like again once its runtime is gone."""
    status["phase"] = DATASET_NOT_BOUND
    status["runtimes"] = []
    status["conditions"] = []
    status["cacheStates"] = {}
    status["ufsTotal"] = ""
    status["fileNum"] = ""
    status.pop("hcfs", None)

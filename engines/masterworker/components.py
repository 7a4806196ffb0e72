"""Runtime status from the master, worker and FUSE workloads, as upstream Fluid reports it.

Pure functions of a workload (or None while it does not exist) and the runtime status working
copy. The readiness rules are upstream's: the master is ready when every master replica is
ready; the workers when at least one is, or when none are wanted; FUSE pods start lazily on the
nodes where applications mount the Dataset, so FUSE is always Ready and never gates readiness.

Condition messages never carry counts (the count fields do): a condition changes only when
readiness does, so a pod starting is not a condition write.
"""

from __future__ import annotations

from typing import Any

from fluidpy.api.v1alpha1.common import RuntimeConditionType
from fluidpy.engines.base.status import NOT_READY, PARTIAL_READY, READY, phase_of, set_condition

MASTER_INITIALIZED = RuntimeConditionType.MASTER_INITIALIZED
MASTER_READY = RuntimeConditionType.MASTER_READY
WORKERS_INITIALIZED = RuntimeConditionType.WORKERS_INITIALIZED
WORKERS_READY = RuntimeConditionType.WORKERS_READY
WORKERS_SCALED_IN = RuntimeConditionType.WORKERS_SCALED_IN
WORKERS_SCALED_OUT = RuntimeConditionType.WORKERS_SCALED_OUT
FUSES_READY = RuntimeConditionType.FUSES_READY


def _counts(workload: dict[str, Any] | None) -> tuple[int, int, int, int]:
    """(desired, current, ready, available) replicas of a StatefulSet; zeros when absent."""
    if workload is None:
        return 0, 0, 0, 0
    status = workload.get("status") or {}
    replicas = (workload.get("spec") or {}).get("replicas")
    return (
        int(1 if replicas is None else replicas),
        int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0),
        int(status.get("availableReplicas") or 0),
    )


def initialize_master(status: dict[str, Any]) -> None:
    status["masterPhase"] = NOT_READY
    set_condition(
        status, MASTER_INITIALIZED, True, "Master is initialized", "The master is set up."
    )


def initialize_workers(status: dict[str, Any]) -> None:
    status["workerPhase"] = NOT_READY
    set_condition(
        status, WORKERS_INITIALIZED, True, "Workers are initialized", "The workers are set up."
    )


def sync_master_status(status: dict[str, Any], master: dict[str, Any] | None) -> bool:
    """Copy the master StatefulSet's counts into the status; True when all masters are ready."""
    desired, current, ready, _ = _counts(master)
    status["desiredMasterNumberScheduled"] = desired
    status["currentMasterNumberScheduled"] = current
    status["masterNumberReady"] = ready
    all_ready = master is not None and ready >= desired
    phase = READY if all_ready else (PARTIAL_READY if ready > 0 else NOT_READY)
    status["masterPhase"] = phase
    if all_ready:
        set_condition(status, MASTER_READY, True, "Master is ready", "The master is ready.")
    else:
        message = (
            "The master StatefulSet does not exist yet."
            if master is None
            else "Not every master replica is ready."
        )
        set_condition(status, MASTER_READY, False, "Master is not ready", message)
    return all_ready


def sync_worker_status(status: dict[str, Any], workers: dict[str, Any] | None) -> bool:
    """Copy the worker StatefulSet's counts into the status; True when at least one worker is
    ready, or none are wanted."""
    desired, current, ready, available = _counts(workers)
    status["desiredWorkerNumberScheduled"] = desired
    status["currentWorkerNumberScheduled"] = current
    status["workerNumberReady"] = ready
    status["workerNumberAvailable"] = available
    status["workerNumberUnavailable"] = max(current - available, 0)
    if workers is None:
        status["workerPhase"] = NOT_READY
        set_condition(
            status,
            WORKERS_READY,
            False,
            "Workers are not ready",
            "The worker StatefulSet does not exist yet.",
        )
        return False
    phase = phase_of(desired, ready)
    status["workerPhase"] = phase
    if phase == NOT_READY:
        message = "No worker replica is ready."
        set_condition(status, WORKERS_READY, False, "Workers are not ready", message)
        return False
    set_condition(status, WORKERS_READY, True, "Workers are ready", "The workers are ready.")
    return True


def sync_fuse_status(status: dict[str, Any], fuse: dict[str, Any] | None) -> None:
    """Copy the FUSE DaemonSet's counts; the phase is Ready whatever they are."""
    counts = (fuse or {}).get("status") or {}
    status["desiredFuseNumberScheduled"] = int(counts.get("desiredNumberScheduled") or 0)
    status["currentFuseNumberScheduled"] = int(counts.get("currentNumberScheduled") or 0)
    status["fuseNumberReady"] = int(counts.get("numberReady") or 0)
    status["fuseNumberAvailable"] = int(counts.get("numberAvailable") or 0)
    status["fuseNumberUnavailable"] = int(counts.get("numberUnavailable") or 0)
    status["fusePhase"] = READY
    status["fuseReason"] = "Fuses are ready"
    set_condition(
        status,
        FUSES_READY,
        True,
        "Fuses are ready",
        "FUSE pods start on the nodes where applications mount the dataset.",
    )


def record_scaling(status: dict[str, Any], current: int, wanted: int) -> str | None:
    """The WorkersScaledIn/Out condition for a replica change; returns its message (or None
    when nothing changes)."""
    if current == wanted:
        return None
    scaled_out = wanted > current
    message = (
        f"Workers scaled {'out' if scaled_out else 'in'} from {current} replicas to "
        f"{wanted} replicas."
    )
    type_ = WORKERS_SCALED_OUT if scaled_out else WORKERS_SCALED_IN
    reason = "Workers scaled out" if scaled_out else "Workers scaled in"
    set_condition(status, type_, True, reason, message)
    return message

"""Runtime status from the workloads, with upstream's readiness rules."""

from __future__ import annotations

from typing import Any

from fluidpy.engines.base.status import condition
from fluidpy.engines.masterworker.components import (
    record_scaling,
    sync_fuse_status,
    sync_master_status,
    sync_worker_status,
)


def statefulset(replicas: int, ready: int, current: int | None = None) -> dict[str, Any]:
    return {
        "kind": "StatefulSet",
        "spec": {"replicas": replicas},
        "status": {
            "replicas": replicas if current is None else current,
            "readyReplicas": ready,
            "availableReplicas": ready,
        },
    }


def test_the_master_is_ready_only_when_every_replica_is() -> None:
    status: dict[str, Any] = {}

    assert sync_master_status(status, statefulset(3, 2)) is False
    assert status["masterPhase"] == "PartialReady"
    assert (condition(status, "MasterReady") or {})["status"] == "False"

    assert sync_master_status(status, statefulset(3, 3)) is True
    assert status["masterPhase"] == "Ready"
    assert (status["desiredMasterNumberScheduled"], status["masterNumberReady"]) == (3, 3)


def test_a_missing_master_is_not_ready_and_says_so() -> None:
    status: dict[str, Any] = {}

    assert sync_master_status(status, None) is False
    assert "does not exist" in (condition(status, "MasterReady") or {})["message"]


def test_workers_are_ready_as_soon_as_one_is() -> None:
    status: dict[str, Any] = {}

    assert sync_worker_status(status, statefulset(3, 0)) is False
    assert status["workerPhase"] == "NotReady"
    assert sync_worker_status(status, statefulset(3, 1)) is True
    assert status["workerPhase"] == "PartialReady"
    assert status["workerNumberUnavailable"] == 2


def test_zero_wanted_workers_are_ready() -> None:
    status: dict[str, Any] = {}

    assert sync_worker_status(status, statefulset(0, 0)) is True
    assert status["workerPhase"] == "Ready"


def test_fuse_is_ready_with_no_pods_at_all() -> None:
    status: dict[str, Any] = {}

    sync_fuse_status(status, None)

    assert status["fusePhase"] == "Ready"
    assert status["desiredFuseNumberScheduled"] == 0
    assert (condition(status, "FusesReady") or {})["status"] == "True"


def test_scaling_records_a_condition_with_upstreams_wording() -> None:
    status: dict[str, Any] = {}

    assert record_scaling(status, 1, 1) is None
    message = record_scaling(status, 1, 3)

    assert message == "Workers scaled out from 1 replicas to 3 replicas."
    assert (condition(status, "WorkersScaledOut") or {})["message"] == message

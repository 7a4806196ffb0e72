"""Milestones are read from status changes, the same for every engine's status shape."""

from __future__ import annotations

from typing import Any

from fluidpy.controllers.progress import (
    components,
    dataset_milestones,
    runtime_milestones,
    waiting_for,
)


def ready(status: str, reason: str, message: str = "m") -> dict[str, Any]:
    return {"type": "Ready", "status": status, "reason": reason, "message": message}


def cache_runtime(phase: str, desired: int, ready_pods: int, **extra: Any) -> dict[str, Any]:
    return {
        "worker": {"phase": phase, "desiredReplicas": desired, "readyReplicas": ready_pods},
        **extra,
    }


def reasons(found: list[Any]) -> list[str]:
    return [m.reason for m in found]


def test_setup_started_is_told_once_when_the_ready_reason_becomes_setting_up() -> None:
    before = {"conditions": [ready("False", "DatasetNotFound")]}
    after = {"conditions": [ready("False", "SettingUp")]}
    assert reasons(runtime_milestones("CacheRuntime", "demo", before, after)) == ["SetupStarted"]
    assert runtime_milestones("CacheRuntime", "demo", after, after) == []


def test_a_component_is_ready_once_its_phase_turns_ready_with_pods_wanted() -> None:
    before = cache_runtime("NotReady", 2, 0)
    after = cache_runtime("Ready", 2, 2)
    [milestone] = runtime_milestones("CacheRuntime", "demo", before, after)
    assert milestone.reason == "ComponentReady"
    assert milestone.message == "The worker is ready (2/2 pods)."
    nothing_wanted = {"client": {"phase": "Ready", "desiredReplicas": 0, "readyReplicas": 0}}
    assert runtime_milestones("CacheRuntime", "demo", {}, nothing_wanted) == []


def test_a_change_of_wanted_replicas_is_upstreams_succeed_scaling_event() -> None:
    [milestone] = runtime_milestones(
        "CacheRuntime", "demo", cache_runtime("Ready", 2, 2), cache_runtime("Ready", 4, 2)
    )
    assert (milestone.reason, milestone.on_dataset) == ("Succeed", False)
    assert milestone.message == "Runtime scaled out: worker from 2 to 4 replicas."


def test_master_worker_status_shows_components_but_leaves_scaling_to_the_engine() -> None:
    before = {"masterPhase": "Ready", "workerPhase": "Ready", "desiredWorkerNumberScheduled": 1}
    after = {**before, "desiredWorkerNumberScheduled": 3, "workerNumberReady": 1}
    assert [(v.name, v.counts) for v in components(after)] == [("master", "-"), ("worker", "1/3")]
    assert runtime_milestones("AlluxioRuntime", "demo", before, after) == []


def test_the_runtime_is_ready_when_its_ready_condition_turns_true() -> None:
    before = {"conditions": [ready("False", "SettingUp")]}
    after = {"conditions": [ready("True", "Ready", "The runtime is ready.")]}
    [milestone] = runtime_milestones("CacheRuntime", "demo", before, after)
    assert (milestone.reason, milestone.message) == ("RuntimeReady", "The runtime is ready.")


def test_the_dataset_is_told_when_it_is_bound_and_when_it_is_unbound() -> None:
    [bound] = dataset_milestones("CacheRuntime", "demo", {"phase": "NotBound"}, {"phase": "Bound"})
    assert (bound.reason, bound.on_dataset) == ("DatasetReady", True)
    assert "PersistentVolumeClaim demo" in bound.message
    [unbound] = dataset_milestones(
        "CacheRuntime", "demo", {"phase": "Bound"}, {"phase": "NotBound"}
    )
    assert unbound.reason == "DatasetUnbound"
    assert dataset_milestones("CacheRuntime", "demo", {"phase": "Bound"}, {"phase": "Bound"}) == []
    failed = dataset_milestones("CacheRuntime", "demo", {"phase": "Bound"}, {"phase": "Failed"})
    assert failed == []  # the runtime's Warning says why; binding again is told as DatasetReady


def test_waiting_for_is_the_ready_conditions_reason_until_ready() -> None:
    assert waiting_for({}) == "not reconciled yet"
    assert waiting_for({"conditions": [ready("False", "SettingUp", "being set up")]}) == (
        "SettingUp: being set up"
    )
    assert waiting_for({"conditions": [ready("True", "Ready")]}) == ""

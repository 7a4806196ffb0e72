"""Component phases and counts, and the gates: master all ready, workers at least one."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.cacheruntime.render.status import (
    ComponentState,
    component_state,
    master_ready,
    runtime_phase,
    unschedulable,
    workers_ready,
)


def statefulset(
    replicas: int, ready: int, *, observed: bool = True, updated: int | None = None
) -> dict[str, Any]:
    """A StatefulSet whose rollout is complete unless `updated` or `observed` say otherwise."""
    return {
        "kind": "StatefulSet",
        "metadata": {"generation": 3},
        "spec": {"replicas": replicas},
        "status": {
            "readyReplicas": ready,
            "updatedReplicas": replicas if updated is None else updated,
            "observedGeneration": 3 if observed else 2,
        },
    }


def daemonset(desired: int, ready: int) -> dict[str, Any]:
    return {
        "kind": "DaemonSet",
        "metadata": {"generation": 1},
        "status": {
            "desiredNumberScheduled": desired,
            "numberReady": ready,
            "updatedNumberScheduled": desired,
            "observedGeneration": 1,
        },
    }


@pytest.mark.parametrize(
    ("replicas", "ready", "phase"),
    [(2, 0, "NotReady"), (2, 1, "PartialReady"), (2, 2, "Ready"), (0, 0, "Ready")],
)
def test_a_workloads_phase_follows_its_ready_pods(replicas: int, ready: int, phase: str) -> None:
    assert component_state(statefulset(replicas, ready), replicas) == ComponentState(
        phase, replicas, ready
    )


def pod(owner_uid: str, *, ready: bool, leaving: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": f"p-{owner_uid}",
        "ownerReferences": [{"uid": owner_uid, "controller": True}],
    }
    if leaving:
        metadata["deletionTimestamp"] = "2026-12-05T00:00:00Z"
    return {
        "metadata": metadata,
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def owned(workload: dict[str, Any], uid: str = "sts") -> dict[str, Any]:
    workload["metadata"]["uid"] = uid
    return workload


def test_pods_the_kubelet_reports_ready_count_before_the_workloads_status_does() -> None:
    """Binding waits on the master and workers; their StatefulSets' status lags the pods."""
    pods = [pod("sts", ready=True), pod("sts", ready=True)]

    assert component_state(owned(statefulset(2, 0)), 2, pods=pods).phase == "Ready"
    assert component_state(owned(statefulset(2, 0)), 2).phase == "NotReady"


def test_only_ready_pods_of_this_workload_that_are_staying_count() -> None:
    pods = [
        pod("sts", ready=False),
        pod("old-sts", ready=True),
        pod("sts", ready=True, leaving=True),
    ]

    assert component_state(owned(statefulset(2, 0)), 2, pods=pods).ready == 0


def test_a_workload_without_a_uid_owns_no_pod() -> None:
    unowned = {
        **pod("sts", ready=True),
        "metadata": {"name": "p", "ownerReferences": [{"controller": True}]},
    }

    assert component_state(statefulset(2, 0), 2, pods=[unowned]).ready == 0


def test_a_pod_that_stops_being_ready_counts_once_the_status_says_so() -> None:
    pods = [pod("sts", ready=True), pod("sts", ready=False)]

    assert component_state(owned(statefulset(2, 2)), 2, pods=pods).ready == 2
    assert component_state(owned(statefulset(2, 1)), 2, pods=pods).ready == 1


def test_a_daemonsets_counts_are_its_status_whatever_its_pods_say() -> None:
    state = component_state(owned(daemonset(1, 0), "ds"), None, pods=[pod("ds", ready=True)])

    assert (state.desired, state.ready) == (1, 0)


def test_a_missing_workload_is_not_ready_whatever_is_wanted() -> None:
    assert component_state(None, 2) == ComponentState("NotReady", 2, 0)
    assert component_state(None, None) == ComponentState("NotReady", 0, 0)


def test_a_workload_its_controller_has_not_seen_since_the_change_is_updating_not_unready() -> None:
    state = component_state(statefulset(2, 2, observed=False), 2)

    assert (state.phase, state.updating) == ("Ready", True)
    assert state.as_status()["message"] == "updated 0/2"


def test_a_new_workload_is_being_created_not_updated() -> None:
    """At its first spec nothing is replaced; its phase says how far it is, and no reason comes
    and goes (each would cost a status write) when its controller first looks at it."""
    new = statefulset(2, 0, observed=False)
    new["metadata"]["generation"] = 1
    del new["status"]

    assert component_state(new, 2) == ComponentState("NotReady", 2, 0)


def test_a_rolling_workload_keeps_the_readiness_of_the_pods_ready_now() -> None:
    state = component_state(statefulset(2, 1, updated=1), 2)

    assert state == ComponentState("PartialReady", 2, 1, updated=1)
    assert workers_ready(state)
    assert state.as_status() == {
        "phase": "PartialReady",
        "desiredReplicas": 2,
        "readyReplicas": 1,
        "reason": "Updating",
        "message": "updated 1/2",
    }


def test_a_daemonset_counts_its_scheduled_and_ready_pods() -> None:
    assert component_state(daemonset(3, 1), None) == ComponentState("PartialReady", 3, 1)


@pytest.mark.parametrize(
    ("desired", "ready", "phase"),
    [(0, 0, "NotReady"), (3, 0, "NotReady"), (3, 1, "PartialReady"), (3, 3, "Ready")],
)
def test_a_client_is_ready_only_with_pods_wanted_and_ready(
    desired: int, ready: int, phase: str
) -> None:
    state = component_state(daemonset(desired, ready), None, client=True)

    assert state == ComponentState(phase, desired, ready)


def test_the_status_block_shows_phase_desired_and_ready() -> None:
    assert ComponentState("Ready", 2, 2).as_status() == {
        "phase": "Ready",
        "desiredReplicas": 2,
        "readyReplicas": 2,
    }


def test_the_master_gate_needs_every_replica_the_worker_gate_one() -> None:
    partial = ComponentState("PartialReady", 2, 1)

    assert not master_ready(partial)
    assert workers_ready(partial)
    assert not workers_ready(ComponentState("NotReady", 2, 0))


def test_a_missing_component_never_closes_a_gate() -> None:
    assert master_ready(None)
    assert workers_ready(None)
    assert runtime_phase(None, None) == "Ready"


@pytest.mark.parametrize(
    ("master", "workers", "phase"),
    [
        (ComponentState("Ready", 1, 1), ComponentState("Ready", 2, 2), "Ready"),
        (ComponentState("Ready", 1, 1), ComponentState("PartialReady", 2, 1), "PartialReady"),
        (ComponentState("PartialReady", 2, 1), ComponentState("Ready", 2, 2), "NotReady"),
        (ComponentState("Ready", 1, 1), ComponentState("NotReady", 2, 0), "NotReady"),
    ],
)
def test_the_runtime_phase(master: ComponentState, workers: ComponentState, phase: str) -> None:
    assert runtime_phase(master, workers) == phase


def test_pods_the_scheduler_cannot_place_are_named_with_its_reason() -> None:
    stuck = {
        "metadata": {"name": "demo-worker-0"},
        "status": {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node "
                    "affinity/selector.",
                }
            ]
        },
    }
    placed = {
        "metadata": {"name": "demo-worker-1"},
        "status": {"conditions": [{"type": "PodScheduled", "status": "True"}]},
    }

    assert unschedulable([placed, stuck]) == (
        "; pod demo-worker-0 cannot be scheduled: 0/3 nodes are available: 3 node(s) didn't "
        "match Pod's node affinity/selector."
    )
    assert unschedulable([placed]) == ""

"""Limits against floods: a runtime cannot make the cluster create pods without bound, and pods
the scheduler cannot place are named, with the scheduler's reason, in the component's condition."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.cacheruntime.naming import POD, RUNTIME_GVK, STATEFULSET

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"


def test_a_million_and_one_workers_are_refused_and_no_pod_is_made(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    objects["CacheRuntime"]["spec"]["worker"]["replicas"] = 1_000_001
    kube.create(*objects.values())

    condition = kube.wait_condition(NAME, "ReplicasOverLimit")

    assert condition["message"] == (
        "spec.worker.replicas: 1000001 replicas is more than this manager allows (1000); lower "
        "it, or start the manager with a larger --max-component-replicas; nothing is created "
        "until then"
    )
    assert kube.wait_event(NAME, "ReplicasOverLimit")["type"] == "Warning"
    assert kube.get(STATEFULSET, f"{NAME}-worker") is None
    assert kube.get(STATEFULSET, f"{NAME}-master") is None
    assert kube.client.list(POD, kube.namespace) == []

    kube.patch(RUNTIME_GVK, NAME, {"spec": {"worker": {"replicas": 2}}})

    kube.wait_bound(NAME)


def test_workers_no_node_can_take_are_named_with_the_schedulers_reason(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    objects["CacheRuntime"]["spec"]["worker"]["nodeSelector"] = {"example.com/pool": "none"}
    kube.create(*objects.values())

    def workers_condition() -> dict[str, Any] | None:
        runtime = kube.get(RUNTIME_GVK, NAME) or {}
        for condition in (runtime.get("status") or {}).get("conditions") or []:
            if (
                condition["type"] == "WorkersReady"
                and "cannot be scheduled" in condition["message"]
            ):
                return dict(condition)
        return None

    condition = kube.eventually(workers_condition, "the workers' condition naming stuck pods")

    assert condition["status"] == "False"
    assert condition["message"].startswith(
        f"0 of 2 worker pods are ready; pod {NAME}-worker-0 cannot be scheduled: 0/"
    )
    assert "node(s) didn't match Pod's node affinity/selector" in condition["message"]

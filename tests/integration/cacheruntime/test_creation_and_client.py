"""Upstream Fluid's order and client reporting: every component is created in the first pass
(binding still waits for the master and the workers), a client with no pods is NotReady and
holds nothing up, and the claim carries the client DaemonSet's generation for Fluid's CSI
plugin."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.base.volume import PVC
from fluidpy.engines.cacheruntime.naming import DAEMONSET, DATASET_GVK, RUNTIME_GVK, STATEFULSET
from fluidpy.testing import LocalCluster

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"
GENERATION_LABEL = "fuse.runtime.fluid.io/generation"


def bound_sample(kube: Any) -> dict[str, Any]:
    """The masterslave sample, created and bound; returns its Dataset."""
    kube.create(*kube.sample("masterslave.yaml", class_suffix=True).values())
    dataset: dict[str, Any] = kube.wait_bound(NAME)
    return dataset


def test_the_first_pass_creates_every_component_before_the_master_is_ready(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    master = objects["CacheRuntimeClass"]["topology"]["master"]["podTemplateSpec"]["spec"]
    master["nodeSelector"] = {"example.com/no-such-node": "true"}  # the master never starts
    kube.create(*objects.values())

    kube.eventually(
        lambda: kube.get(STATEFULSET, f"{NAME}-worker") and kube.get(DAEMONSET, f"{NAME}-client"),
        "the worker and client workloads",
    )
    kube.eventually(
        lambda: (
            (kube.must(STATEFULSET, f"{NAME}-worker").get("status") or {}).get("readyReplicas") == 2
        ),
        "both workers ready",
    )

    assert not (kube.must(STATEFULSET, f"{NAME}-master").get("status") or {}).get("readyReplicas")
    runtime = kube.eventually(
        lambda: (
            (r := kube.must(RUNTIME_GVK, NAME))
            .get("status", {})
            .get("worker", {})
            .get("readyReplicas")
            == 2
            and r
        ),
        "the runtime status to show the ready workers",
    )
    assert runtime["status"]["phase"] == "NotReady"
    assert runtime["status"]["master"]["phase"] == "NotReady"
    assert (kube.must(DATASET_GVK, NAME).get("status") or {}).get("phase") != "Bound"


def test_a_client_with_no_pods_is_not_ready_and_does_not_hold_up_binding(
    kube: Any, cluster: LocalCluster
) -> None:
    dataset = bound_sample(kube)

    status = kube.must(RUNTIME_GVK, NAME)["status"]
    assert status["phase"] == "Ready"
    assert status["client"] == {"phase": "NotReady", "desiredReplicas": 0, "readyReplicas": 0}
    client = next(c for c in status["conditions"] if c["type"] == "ClientReady")
    assert (client["status"], client["reason"]) == ("False", "NotReady")

    kube.label_node(cluster.node_names()[0], kube.fuse_label(dataset))

    kube.eventually(
        lambda: (
            kube.must(RUNTIME_GVK, NAME)["status"]["client"]
            == {"phase": "Ready", "desiredReplicas": 1, "readyReplicas": 1}
        ),
        "the client Ready with its one pod",
    )


def claim_generation(kube: Any) -> str | None:
    claim = kube.get(PVC, NAME)
    return ((claim or {}).get("metadata", {}).get("labels") or {}).get(GENERATION_LABEL)


def test_the_claim_carries_the_client_daemonsets_generation_as_it_moves(kube: Any) -> None:
    bound_sample(kube)
    generation = kube.must(DAEMONSET, f"{NAME}-client")["metadata"]["generation"]
    kube.eventually(lambda: claim_generation(kube) == str(generation), "the claim's label")

    kube.patch(
        RUNTIME_GVK, NAME, {"spec": {"client": {"env": [{"name": "LOG", "value": "debug"}]}}}
    )

    kube.eventually(
        lambda: kube.must(DAEMONSET, f"{NAME}-client")["metadata"]["generation"] > generation,
        "the client DaemonSet's template to change",
    )
    moved = kube.must(DAEMONSET, f"{NAME}-client")["metadata"]["generation"]
    kube.eventually(lambda: claim_generation(kube) == str(moved), "the claim's label to follow")

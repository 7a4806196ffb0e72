"""Deleting a CacheRuntime: the finalizer cleans what owner references do not, and Kubernetes'
garbage collector removes the workloads, Services and the runtime config."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.base.volume import PV, PVC
from fluidpy.engines.cacheruntime.naming import (
    CONFIGMAP,
    DAEMONSET,
    DATASET_GVK,
    NODE,
    POD,
    RUNTIME_GVK,
    SERVICE,
    STATEFULSET,
)
from fluidpy.testing import LocalCluster

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"


def test_delete_cleans_up(kube: Any, cluster: LocalCluster) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())
    dataset = kube.wait_bound(NAME)
    kube.eventually(lambda: kube.get(PVC, NAME), "the claim")
    label = kube.fuse_label(dataset)
    node = cluster.node_names()[1]
    kube.label_node(node, label)

    kube.delete(RUNTIME_GVK, NAME)

    kube.eventually(lambda: kube.get(RUNTIME_GVK, NAME) is None, "the runtime gone")
    owned = [
        (STATEFULSET, f"{NAME}-master"),
        (STATEFULSET, f"{NAME}-worker"),
        (DAEMONSET, f"{NAME}-client"),
        (SERVICE, f"{NAME}-master"),
        (SERVICE, f"{NAME}-worker"),
        (CONFIGMAP, f"fluid-runtime-config-{NAME}"),
    ]
    for gvk, name in owned:
        kube.eventually(
            lambda g=gvk, n=name: kube.get(g, n) is None, f"{gvk.kind} {name} collected"
        )
    assert kube.get(PVC, NAME) is None
    kube.eventually(lambda: kube.get(PV, f"{kube.namespace}-{NAME}") is None, "the volume gone")
    status = kube.must(DATASET_GVK, NAME)["status"]
    assert status["phase"] == "NotBound"
    assert status["runtimes"] == []
    assert label not in (kube.must(NODE, node)["metadata"].get("labels") or {})


def test_deletion_says_which_pods_it_waits_for(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())
    kube.wait_bound(NAME)
    kube.eventually(lambda: kube.get(PVC, NAME), "the claim")
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "reader", "namespace": kube.namespace},
            "spec": {
                "containers": [{"name": "app", "image": "busybox:1.36"}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": NAME}}],
            },
        }
    )

    kube.delete(RUNTIME_GVK, NAME)

    condition = kube.wait_condition(NAME, "VolumeInUse")
    assert condition["status"] == "False"
    assert condition["message"] == (
        f"PersistentVolumeClaim {kube.namespace}/{NAME} is used by pod(s) reader; delete them "
        "to finish deleting the runtime"
    )
    assert kube.wait_event(NAME, "VolumeInUse")["type"] == "Warning"
    assert kube.get(PVC, NAME) is not None

    kube.delete(POD, "reader")

    kube.eventually(lambda: kube.get(RUNTIME_GVK, NAME) is None, "the runtime gone")
    kube.eventually(lambda: kube.get(PVC, NAME) is None, "the claim gone")

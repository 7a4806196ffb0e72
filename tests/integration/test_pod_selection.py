"""The manager caches the pods of its engines' workloads only: an application's pod in the same
namespace is never sent to it, let alone stored, and no controller watches Pods cluster-wide."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.controllers.kinds import POD
from fluidpy.engines.cacheruntime.naming import NAME_LABEL
from fluidpy.engines.masterworker.layout import pods_selector
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster
from fluidpy.testing.waiting import wait_for

pytestmark = pytest.mark.integration


def pod(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            # No scheduler has this name: the pods stay Pending, nothing runs them.
            "schedulerName": "nobody",
            "containers": [{"name": "app", "image": "busybox:1.36"}],
        },
    }


def names(pods: list[dict[str, Any]], namespace: str) -> set[str]:
    return {p["metadata"]["name"] for p in pods if p["metadata"]["namespace"] == namespace}


def test_the_pod_cache_holds_the_engines_pods_and_no_other(
    cluster: LocalCluster, manager: Manager, namespace: str
) -> None:
    for obj in (
        pod("web-0", namespace, {"app": "web"}),
        pod("demo-master-0", namespace, {"app": "alluxio", "release": "demo"}),
        pod("demo-jindo-master-0", namespace, {"app": "jindofs", "release": "demo"}),
        pod("cache-master-0", namespace, {NAME_LABEL: "cache"}),
        # The right app, but no runtime's release: not a workload pod of ours either.
        pod("alluxio-0", namespace, {"app": "alluxio"}),
    ):
        cluster.request("POST", f"/api/v1/namespaces/{namespace}/pods", obj)
    for selector in (pods_selector("alluxio"), pods_selector("jindofs"), NAME_LABEL):
        assert manager.cache.serves(POD, namespace, label_selector=selector), selector
    selections = {
        "alluxio": manager.cache.informer_for(POD, pods_selector("alluxio")),
        "jindo": manager.cache.informer_for(POD, pods_selector("jindofs")),
        "cacheruntime": manager.cache.informer_for(POD, NAME_LABEL),
    }

    wait_for(
        lambda: all(names(informer.list(), namespace) for informer in selections.values()),
        "every engine's pod cached",
        timeout=60,
    )
    # One more pod of ours after the unrelated ones: once it is cached, the others would be.
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/pods",
        pod("late-master-0", namespace, {"app": "alluxio", "release": "late"}),
    )
    wait_for(
        lambda: "late-master-0" in names(selections["alluxio"].list(), namespace),
        "the late pod cached",
        timeout=60,
    )

    assert {key: names(i.list(), namespace) for key, i in selections.items()} == {
        "alluxio": {"demo-master-0", "late-master-0"},
        "jindo": {"demo-jindo-master-0"},
        "cacheruntime": {"cache-master-0"},
    }
    assert {i.label_selector for i in manager.cache.informers_of(POD)} == {
        pods_selector("alluxio"),
        pods_selector("jindofs"),
        NAME_LABEL,
    }

"""The local control plane behaves like a real cluster for the workloads our engines create."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

WAIT = 120.0


def eventually(probe: Callable[[], Any], what: str) -> Any:
    return wait_for(probe, what, timeout=WAIT, interval=0.2)


def pod_template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }


def statefulset(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name),
        },
    }


def test_statefulset_and_daemonset_become_ready_on_fake_nodes(
    cluster: LocalCluster, namespace: str
) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}"
    cluster.request("POST", f"{base}/statefulsets", statefulset("web", 3))
    cluster.request(
        "POST",
        f"{base}/daemonsets",
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": pod_template("agent"),
            },
        },
    )

    eventually(
        lambda: (
            cluster.request("GET", f"{base}/statefulsets/web")
            .get("status", {})
            .get("readyReplicas")
            == 3
        ),
        "3 ready StatefulSet replicas",
    )
    eventually(
        lambda: (
            cluster.request("GET", f"{base}/daemonsets/agent").get("status", {}).get("numberReady")
            == 3
        ),
        "DaemonSet ready on 3 nodes",
    )

    pods = cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods")["items"]
    assert len(pods) == 6
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["status"].get("podIP"), pod["metadata"]["name"]
        assert pod["spec"].get("nodeName") in cluster.node_names()
    agent_nodes = {p["spec"]["nodeName"] for p in pods if p["metadata"]["labels"]["app"] == "agent"}
    assert agent_nodes == set(cluster.node_names())


def test_deleting_a_statefulset_garbage_collects_its_pods(
    cluster: LocalCluster, namespace: str
) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}"
    cluster.request("POST", f"{base}/statefulsets", statefulset("gc", 2))
    pods_path = f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3Dgc"
    eventually(lambda: len(cluster.request("GET", pods_path)["items"]) == 2, "2 pods")

    cluster.request(
        "DELETE",
        f"{base}/statefulsets/gc",
        {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
    )

    eventually(lambda: not cluster.request("GET", pods_path)["items"], "pods garbage-collected")


def test_deleting_a_namespace_completes(cluster: LocalCluster) -> None:
    name = "t-namespace-deletion"
    cluster.request(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    cluster.request(
        "POST",
        f"/apis/apps/v1/namespaces/{name}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "d"}},
                "template": pod_template("d"),
            },
        },
    )
    eventually(
        lambda: (
            cluster.request("GET", f"/apis/apps/v1/namespaces/{name}/deployments/d")
            .get("status", {})
            .get("readyReplicas")
            == 2
        ),
        "Deployment ready",
    )

    cluster.request("DELETE", f"/api/v1/namespaces/{name}")

    eventually(
        lambda: cluster.request("GET", f"/api/v1/namespaces/{name}") is None, "namespace gone"
    )


def test_version_is_stamped(cluster: LocalCluster) -> None:
    version = cluster.request("GET", "/version")
    assert version["major"] == "1"
    assert version["gitVersion"].startswith(f"v1.{version['minor']}.")

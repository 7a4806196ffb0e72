"""The manager image, built from the Dockerfile, runs as the Deployment in config/ describes:
non-root, read-only root file system, its ServiceAccount, probes passing, the Lease won; and
when the leader is killed mid-rollout the Deployment's other replica takes over and reconciles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fluidpy.testing import wait_for
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.realnode import BUSYBOX_IMAGE, NODE_LABEL

NAMESPACE = "fluid-system"
DEPLOYMENT = "fluidpy-controller-manager"
LEASE = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/fluidpy.data.fluid.io"
Managers = Callable[[], list[dict[str, Any]]]


def lease_holder(cluster: LocalCluster) -> str | None:
    lease = cluster.request("GET", LEASE) or {}
    holder = (lease.get("spec") or {}).get("holderIdentity")
    return str(holder) if holder else None


def test_the_manager_runs_non_root_read_only_under_its_service_account(
    real_cluster: LocalCluster, deployed_manager: Path, kubectl: Any, ready_managers: Managers
) -> None:
    pod = ready_managers()[0]
    name = pod["metadata"]["name"]

    assert pod["spec"]["serviceAccountName"] == "fluidpy-controller-manager"
    assert pod["spec"]["containers"][0]["image"] == "localhost/fluidpy/controller-manager:dev"
    assert pod["status"]["containerStatuses"][0]["ready"] is True
    uid = kubectl("exec", "-n", NAMESPACE, name, "--", "id", "-u")
    assert uid.stdout.strip() == "65532", uid.stderr
    write = kubectl("exec", "-n", NAMESPACE, name, "--", "touch", "/written-at-run-time")
    assert write.returncode != 0
    assert "Read-only file system" in write.stderr
    holder = wait_for(lambda: lease_holder(real_cluster), "the Lease held")
    logs = kubectl("logs", "-n", NAMESPACE, name)
    assert holder in logs.stdout


def test_the_second_replica_waits_for_the_host_ports_the_first_holds(
    real_cluster: LocalCluster, deployed_manager: Path
) -> None:
    """With host networking the replicas' metrics and probe ports are the node's: on one real
    node a second replica cannot run beside the first, and the scheduler says why."""
    pods = real_cluster.request(
        "GET", f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=app.kubernetes.io/name=fluidpy"
    )["items"]
    pending = [p for p in pods if p["status"].get("phase") == "Pending"]

    assert len(pods) == 2
    assert len(pending) == 1
    scheduled = next(c for c in pending[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert "free ports" in scheduled["message"]


def sleeper_runtime(namespace: str) -> list[dict[str, Any]]:
    """A cache system that only sleeps: enough for its runtime to become ready and bind."""
    component = {
        "workloadType": {"apiVersion": "apps/v1", "kind": "StatefulSet"},
        "podTemplateSpec": {
            "spec": {
                "hostNetwork": True,
                "nodeSelector": {NODE_LABEL: "true"},
                "tolerations": [{"key": NODE_LABEL, "operator": "Exists"}],
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "main",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "Never",
                        "command": ["sleep", "3600"],
                    }
                ],
            }
        },
    }
    return [
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "CacheRuntimeClass",
            "metadata": {"name": f"sleeper-{namespace}"},
            "fileSystemType": "fuse.sleeper",
            "topology": {"master": component, "worker": component},
        },
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "Dataset",
            "metadata": {"name": "handover", "namespace": namespace},
            "spec": {"mounts": [{"name": "data", "mountPoint": "local:///data"}]},
        },
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "CacheRuntime",
            "metadata": {"name": "handover", "namespace": namespace},
            "spec": {"runtimeClassName": f"sleeper-{namespace}"},
        },
    ]


def test_when_the_leader_is_killed_mid_rollout_the_other_replica_takes_over(
    real_cluster: LocalCluster,
    deployed_manager: Path,
    kubectl: Any,
    ready_managers: Managers,
    real_namespace: str,
) -> None:
    leader = ready_managers()[0]["metadata"]["name"]
    holder = wait_for(lambda: lease_holder(real_cluster), "the Lease held")

    restarted = kubectl("rollout", "restart", f"deployment/{DEPLOYMENT}", "-n", NAMESPACE)
    assert restarted.returncode == 0, restarted.stderr
    killed = kubectl(
        "delete", "pod", leader, "-n", NAMESPACE, "--grace-period=0", "--force", "--wait=false"
    )
    assert killed.returncode == 0, killed.stderr

    wait_for(
        lambda: [p for p in ready_managers() if p["metadata"]["name"] != leader],
        "another manager pod Ready",
        timeout=300,
    )
    wait_for(
        lambda: lease_holder(real_cluster) not in (None, holder),
        "the Lease taken over by the new replica",
        timeout=120,
    )
    for document in sleeper_runtime(real_namespace):
        applied = kubectl("apply", "-f", "-", input=__import__("json").dumps(document))
        assert applied.returncode == 0, applied.stderr
    wait_for(
        lambda: (
            (
                (
                    real_cluster.request(
                        "GET",
                        f"/apis/data.fluid.io/v1alpha1/namespaces/{real_namespace}/datasets/handover",
                    )
                    or {}
                ).get("status")
                or {}
            ).get("phase")
            == "Bound"
        ),
        "the Dataset Bound by the new leader",
        timeout=180,
    )

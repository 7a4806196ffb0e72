"""A real node joins the local control plane and runs real containers, reached through the API
server (logs, exec with stdin), with ConfigMap, emptyDir and projected-token volumes."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from typing import Any

from fluidpy.testing import wait_for
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.realnode import BUSYBOX_IMAGE, NODE_LABEL, NODE_NAME, host_address
from fluidpy.testing.realnode_pods import on_real_node


def pod_ready(cluster: LocalCluster, namespace: str, name: str) -> dict[str, Any] | None:
    pod = cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}") or {}
    conditions = (pod.get("status") or {}).get("conditions") or []
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return pod if ready else None


def test_the_node_registers_with_the_hosts_address_and_its_taint(
    real_cluster: LocalCluster,
) -> None:
    node = real_cluster.request("GET", f"/api/v1/nodes/{NODE_NAME}")

    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == host_address()
    assert not addresses["InternalIP"].startswith("127.")
    assert node["metadata"]["labels"][NODE_LABEL] == "true"
    assert {"key": NODE_LABEL, "value": "true", "effect": "NoSchedule"} in node["spec"]["taints"]
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://2.")


def test_the_kubelet_listens_on_loopback_and_refuses_anonymous_clients(
    real_cluster: LocalCluster,
) -> None:
    node = real_cluster.request("GET", f"/api/v1/nodes/{NODE_NAME}")
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]

    with socket.socket() as probe:
        assert probe.connect_ex((host_address(), port)) != 0
    context = ssl.create_default_context(cafile=str(real_cluster.dir / "pki" / "ca.crt"))
    try:
        urllib.request.urlopen(f"https://localhost:{port}/pods", context=context, timeout=10)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 401


def test_a_pod_runs_with_its_volumes_and_answers_logs_and_exec(
    real_cluster: LocalCluster, real_namespace: str, kubectl: Any
) -> None:
    real_cluster.request(
        "POST",
        f"/api/v1/namespaces/{real_namespace}/configmaps",
        {"metadata": {"name": "greeting"}, "data": {"hello.txt": "hello from a ConfigMap\n"}},
    )
    script = (
        "cat /cm/hello.txt; echo scratch > /scratch/x; "
        "test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token present; "
        "exec sleep 3600"
    )
    real_cluster.request(
        "POST",
        f"/api/v1/namespaces/{real_namespace}/pods",
        {
            "metadata": {"name": "probe"},
            "spec": on_real_node(
                {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "probe",
                            "image": BUSYBOX_IMAGE,
                            "imagePullPolicy": "Never",
                            "command": ["sh", "-c", script],
                            "volumeMounts": [
                                {"name": "cm", "mountPath": "/cm"},
                                {"name": "scratch", "mountPath": "/scratch"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "cm", "configMap": {"name": "greeting"}},
                        {"name": "scratch", "emptyDir": {}},
                    ],
                }
            ),
        },
    )

    pod = wait_for(lambda: pod_ready(real_cluster, real_namespace, "probe"), "pod probe Ready")

    assert pod["spec"]["nodeName"] == NODE_NAME
    assert pod["status"]["podIP"] == host_address()
    logs = wait_for(
        lambda: (
            (out := kubectl("logs", "-n", real_namespace, "probe").stdout)
            and "token present" in out
            and out
        ),
        "the pod's log",
    )
    assert "hello from a ConfigMap" in logs
    shown = kubectl("exec", "-n", real_namespace, "probe", "--", "cat", "/scratch/x")
    assert shown.stdout == "scratch\n", shown.stderr
    echoed = kubectl("exec", "-i", "-n", real_namespace, "probe", "--", "cat", input="via stdin\n")
    assert echoed.stdout == "via stdin\n", echoed.stderr

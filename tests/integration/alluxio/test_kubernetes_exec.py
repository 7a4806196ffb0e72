"""The real exec transport, through the local API server's pods/exec subresource.

A pod on a fake node runs only the commands of the cluster's exec path (tests/exec-scripts, see
tests/integration/test_kwok_exec.py), and the Alluxio CLI is not one of them: what these tests
pin down is that every way an exec can fail reaches the engine as one clear ExecError naming the
pod and the command, and never as a hang or a raw client exception.
"""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines.base.exec import ExecError, KubernetesExec
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

POD = GVK("", "v1", "Pod")


@pytest.fixture
def client(cluster: LocalCluster) -> Client:
    return Client(cluster.connection(), qps=0)


def running_pod(client: Client, namespace: str) -> str:
    client.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "master-0", "namespace": namespace},
            "spec": {"containers": [{"name": "alluxio-master", "image": "alluxio/alluxio:2.9.3"}]},
        }
    )

    def running() -> dict[str, Any] | None:
        pod = client.get(POD, "master-0", namespace)
        return pod if (pod or {}).get("status", {}).get("phase") == "Running" else None

    wait_for(running, "the pod running on a kwok node")
    return "master-0"


def test_a_cli_the_pod_does_not_have_is_an_exec_error_naming_pod_and_command(
    cluster: LocalCluster, client: Client, namespace: str
) -> None:
    pod = running_pod(client, namespace)
    transport = KubernetesExec(cluster.connection())

    with pytest.raises(ExecError) as raised:
        transport.run(
            Context.background(),
            namespace,
            pod,
            "alluxio-master",
            ["alluxio", "fsadmin", "report"],
            timeout=30,
        )

    assert f"`alluxio fsadmin report` in pod {namespace}/{pod}" in str(raised.value)


def test_an_exec_in_a_pod_that_does_not_exist_is_an_exec_error(
    cluster: LocalCluster, namespace: str
) -> None:
    transport = KubernetesExec(cluster.connection())

    with pytest.raises(ExecError, match=f"in pod {namespace}/nowhere-0 could not start"):
        transport.run(Context.background(), namespace, "nowhere-0", "main", ["true"], timeout=30)

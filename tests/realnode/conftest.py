"""A session cluster with a real node (kubelet, containerd, runc) beside one fake node.

The directory is collected only on hosts that can run a real node (tests/conftest.py); there,
a missing binary or package is an error that says to run `make realnode`, never a skip.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.realnode import NODE_LABEL

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def real_cluster(cluster_crds: list[dict[str, Any]]) -> Iterator[LocalCluster]:
    local = LocalCluster(name="fluidpy-realnode", nodes=1, real_node=True, crds=cluster_crds)
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def real_namespace(real_cluster: LocalCluster) -> Iterator[str]:
    name = f"rn-{secrets.token_hex(4)}"
    real_cluster.request(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    try:
        yield name
    finally:
        real_cluster.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def kubectl(real_cluster: LocalCluster) -> Kubectl:
    """kubectl against the real-node cluster; `input` goes to its stdin."""

    def run(
        *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", f"--kubeconfig={real_cluster.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def on_real_node(spec: dict[str, Any]) -> dict[str, Any]:
    """A pod spec placed on the real node: host network, its label selected, its taint
    tolerated."""
    return {
        **spec,
        "hostNetwork": True,
        "nodeSelector": {NODE_LABEL: "true"},
        "tolerations": [{"key": NODE_LABEL, "operator": "Exists"}],
    }


@pytest.fixture(name="on_real_node")
def on_real_node_fixture() -> Callable[[dict[str, Any]], dict[str, Any]]:
    return on_real_node

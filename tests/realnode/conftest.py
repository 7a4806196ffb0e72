"""A session cluster with a real node (kubelet, containerd, runc) beside one fake node.

The directory is collected only on hosts that can run a real node (tests/conftest.py); there,
a missing binary or package is an error that says to run `make realnode`, never a skip.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fluidpy.testing import wait_for
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.pytest_plugin import temporary_namespace
from fluidpy.testing.realnode_pods import MANAGER_IMAGE, write_manager_overlay

REPO = Path(__file__).resolve().parents[2]
DEMOCACHE_IMAGE = "localhost/democache:dev"

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
    with temporary_namespace(real_cluster, f"rn-{secrets.token_hex(4)}") as name:
        yield name


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


def build_image(context: Path, reference: str) -> Path:
    """An OCI archive of the image built from `context`'s Dockerfile (hack/realnode/image.sh:
    buildah on the local Debian base, cached on its inputs)."""
    built = subprocess.run(
        [str(REPO / "hack/realnode/image.sh"), sys.executable, str(context), reference],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return Path(built.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def manager_image(real_cluster: LocalCluster) -> str:
    assert real_cluster.node is not None
    real_cluster.node.import_image(build_image(REPO, MANAGER_IMAGE))
    return MANAGER_IMAGE


@pytest.fixture(scope="session")
def democache_image(real_cluster: LocalCluster) -> str:
    assert real_cluster.node is not None
    real_cluster.node.import_image(build_image(REPO / "examples/democache", DEMOCACHE_IMAGE))
    return DEMOCACHE_IMAGE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def deployed_manager(
    real_cluster: LocalCluster, manager_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """config/ applied with `kubectl apply -k` (through manager_overlay) until a manager pod is
    Ready; returns the overlay's directory."""
    assert real_cluster.node is not None
    overlay = write_manager_overlay(
        tmp_path_factory.mktemp("manager"),
        REPO / "config",
        mount_root=real_cluster.node.mount_root,
        api_server_port=int(real_cluster.server.rsplit(":", 1)[1]),
        metrics_port=free_port(),
        probe_port=free_port(),
    )
    applied = subprocess.run(
        ["kubectl", f"--kubeconfig={real_cluster.kubeconfig}", "apply", "-k", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    wait_for(lambda: ready_manager_pods(real_cluster), "a manager pod Ready", timeout=300)
    return overlay


@pytest.fixture
def ready_managers(real_cluster: LocalCluster) -> Callable[[], list[dict[str, Any]]]:
    """The manager pods that are Ready and not being deleted, as a function to poll."""
    return lambda: ready_manager_pods(real_cluster)


MANAGER_SELECTOR = "app.kubernetes.io/name=fluidpy,app.kubernetes.io/component=controller-manager"


def ready_manager_pods(cluster: LocalCluster) -> list[dict[str, Any]]:
    pods = cluster.request(
        "GET", f"/api/v1/namespaces/fluid-system/pods?labelSelector={MANAGER_SELECTOR}"
    )["items"]
    return [
        pod
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )
    ]

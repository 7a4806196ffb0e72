"""pytest fixtures for tests against a real control plane.

Opt in from a conftest.py with `pytest_plugins = ["fluidpy.testing.pytest_plugin"]` (installed with
`fluidpy[testing]`). Every fixture name starts with `fluidpy_`, so none can shadow a fixture of the
project that uses them. One LocalCluster serves the whole test session (it takes seconds to start
and is shared safely because every test gets a namespace of its own). USE_EXISTING_CLUSTER=true with
KUBECONFIG runs the same tests against a cluster you already have, as envtest does.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fluidpy import log
from fluidpy.client.connection import ApiServerConnection
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.waiting import wait_for

NODES = int(os.environ.get("FLUIDPY_TEST_NODES", "3"))


def pytest_configure(config: pytest.Config) -> None:
    """fluidpy's log lines reach pytest's log capture: shown with a failing test, not printed
    over the progress dots."""
    log.configure_for_capture()


def _use_existing_cluster() -> bool:
    return os.environ.get("USE_EXISTING_CLUSTER", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def fluidpy_cluster_crds() -> list[dict[str, Any]]:
    """CRDs the session's cluster starts with; override this fixture in a conftest.py.

    They are installed before kube-controller-manager starts, so garbage collection of objects
    owned by custom resources works from the first test (see LocalCluster.install_crds).
    """
    return []


@pytest.fixture(scope="session")
def fluidpy_exec_path() -> list[Path]:
    """Directories of the commands that exec into a pod on a fake node runs (on the host); override
    this fixture in a conftest.py. None by default: such an exec fails, and nothing runs on the
    host (see fluidpy.testing.kwok_exec)."""
    return []


@pytest.fixture(scope="session")
def fluidpy_cluster(
    fluidpy_cluster_crds: list[dict[str, Any]], fluidpy_exec_path: list[Path]
) -> Iterator[LocalCluster]:
    if _use_existing_cluster():
        kubeconfig = os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config"))
        existing = LocalCluster.existing(Path(kubeconfig))
        if fluidpy_cluster_crds:
            existing.install_crds(fluidpy_cluster_crds)
        yield existing
        return
    local = LocalCluster(
        name="fluidpy-test", nodes=NODES, crds=fluidpy_cluster_crds, exec_path=fluidpy_exec_path
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def fluidpy_connection(fluidpy_cluster: LocalCluster) -> Iterator[ApiServerConnection]:
    connection = fluidpy_cluster.connection()
    try:
        yield connection
    finally:
        connection.close()


def _namespace_name(test_name: str) -> str:
    stem = re.sub(r"[^a-z0-9-]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{stem}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def temporary_namespace(cluster: LocalCluster, name: str) -> Iterator[str]:
    """Namespace `name`, labelled as a test's, deleted afterwards without waiting for it to go;
    for tests whose objects need a name shorter than fluidpy_namespace's.

    Yielded once its default ServiceAccount exists: the API server refuses a pod without one, and
    on a busy machine kube-controller-manager can take seconds to create it."""
    cluster.request(
        "POST",
        "/api/v1/namespaces",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"fluidpy.io/test": "true"}},
        },
    )
    try:
        wait_for(
            lambda: cluster.request("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default"),
            f"the default ServiceAccount of namespace {name}",
            interval=0.05,
        )
        yield name
    finally:
        cluster.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def fluidpy_namespace(
    fluidpy_cluster: LocalCluster, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting for it to go)."""
    with temporary_namespace(fluidpy_cluster, _namespace_name(request.node.name)) as name:
        yield name

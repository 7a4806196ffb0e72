"""The session's local cluster starts with fluidpy's CRDs installed.

fluidpy's own tests call the plugin's fixtures by short names: `cluster`, `api_client` and
`namespace` are this project's aliases of `fluidpy_cluster`, `fluidpy_api_client` and
`fluidpy_namespace`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fluidpy.api import crdgen
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.realnode import host_limitations

pytest_plugins = ["fluidpy.testing.pytest_plugin"]

REAL_NODE_LIMITS = host_limitations()
"""tests/realnode needs Linux, root, overlay and FUSE (CI has them all). Elsewhere they are not
collected, and the run's summary says why, once; everything else runs."""
collect_ignore = ["realnode"] if REAL_NODE_LIMITS else []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REAL_NODE_LIMITS:
        terminalreporter.write_line(
            "tests/realnode not run: this host lacks " + "; ".join(REAL_NODE_LIMITS),
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def fluidpy_cluster_crds() -> list[dict[str, Any]]:
    return crdgen.crds()


@pytest.fixture(scope="session")
def cluster_crds(fluidpy_cluster_crds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return fluidpy_cluster_crds


@pytest.fixture(scope="session")
def cluster(fluidpy_cluster: LocalCluster) -> LocalCluster:
    return fluidpy_cluster


@pytest.fixture(scope="session")
def api_client(fluidpy_api_client: Any) -> Any:
    return fluidpy_api_client


@pytest.fixture
def namespace(fluidpy_namespace: str) -> Iterator[str]:
    yield fluidpy_namespace

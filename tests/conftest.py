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

pytest_plugins = ["fluidpy.testing.pytest_plugin"]


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

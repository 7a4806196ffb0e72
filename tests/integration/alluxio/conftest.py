"""Short namespaces: upstream's sample names (serverless-data, ...) plus a namespace must fit the
63 characters of the `fluid.io/dataset-id` label value that the RuntimeReconciler writes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from fluidpy.testing import LocalCluster
from fluidpy.testing.pytest_plugin import temporary_namespace


@pytest.fixture
def namespace(cluster: LocalCluster) -> Iterator[str]:
    with temporary_namespace(cluster, f"alluxio-{secrets.token_hex(3)}") as name:
        yield name

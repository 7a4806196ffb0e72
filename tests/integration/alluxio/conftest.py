"""Short namespaces: upstream's sample names (serverless-data, ...) plus a namespace must fit the
63 characters of the `fluid.io/dataset-id` label value that the RuntimeReconciler writes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from fluidpy.testing import LocalCluster


@pytest.fixture
def namespace(cluster: LocalCluster) -> Iterator[str]:
    name = f"alluxio-{secrets.token_hex(3)}"
    cluster.request(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    try:
        yield name
    finally:
        cluster.request("DELETE", f"/api/v1/namespaces/{name}")

"""Secrets are watched as metadata only: the manager knows a Secret exists and when it changes,
and the API server never sends it the values (docs/architecture.md, least privilege)."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.cache import Cache
from fluidpy.client import SECRET, Client
from fluidpy.context import Context
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration


def secret(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": {"token": "s3cr3t"},
    }


def test_the_cache_holds_secrets_as_metadata_received_without_their_values(
    cluster: LocalCluster, connection: Any, namespace: str
) -> None:
    client = Client(connection, qps=0)
    client.create(secret("listed", namespace))
    cache = Cache(client, namespaces=[namespace])
    ctx, cancel = Context.background().with_cancel()
    try:
        cache.informer_for(SECRET)
        cache.start(ctx)
        assert cache.wait_for_cache_sync(ctx)
        client.create(secret("watched", namespace))
        watched = wait_for(
            lambda: cache.get(SECRET, "watched", namespace), "the watched Secret", timeout=60
        )
        listed = cache.get(SECRET, "listed", namespace)
    finally:
        cancel()

    for cached in (listed, watched):
        assert cached is not None
        assert (cached["apiVersion"], cached["kind"]) == ("v1", "Secret")
        assert cached["metadata"]["uid"]
        # `type` is not metadata: only a PartialObjectMetadata answer lacks it, so neither the
        # list nor the watch carried the Secret's body (nor, with it, its values).
        assert "type" not in cached
        assert "data" not in cached and "stringData" not in cached
        assert "s3cr3t" not in repr(cached) and "czNjcjN0" not in repr(cached)

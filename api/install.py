"""Install the data.fluid.io CRDs into a cluster and wait until the API server serves them.

Server-side apply with a fixed field manager makes installing idempotent: run it on every
start, in every test session, after every model change; it converges on the generated CRDs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from kubernetes.client import ApiextensionsV1Api

from fluidpy.api import crdgen

FIELD_MANAGER = "fluidpy-crds"
"""The field manager owning the CRDs; force-applying under it takes over from earlier installers."""

APPLY_PATCH = "application/apply-patch+yaml"


def install_crds(
    api_client: Any, *, timeout: float = 60.0, field_manager: str = FIELD_MANAGER
) -> list[str]:
    """Apply every CRD and wait (up to `timeout` seconds) until all are Established.

    Returns the CRD names. Raises TimeoutError naming the CRDs that never became Established.
    """
    api = ApiextensionsV1Api(api_client)
    names = []
    for crd in crdgen.crds():
        name = crd["metadata"]["name"]
        _json(
            api.patch_custom_resource_definition(
                name,
                crd,
                field_manager=field_manager,
                force=True,
                _content_type=APPLY_PATCH,
                _preload_content=False,
            )
        )
        names.append(name)
    wait_established(api_client, names, timeout=timeout)
    return names


def wait_established(api_client: Any, names: Iterable[str], *, timeout: float = 60.0) -> None:
    """Block until every named CRD has condition Established=True, following a watch."""
    api = ApiextensionsV1Api(api_client)
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        listing = _json(api.list_custom_resource_definition(_preload_content=False))
        pending = wanted - {
            item["metadata"]["name"] for item in listing["items"] if _established(item)
        }
        if not pending:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"CRDs not Established after {timeout:g}s: {sorted(pending)}")
        stream = api.list_custom_resource_definition(
            watch=True,
            resource_version=listing["metadata"]["resourceVersion"],
            timeout_seconds=max(1, int(remaining)),
            _preload_content=False,
        )
        try:
            for line in stream:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":
                    break
                obj = event["object"]
                if _established(obj):
                    pending.discard(obj["metadata"]["name"])
                    if not pending:
                        return
        finally:
            # The stream may still hold unread events: close it so its connection is not reused.
            stream.close()
            stream.release_conn()


def _json(response: Any) -> Any:
    """The body of a response fetched unpreloaded, read fully so its connection can be reused."""
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def _established(crd: dict[str, Any]) -> bool:
    conditions = crd.get("status", {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

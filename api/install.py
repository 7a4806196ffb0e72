"""Install the data.fluid.io CRDs into a cluster and wait until the API server serves them.

Server-side apply with a fixed field manager makes installing idempotent: run it on every
start, in every test session, after every model change; it converges on the generated CRDs.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from typing import Any

from fluidpy.api import crdgen
from fluidpy.client.connection import ApiServerConnection
from fluidpy.client.errors import ApiError
from fluidpy.client.transport import Transport
from fluidpy.client.watch import WatchStream

FIELD_MANAGER = "fluidpy-crds"
"""The field manager owning the CRDs; force-applying under it takes over from earlier installers."""

APPLY_PATCH = "application/apply-patch+yaml"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
REQUEST_TIMEOUT = 30.0
"""Per request; a CRD apply is answered in well under a second by a healthy API server."""


def install_crds(
    connection: ApiServerConnection, *, timeout: float = 60.0, field_manager: str = FIELD_MANAGER
) -> list[str]:
    """Apply every CRD and wait (up to `timeout` seconds) until all are Established.

    Returns the CRD names. Raises TimeoutError naming the CRDs that never became Established.
    """
    transport = Transport(connection, qps=0, burst=0, request_timeout=REQUEST_TIMEOUT)
    names = []
    for crd in crdgen.crds():
        name = crd["metadata"]["name"]
        transport.request(
            "PATCH",
            f"{CRDS}/{name}",
            query=[("fieldManager", field_manager), ("force", "true")],
            body=json.dumps(crd).encode(),
            content_type=APPLY_PATCH,
        )
        names.append(name)
    wait_established(connection, names, timeout=timeout)
    return names


def wait_established(
    connection: ApiServerConnection, names: Iterable[str], *, timeout: float = 60.0
) -> None:
    """Block until every named CRD has condition Established=True, following a watch."""
    transport = Transport(connection, qps=0, burst=0, request_timeout=REQUEST_TIMEOUT)
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        listing = transport.request("GET", CRDS)
        pending = wanted - {
            item["metadata"]["name"] for item in listing["items"] if _established(item)
        }
        if not pending:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"CRDs not Established after {timeout:g}s: {sorted(pending)}")
        seconds = max(1, int(remaining))
        budget = seconds + REQUEST_TIMEOUT
        response = transport.open_stream(
            CRDS,
            query=[
                ("watch", "true"),
                ("resourceVersion", listing["metadata"]["resourceVersion"]),
                ("timeoutSeconds", str(seconds)),
            ],
            read_timeout=budget,
        )
        # An ERROR event (an expired resourceVersion) or a broken watch: list again.
        with WatchStream(response, budget) as stream, contextlib.suppress(ApiError):
            for _, obj in stream:
                if _established(obj):
                    pending.discard(obj["metadata"]["name"])
                    if not pending:
                        return


def _established(crd: dict[str, Any]) -> bool:
    conditions = crd.get("status", {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

"""The shard's side of the drain handshake, wrapped around each reconciler of a main kind.

The gate runs inside the controller's worker, so the work queue's promise (a key is never handled
by two workers at once) covers it: when the gate releases an object, no reconcile of that object
is running in this controller, and none starts afterwards, because the cache keeps showing the
drain mark until the object, no longer labelled for this shard, leaves the cache.

Each shard logs when it starts working on an object ("taking over") and when it lets go
("released"), with the reconcile id and a timestamp: the intervals during which each shard may
write an object, which the integration tests check never overlap between shards.
"""

from __future__ import annotations

import threading
from typing import Any

from fluidpy.client import GVK, Client, Invalid, NotFound
from fluidpy.context import Context
from fluidpy.controller import Reconciler, Request, Result
from fluidpy.log import get_logger
from fluidpy.metrics.sharding import RELEASES
from fluidpy.sharding.labels import Duty, drain_label, duty, labels_of, shard_label

LOGGER = "fluidpy.sharding"


def _label_path(label: str) -> str:
    return "/metadata/labels/" + label.replace("~", "~0").replace("/", "~1")


class ShardGate:
    """Reconciles an object of `gvk` only while it is this shard's and not draining."""

    def __init__(
        self, inner: Reconciler, gvk: GVK, client: Client, *, ring: str, shard: str
    ) -> None:
        self._inner = inner
        self._gvk = gvk
        self._client = client
        self._ring = ring
        self._shard = shard
        self._working: set[Request] = set()
        self._lock = threading.Lock()
        self._log = get_logger(LOGGER, ring=ring, shard=shard, kind=gvk.kind)

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        obj = self._client.get(self._gvk, request.name, request.namespace, ctx=ctx)
        if obj is None:
            with self._lock:
                self._working.discard(request)
            return self._inner.reconcile(ctx, request)
        match duty(labels_of(obj), self._ring, self._shard):
            case Duty.IGNORE:
                return None
            case Duty.RELEASE:
                self._release(ctx, request, obj)
                return None
        with self._lock:
            new = request not in self._working
            self._working.add(request)
        if new:
            self._log.info("taking over", object=str(request))
        return self._inner.reconcile(ctx, request)

    def _release(self, ctx: Context, request: Request, obj: dict[str, Any]) -> None:
        """Remove both labels, provided the object is still labelled for this shard."""
        shard_path = _label_path(shard_label(self._ring))
        patch = [
            {"op": "test", "path": shard_path, "value": self._shard},
            {"op": "remove", "path": shard_path},
            {"op": "remove", "path": _label_path(drain_label(self._ring))},
        ]
        with self._lock:
            self._working.discard(request)
        try:
            self._client.patch(
                self._gvk, request.name, request.namespace, patch, patch_type="json", ctx=ctx
            )
        except (NotFound, Invalid) as error:
            # Gone, or no longer labelled for this shard: nothing of ours to release.
            self._log.info("nothing to release", object=str(request), reason=error.reason)
            return
        RELEASES.labels(self._ring, self._shard).inc()
        self._log.info("released", object=str(request))

"""The Dataset reconciler: its phase before any runtime binds, and safe deletion.

A Dataset's runtime is owned by it, so deleting the Dataset deletes the runtime through garbage
collection; what this reconciler adds is the guard that an application still reading the data
keeps the Dataset (and therefore its cache) alive, with an event naming the pods.

Writes are few: the finalizer and the dataset-id label go on in one metadata patch, and the
NotBound phase is written only for a Dataset that no runtime claims. A Dataset and its runtime
are usually created together, and the runtime writes the Dataset's status once, when it binds;
a NotBound written in between would be overwritten seconds later. So a new Dataset is given
NOT_BOUND_GRACE for its runtime to appear, and a Dataset whose runtime exists shows no phase
until that runtime binds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from fluidpy.api.v1alpha1.base import is_dns1035_label
from fluidpy.client import GVK, Client, Conflict, NotFound
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers.kinds import BUILTIN_KINDS, DATASET
from fluidpy.engines.base.runtime_info import DATASET_ID_LABEL, dataset_id
from fluidpy.engines.base.volume import IN_USE_RECHECK, PVC, pods_using_claim
from fluidpy.events import EventRecorder

log = structlog.get_logger("fluidpy.controllers.dataset")

FINALIZER = "fluid-dataset-controller-finalizer"
NOT_BOUND = "NotBound"
NOT_BOUND_GRACE = 5.0
"""Seconds a new Dataset waits for a runtime of its name before it is marked NotBound: long
enough for a runtime created right after it (kubectl apply of both, a Helm chart) to show up,
short enough that a Dataset nobody serves soon says so."""
BUILTIN_RUNTIMES = tuple(kind.gvk for kind in BUILTIN_KINDS.values())


class DatasetReconciler:
    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        runtime_kinds: Sequence[GVK] = BUILTIN_RUNTIMES,
    ) -> None:
        """`runtime_kinds` (default the built-in ones) are looked up, in the cache only, for a
        runtime named like a Dataset without a phase."""
        self.client = client
        self.recorder = recorder
        self.runtime_kinds = tuple(runtime_kinds)

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        try:
            return self._reconcile(ctx, request)
        except (Conflict, NotFound) as error:
            # The runtime wrote the Dataset, or it went, since the cache showed it: expected, a
            # pass to redo from fresher state (with backoff), not an error.
            log.debug("stale Dataset; reconciling again", error=str(error))
            return Result(requeue=True)

    def _reconcile(self, ctx: Context, request: Request) -> Result | None:
        dataset = self.client.get(DATASET, request.name, request.namespace, ctx=ctx)
        if dataset is None:
            return None
        metadata = dataset["metadata"]
        finalizers = list(metadata.get("finalizers") or [])
        if metadata.get("deletionTimestamp"):
            return self._delete(ctx, dataset, finalizers)
        if not is_dns1035_label(request.name):
            self.recorder.event(
                dataset,
                "Warning",
                "ErrorCreateDataset",
                f"metadata.name {request.name!r} is not a DNS-1035 label (lower-case letters, "
                "digits and '-', starting with a letter, at most 63); recreate the Dataset "
                "under such a name",
            )
            return None
        self._adopt(ctx, dataset, finalizers)
        if not (dataset.get("status") or {}).get("phase"):
            return self._mark_not_bound(ctx, dataset)
        return None

    def _adopt(self, ctx: Context, dataset: dict[str, Any], finalizers: list[str]) -> None:
        """The finalizer and the dataset-id label, in one patch (none when both are there)."""
        metadata = dataset["metadata"]
        label = dataset_id(metadata["namespace"], metadata["name"], metadata["uid"])
        changed: dict[str, Any] = {}
        if FINALIZER not in finalizers:
            changed["finalizers"] = [*finalizers, FINALIZER]
        if (metadata.get("labels") or {}).get(DATASET_ID_LABEL) != label:
            changed["labels"] = {DATASET_ID_LABEL: label}
        if changed:
            changed["resourceVersion"] = metadata["resourceVersion"]
            self.client.patch(
                DATASET, metadata["name"], metadata["namespace"], {"metadata": changed}, ctx=ctx
            )

    def _mark_not_bound(self, ctx: Context, dataset: dict[str, Any]) -> Result | None:
        """NotBound for a Dataset no runtime claims, after NOT_BOUND_GRACE; nothing while a
        runtime of its name exists (that runtime writes the status when it binds)."""
        metadata = dataset["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        if self._runtime_named(namespace, name):
            return None
        wait = NOT_BOUND_GRACE - _age(metadata.get("creationTimestamp"))
        if wait > 0:
            return Result(requeue_after=wait)
        self.client.patch_status(
            DATASET, name, namespace, {"status": {"phase": NOT_BOUND, "conditions": []}}, ctx=ctx
        )
        return None

    def _runtime_named(self, namespace: str, name: str) -> bool:
        """Whether a runtime of any known kind has this name, as far as the cache knows (a kind
        it does not hold costs no request: its controller does not run in this process)."""
        cache = self.client.cache
        if cache is None:
            return False
        return any(
            cache.serves(gvk, namespace) and cache.get(gvk, name, namespace) is not None
            for gvk in self.runtime_kinds
        )

    def _delete(
        self, ctx: Context, dataset: dict[str, Any], finalizers: list[str]
    ) -> Result | None:
        metadata = dataset["metadata"]
        if FINALIZER not in finalizers:
            return None
        namespace, name = metadata["namespace"], metadata["name"]
        claim = self.client.get(PVC, name, namespace, ctx=ctx)
        if claim is not None:
            users = pods_using_claim(self.client, namespace, name)
            if users:
                message = (
                    f"cannot delete Dataset {namespace}/{name}: pod(s) {', '.join(users)} in "
                    f"namespace {namespace} still use its volume; it is deleted once they finish "
                    "or are deleted"
                )
                log.info("dataset deletion blocked", dataset=f"{namespace}/{name}", pods=users)
                self.recorder.event(dataset, "Warning", "ErrorDeleteDataset", message)
                return Result(requeue_after=IN_USE_RECHECK)
        self.client.patch(
            DATASET,
            name,
            namespace,
            {
                "metadata": {
                    "finalizers": [f for f in finalizers if f != FINALIZER] or None,
                    "resourceVersion": metadata["resourceVersion"],
                }
            },
            ctx=ctx,
        )
        return None


def _age(timestamp: str | None) -> float:
    """Seconds since an RFC 3339 timestamp of the API server; 0 when there is none."""
    if not timestamp:
        return 0.0
    created = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return max((datetime.now(UTC) - created).total_seconds(), 0.0)

"""The Dataset reconciler: its phase before any runtime binds, and safe deletion.

A Dataset's runtime is owned by it, so deleting the Dataset deletes the runtime through garbage
collection; what this reconciler adds is the guard that an application still reading the data
keeps the Dataset (and therefore its cache) alive, with an event naming the pods.
"""

from __future__ import annotations

from typing import Any

import structlog

from fluidpy.api.v1alpha1.base import is_dns1035_label
from fluidpy.client import Client, Conflict, NotFound
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers.kinds import DATASET
from fluidpy.engines.base.volume import PVC, pods_using_claim
from fluidpy.events import EventRecorder

log = structlog.get_logger("fluidpy.controllers.dataset")

FINALIZER = "fluid-dataset-controller-finalizer"
NOT_BOUND = "NotBound"


class DatasetReconciler:
    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

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
        if FINALIZER not in finalizers:
            self.client.patch(
                DATASET,
                request.name,
                request.namespace,
                {
                    "metadata": {
                        "finalizers": [*finalizers, FINALIZER],
                        "resourceVersion": metadata["resourceVersion"],
                    }
                },
                ctx=ctx,
            )
        if not (dataset.get("status") or {}).get("phase"):
            self.client.patch_status(
                DATASET,
                request.name,
                request.namespace,
                {
                    "status": {"phase": NOT_BOUND, "conditions": []},
                },
                ctx=ctx,
            )
        return None

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
                return None
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

"""Fluid's controllers on fluidpy: the generic RuntimeReconciler per runtime kind, and Datasets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fluidpy.controller import (
    AnnotationsChanged,
    GenerationChanged,
    LabelsChanged,
    ObjectPredicate,
    Request,
    request_for_object,
)
from fluidpy.controllers.dataset import DatasetReconciler
from fluidpy.controllers.kinds import (
    ALLUXIO_RUNTIME,
    BUILTIN_KINDS,
    CACHE_RUNTIME,
    DATASET,
    JINDO_RUNTIME,
    POD,
    RuntimeKind,
    RuntimeMapper,
)
from fluidpy.controllers.runtime import RuntimeReconciler, RuntimeReconcilerOptions
from fluidpy.engines.base.ownership import CONFLICTS
from fluidpy.engines.base.volume import PV, PVC, claims_of_pod
from fluidpy.engines.factory import EngineFactory, default_factory
from fluidpy.manager import Manager
from fluidpy.workqueue import RateLimiter

RUNTIME_CHANGED = (
    GenerationChanged()
    | LabelsChanged()
    | AnnotationsChanged()
    | ObjectPredicate(lambda obj: bool(obj.get("metadata", {}).get("deletionTimestamp")))
)
"""Spec, metadata and deletion changes of a runtime; its own status writes do not wake it."""


@dataclass(frozen=True)
class ControllerOptions:
    workers: int = 3
    """Concurrent reconciles per controller (upstream's --runtime-workers default)."""
    rate_limiter: Callable[[], RateLimiter] | None = None
    """Makes each controller's own limiter (limiters keep per-key state, so controllers never
    share one). None: the default per-key 5 ms..1000 s backoff with an overall 10 qps / 100
    bucket."""

    reconcile_timeout: float = 120.0
    """Seconds one reconcile may take before its Context is cancelled (every API call and exec
    inside it ends with it): no single runtime holds a worker for long, whatever hangs. Twice
    the API server's own 60 s request timeout, so a slow but answering call still completes."""

    def new_rate_limiter(self) -> RateLimiter | None:
        return self.rate_limiter() if self.rate_limiter else None

    runtime: RuntimeReconcilerOptions = field(default_factory=RuntimeReconcilerOptions)


def _requests(mapper: RuntimeMapper) -> Any:
    def to_requests(obj: dict[str, Any]) -> list[Request]:
        return [Request(namespace, name) for namespace, name in mapper(obj)]

    return to_requests


def setup_runtime_controller(
    manager: Manager,
    kind: RuntimeKind,
    options: ControllerOptions | None = None,
    *,
    factory: EngineFactory = default_factory,
) -> RuntimeReconciler:
    options = options or ControllerOptions()
    reconciler = RuntimeReconciler(
        kind,
        manager.client,
        manager.event_recorder(f"{kind.gvk.kind}Controller"),
        factory=factory,
        options=options.runtime,
    )
    builder = manager.controller(kind.controller_name).for_(kind.gvk, predicates=[RUNTIME_CHANGED])
    for owned in kind.owned:
        builder.owns(owned)
    builder.watches(DATASET, request_for_object)
    builder.watches(POD, _requests(claims_of_pod))
    builder.watches(PVC, request_for_object)
    for gvk, mapper in kind.secondary_watches():
        builder.watches(gvk, _requests(mapper))
    for gvk in (*kind.owned, PVC, PV):
        # An object of a name the runtime needs that is not its own: its change or deletion
        # wakes the runtime waiting on it (NameConflict).
        builder.watches(gvk, _requests(CONFLICTS.mapper(gvk, kind.gvk.kind)))
    builder.with_options(
        max_concurrent_reconciles=options.workers,
        rate_limiter=options.new_rate_limiter(),
        reconcile_timeout=options.reconcile_timeout,
    ).complete(reconciler)
    return reconciler


def setup_dataset_controller(
    manager: Manager, options: ControllerOptions | None = None
) -> DatasetReconciler:
    options = options or ControllerOptions()
    reconciler = DatasetReconciler(manager.client, manager.event_recorder("DatasetController"))
    (
        manager.controller("dataset")
        .for_(DATASET)
        .watches(POD, _requests(claims_of_pod))
        .with_options(
            max_concurrent_reconciles=options.workers, rate_limiter=options.new_rate_limiter()
        )
        .complete(reconciler)
    )
    return reconciler


__all__ = [
    "ALLUXIO_RUNTIME",
    "BUILTIN_KINDS",
    "CACHE_RUNTIME",
    "JINDO_RUNTIME",
    "ControllerOptions",
    "DatasetReconciler",
    "RuntimeKind",
    "RuntimeReconciler",
    "RuntimeReconcilerOptions",
    "setup_dataset_controller",
    "setup_runtime_controller",
]

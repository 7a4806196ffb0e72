"""Fluid's controllers on fluidpy: the generic RuntimeReconciler per runtime kind, and Datasets."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fluidpy.client import GVK
from fluidpy.controller import (
    AnnotationsChanged,
    GenerationChanged,
    LabelsChanged,
    ObjectPredicate,
    Reconciler,
    Request,
    request_for_object,
)
from fluidpy.controllers.cache_views import CACHE_VIEWS
from fluidpy.controllers.dataload import DATALOAD, JOB, Clock, DataLoadReconciler, utc_now
from fluidpy.controllers.dataset import DatasetReconciler
from fluidpy.controllers.kinds import (
    ALLUXIO_RUNTIME,
    BUILTIN_KINDS,
    CACHE_RUNTIME,
    DATASET,
    JINDO_RUNTIME,
    RuntimeKind,
    RuntimeMapper,
)
from fluidpy.controllers.runtime import RuntimeReconciler, RuntimeReconcilerOptions
from fluidpy.engines.base.ownership import CONFLICTS
from fluidpy.engines.base.volume import PV, PVC
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

CLAIM_CHANGED = LabelsChanged() | ObjectPredicate(
    lambda obj: bool(obj.get("metadata", {}).get("deletionTimestamp"))
)
"""A runtime's PVC appearing, going, or relabelled: what its volume phase reads. Binding the
claim to its PV (kube-controller-manager's status and annotations, seconds to a minute after
the Dataset is Bound when many runtimes start at once) changes nothing a runtime reads, and
would cost each runtime one more pass just after binding."""


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
    wrap: Callable[[GVK, Reconciler], Reconciler] | None = None
    """Wraps each controller's reconciler, given its primary kind; None (the default) runs the
    reconcilers as they are. Sharding uses it for its drain gate (fluidpy.sharding.Shard.gate)."""

    def wrapped(self, gvk: GVK, reconciler: Reconciler) -> Reconciler:
        return self.wrap(gvk, reconciler) if self.wrap is not None else reconciler


def _requests(mapper: RuntimeMapper) -> Any:
    def to_requests(obj: dict[str, Any]) -> list[Request]:
        return [Request(namespace, name) for namespace, name in mapper(obj)]

    return to_requests


def runtimes_of_kind(manager: Manager, kind: RuntimeKind, map_fn: Any) -> Any:
    """`map_fn` (object -> requests named like the Dataset concerned), keeping only the requests
    for which the cache holds a runtime of `kind`: a Dataset or PVC event wakes
    the controller of the kind that serves that Dataset, not every runtime controller of the
    process. A runtime created after its Dataset is woken by its own creation and reads the
    Dataset then; until a kind's cache has synced, every request is kept.
    """
    cache = manager.cache

    def to_requests(obj: dict[str, Any]) -> list[Request]:
        return [
            r
            for r in map_fn(obj)
            if not cache.serves(kind.gvk, r.namespace)
            or cache.get(kind.gvk, r.name, r.namespace) is not None
        ]

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
    builder.watches(DATASET, runtimes_of_kind(manager, kind, request_for_object))
    builder.watches(
        PVC, runtimes_of_kind(manager, kind, request_for_object), predicates=[CLAIM_CHANGED]
    )
    for watch in kind.secondary_watches():
        builder.watches(watch.gvk, _requests(watch.mapper), label_selector=watch.label_selector)
    for gvk in (*kind.owned, PVC, PV):
        # An object of a name the runtime needs that is not its own: its change or deletion
        # wakes the runtime waiting on it (NameConflict).
        builder.watches(gvk, _requests(CONFLICTS.mapper(gvk, kind.gvk.kind)))
    builder.with_options(
        max_concurrent_reconciles=options.workers,
        rate_limiter=options.new_rate_limiter(),
        reconcile_timeout=options.reconcile_timeout,
    ).complete(options.wrapped(kind.gvk, reconciler))
    return reconciler


def setup_dataset_controller(
    manager: Manager, options: ControllerOptions | None = None
) -> DatasetReconciler:
    options = options or ControllerOptions()
    reconciler = DatasetReconciler(manager.client, manager.event_recorder("DatasetController"))
    (
        manager.controller("dataset")
        .for_(DATASET)
        .with_options(
            max_concurrent_reconciles=options.workers, rate_limiter=options.new_rate_limiter()
        )
        .complete(options.wrapped(DATASET, reconciler))
    )
    return reconciler


def setup_dataload_controller(
    manager: Manager,
    kinds: Sequence[RuntimeKind],
    options: ControllerOptions | None = None,
    *,
    factory: EngineFactory = default_factory,
    clock: Clock = utc_now,
) -> DataLoadReconciler:
    """DataLoads of Datasets served by `kinds`; their Dataset, runtimes, peers and Jobs wake
    them."""
    options = options or ControllerOptions()
    reconciler = DataLoadReconciler(
        manager.client,
        manager.event_recorder("DataLoadController"),
        kinds,
        factory=factory,
        engine_options=options.runtime.engine,
        clock=clock,
    )
    client = manager.client

    def dataloads_of(obj: Mapping[str, Any]) -> list[Request]:
        """The DataLoads of the Dataset `obj` is, or of the Dataset of the same name (its
        runtime), or of the Dataset the DataLoad `obj` loads (its peers)."""
        metadata = obj["metadata"]
        namespace = metadata.get("namespace", "")
        dataset = metadata["name"]
        if obj.get("kind") == DATALOAD.kind:
            dataset = ((obj.get("spec") or {}).get("dataset") or {}).get("name") or ""
        return [
            Request(namespace, load["metadata"]["name"])
            for load in client.list(DATALOAD, namespace)
            if ((load.get("spec") or {}).get("dataset") or {}).get("name") == dataset
        ]

    builder = manager.controller("dataload").for_(DATALOAD).owns(JOB)
    builder.watches(DATALOAD, dataloads_of)
    builder.watches(DATASET, dataloads_of)
    for kind in kinds:
        builder.watches(kind.gvk, dataloads_of)
    builder.with_options(
        max_concurrent_reconciles=options.workers, rate_limiter=options.new_rate_limiter()
    ).complete(reconciler)
    return reconciler


__all__ = [
    "ALLUXIO_RUNTIME",
    "BUILTIN_KINDS",
    "CACHE_RUNTIME",
    "CACHE_VIEWS",
    "CLAIM_CHANGED",
    "JINDO_RUNTIME",
    "ControllerOptions",
    "DataLoadReconciler",
    "DatasetReconciler",
    "RuntimeKind",
    "RuntimeReconciler",
    "RuntimeReconcilerOptions",
    "runtimes_of_kind",
    "setup_dataload_controller",
    "setup_dataset_controller",
    "setup_runtime_controller",
]

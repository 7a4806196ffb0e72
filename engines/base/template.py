"""TemplateEngine: Fluid's fixed Setup and Sync orders around any Implement.

The orders are the contract between the framework and engine authors (runtime-lifecycle.md):
an engine only answers questions and performs steps; when to ask and in which order is decided
here, once, for every cache system.

Each step gets an Implement bound to that step's context: the TemplateEngine builds it with
`implement_for(ctx)` (an Implement class will do), so a method reads the pass it belongs to
from `self.ctx`, set once at construction, and what an engine keeps between passes is whatever
`implement_for` hands every Implement it builds.

Slow probes (metadata sync, cache-state queries, UFS changes) run at most once per
`sync_interval`. Engines that have no slow probes pass None and every pass runs every step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fluidpy.engines.base import metrics
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.dataoperation import DataOperation
from fluidpy.engines.base.interfaces import Engine, Implement

BOUND = "Bound"


ImplementFactory = Callable[[ReconcileRequestContext], Implement]
"""Builds the Implement that serves one step of a pass, bound to that pass's context."""


class TemplateEngine(Engine):
    """Drives an Implement through Setup and Sync; delegates everything else to it."""

    def __init__(
        self,
        implement_for: ImplementFactory,
        engine_id: str,
        *,
        sync_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._implement_for = implement_for
        self._id = engine_id
        self._sync_interval = sync_interval
        self._clock = clock
        self._last_slow_sync: float | None = None

    def id(self) -> str:
        return self._id

    def _use(self, ctx: ReconcileRequestContext) -> Implement:
        return self._implement_for(ctx)

    def setup(self, ctx: ReconcileRequestContext) -> bool:
        impl = self._use(ctx)
        if impl.should_setup_master():
            impl.setup_master()
        if not impl.check_master_ready():
            return False
        if impl.should_check_ufs():
            impl.prepare_ufs()
        if impl.should_setup_workers():
            impl.setup_workers()
        if not impl.check_workers_ready():
            return False
        if not impl.check_and_update_runtime_status():
            return False
        impl.bind_to_dataset()
        return True

    def _permit_slow_sync(self) -> bool:
        if self._sync_interval is None:
            return True
        now = self._clock()
        if self._last_slow_sync is None or now - self._last_slow_sync >= self._sync_interval:
            self._last_slow_sync = now
            return True
        return False

    def sync(self, ctx: ReconcileRequestContext) -> float | None:
        impl = self._use(ctx)
        permit = self._permit_slow_sync()
        if permit:
            impl.sync_metadata()
        impl.sync_replicas(ctx)
        if impl.sync_runtime(ctx):
            return self._next_sync()
        try:
            impl.check_runtime_healthy()
        except Exception:
            kind = ctx.runtime.get("kind", "")
            labels = metrics.runtime_labels(kind, ctx.namespace, ctx.name)
            metrics.RUNTIME_HEALTH_CHECK_ERRORS.labels(*labels).inc()
            raise
        if permit:
            impl.check_and_update_runtime_status()
        impl.update_cache_of_dataset()
        if impl.should_sync_dataset_mounts():
            impl.sync_dataset_mounts()
        if permit:
            to_update = impl.should_update_ufs()
            if (
                to_update is not None
                and to_update.should_update()
                and impl.update_on_ufs_change(to_update)
            ):
                impl.update_dataset_status(BOUND)
        impl.sync_schedule_info_to_cache_nodes()
        return self._next_sync()

    def _next_sync(self) -> float | None:
        if self._sync_interval is None or self._last_slow_sync is None:
            return None
        return max(self._last_slow_sync + self._sync_interval - self._clock(), 0.0)

    def create_volume(self, ctx: ReconcileRequestContext) -> None:
        self._use(ctx).create_volume(ctx)

    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        self._use(ctx).delete_volume(ctx)

    def validate(self, ctx: ReconcileRequestContext) -> None:
        self._use(ctx).validate(ctx)

    def shutdown(self, ctx: ReconcileRequestContext) -> None:
        self._use(ctx).shutdown()

    def data_operation_pod_spec(
        self, ctx: ReconcileRequestContext, operation: DataOperation
    ) -> dict[str, Any]:
        return self._use(ctx).data_operation_pod_spec(ctx, operation)

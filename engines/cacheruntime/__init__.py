"""CacheRuntime: any cache system, described in YAML by a CacheRuntimeClass.

The package's public face is what the engine factory and the runtime controller look for:
`build` (the `cacheruntime` entry point), `RUNTIME_GVK`, `FINALIZER` and `secondary_watches`.
"""

from __future__ import annotations

from fluidpy.engines.base import Engine, ReconcileRequestContext
from fluidpy.engines.cacheruntime.debounce import DebouncedWriter
from fluidpy.engines.cacheruntime.dependents import secondary_watches
from fluidpy.engines.cacheruntime.engine import CacheRuntimeEngine
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, FINALIZER, RUNTIME_GVK, RUNTIME_TYPE


def build(engine_id: str, ctx: ReconcileRequestContext) -> Engine:
    """The engine of runtime ctx.namespace/ctx.name. No slow probes: every step is cheap
    (cache reads, applies skipped when nothing changed), so every pass runs every step."""
    writer = DebouncedWriter(
        (ctx.namespace, ctx.name), min_interval=ctx.options.config_write_interval
    )
    return CacheRuntimeEngine(ctx.namespace, ctx.name, engine_id=engine_id, writer=writer)


__all__ = [
    "CLASS_GVK",
    "FINALIZER",
    "RUNTIME_GVK",
    "RUNTIME_TYPE",
    "CacheRuntimeEngine",
    "build",
    "secondary_watches",
]

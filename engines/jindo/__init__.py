"""The Jindo-like engine: JindoRuntime objects served by a native JindoCache deployment.

`build` is the factory's entry point (`jindo = "fluidpy.engines.jindo:build"`). The CLI runs through
`exec_transport`, or through the Kubernetes exec API when it is None (the default); tests put a
RecordedExec there before the manager builds the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fluidpy.client import GVK
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.interfaces import Engine
from fluidpy.engines.jindo.engine import JindoEngine
from fluidpy.engines.jindo.render import APP
from fluidpy.engines.masterworker.engine import POD, build_engine
from fluidpy.engines.masterworker.exec import PodExec
from fluidpy.engines.masterworker.layout import pods_of

RUNTIME_GVK = GVK("data.fluid.io", "v1alpha1", "JindoRuntime")
FINALIZER = "jindo-runtime-controller-finalizer"

exec_transport: PodExec | None = None
"""The transport engines built from now on run the JindoCache CLI through; None means the
Kubernetes exec API on the manager's own connection."""


def build(engine_id: str, ctx: ReconcileRequestContext) -> Engine:
    return build_engine(JindoEngine, engine_id, ctx, exec_transport)


def secondary_watches() -> list[tuple[GVK, Callable[[dict[str, Any]], list[tuple[str, str]]]]]:
    """Pods of the runtime wake it: worker placement drives the cache node labels, and a
    master restart means its mounts must be checked."""
    return [(POD, pods_of(APP))]


__all__ = [
    "FINALIZER",
    "RUNTIME_GVK",
    "JindoEngine",
    "build",
    "exec_transport",
    "secondary_watches",
]

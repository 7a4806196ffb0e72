"""What a Master/Worker engine package exports, declared once.

The factory reads `build` from the package's entry point, the controller `secondary_watches`,
tests `RUNTIME_GVK` and `exec_transport`; these are the same for every engine of the family
but for the engine class and the runtime kind, so a package holds one `EnginePackage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluidpy.client import GVK
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.exec import PodExec
from fluidpy.engines.base.interfaces import Engine
from fluidpy.engines.masterworker.engine import POD, MasterWorkerEngine, build_engine
from fluidpy.engines.masterworker.layout import pods_of, pods_selector

GROUP_VERSION = ("data.fluid.io", "v1alpha1")


@dataclass
class EnginePackage:
    """An engine class, the kind it serves, and the CLI transport its engines use."""

    engine: type[MasterWorkerEngine]
    kind: str
    exec_transport: PodExec | None = None
    """The transport engines built from now on run the CLI through; None (the default) means
    the Kubernetes exec API on the manager's own connection. Tests put a RecordedExec here."""

    @property
    def runtime_gvk(self) -> GVK:
        return GVK(*GROUP_VERSION, self.kind)

    @property
    def finalizer(self) -> str:
        return f"{self.engine.runtime_type}-runtime-controller-finalizer"

    def build(self, engine_id: str, ctx: ReconcileRequestContext) -> Engine:
        return build_engine(self.engine, engine_id, ctx, self.exec_transport)

    def secondary_watches(
        self,
    ) -> list[tuple[GVK, Callable[[dict[str, Any]], list[tuple[str, str]]], str]]:
        """Pods of the runtime wake it: worker placement drives the cache node labels, and a
        master restart means its mounts must be checked. Only this engine's pods are watched
        (and cached), whatever else runs in the cluster."""
        app = self.engine.renderer.app
        return [(POD, pods_of(app), pods_selector(app))]

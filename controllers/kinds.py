"""The runtime kinds a manager can run, and what each one's controller watches.

A RuntimeKind ties a custom resource to an engine type of the factory. The built-in kinds use the
built-in engines; `with_engine()` points a kind at another engine (a third party's, or a test's),
which is how `fluidpy manager --engine jindoruntime=myengine` works.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from fluidpy.client import GVK

GROUP = "data.fluid.io"
VERSION = "v1alpha1"
DATASET = GVK(GROUP, VERSION, "Dataset")
STATEFULSET = GVK("apps", "v1", "StatefulSet")
DAEMONSET = GVK("apps", "v1", "DaemonSet")
DEPLOYMENT = GVK("apps", "v1", "Deployment")
SERVICE = GVK("", "v1", "Service")
CONFIGMAP = GVK("", "v1", "ConfigMap")
POD = GVK("", "v1", "Pod")

RuntimeMapper = Callable[[dict[str, Any]], list[tuple[str, str]]]
"""From an object of a watched kind to the (namespace, name) runtimes it affects."""


class SecondaryWatch(NamedTuple):
    """A watch beyond owned objects. Engines' `secondary_watches()` return these, or plain
    (gvk, mapper) pairs for whole kinds."""

    gvk: GVK
    mapper: RuntimeMapper
    label_selector: str | None = None
    """Watch only objects with these labels (None: every object of the kind), through an
    informer every controller asking for the same selection shares: an engine's pods, not
    the cluster's."""


@dataclass(frozen=True)
class RuntimeKind:
    """One runtime custom resource and the engine that serves it."""

    gvk: GVK
    engine_type: str
    finalizer: str
    owned: tuple[GVK, ...] = (STATEFULSET, DAEMONSET, DEPLOYMENT, SERVICE, CONFIGMAP)
    engine_module: str | None = None
    """The engine package whose `secondary_watches()` adds watches beyond owned objects."""
    extra_watches: tuple[SecondaryWatch, ...] = field(default=())
    dataset_runtime_type: str = ""
    """The `type` its engine writes in the Dataset's status.runtimes[] ("" means engine_type):
    with the name and namespace, it tells whether a Dataset is bound to this very runtime."""

    @property
    def runtime_type(self) -> str:
        return self.dataset_runtime_type or self.engine_type

    @property
    def controller_name(self) -> str:
        return self.gvk.kind.lower()

    def with_engine(self, engine_type: str) -> RuntimeKind:
        """The same kind, served by another engine (whose extra watches are not known here)."""
        return replace(self, engine_type=engine_type, engine_module=None, dataset_runtime_type="")

    def secondary_watches(self) -> list[SecondaryWatch]:
        watches = list(self.extra_watches)
        if self.engine_module:
            module = importlib.import_module(self.engine_module)
            provider = getattr(module, "secondary_watches", None)
            if provider is not None:
                watches.extend(SecondaryWatch(*watch) for watch in provider())
        return watches


CACHE_RUNTIME = RuntimeKind(
    GVK(GROUP, VERSION, "CacheRuntime"),
    engine_type="cacheruntime",
    finalizer="cache-runtime-controller-finalizer",
    engine_module="fluidpy.engines.cacheruntime",
    dataset_runtime_type="cache",
)
ALLUXIO_RUNTIME = RuntimeKind(
    GVK(GROUP, VERSION, "AlluxioRuntime"),
    engine_type="alluxio",
    finalizer="alluxio-runtime-controller-finalizer",
    engine_module="fluidpy.engines.alluxio",
    dataset_runtime_type="alluxio",
)
JINDO_RUNTIME = RuntimeKind(
    GVK(GROUP, VERSION, "JindoRuntime"),
    engine_type="jindo",
    finalizer="jindo-runtime-controller-finalizer",
    engine_module="fluidpy.engines.jindo",
    dataset_runtime_type="jindo",
)
BUILTIN_KINDS = {
    kind.controller_name: kind for kind in (CACHE_RUNTIME, ALLUXIO_RUNTIME, JINDO_RUNTIME)
}
"""By controller name: cacheruntime, alluxioruntime, jindoruntime."""

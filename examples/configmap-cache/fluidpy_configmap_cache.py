"""A cache system in one ConfigMap: the smallest complete fluidpy engine.

The "cache" is a ConfigMap named `<runtime>-cache` that lists the Dataset's mounts. Once it
exists, BaseImplement's defaults do the rest: bind the Dataset, make its PV and PVC, and leave
the ConfigMap to garbage collection when the runtime goes (it carries the runtime as owner).
"""

from __future__ import annotations

from typing import Any

from fluidpy.client import GVK
from fluidpy.engines.base import BaseImplement, Engine, ReconcileRequestContext, TemplateEngine

CONFIGMAP = GVK("", "v1", "ConfigMap")


class ConfigMapCache(BaseImplement):
    """One step of one pass: `self.ctx` holds the runtime, its Dataset and a client."""

    @property
    def cache_name(self) -> str:
        return f"{self.ctx.name}-cache"

    def setup_master(self) -> None:
        """Apply the ConfigMap (server-side apply: repeating it changes nothing)."""
        mounts = [m["mountPoint"] for m in self.ctx.dataset_spec.get("mounts") or []]
        config_map: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.cache_name,
                "namespace": self.ctx.namespace,
                "ownerReferences": [self.ctx.owner_reference],
            },
            "data": {"mounts": "\n".join(mounts)},
        }
        self.ctx.client.apply(config_map, ctx=self.ctx.ctx)

    def check_master_ready(self) -> bool:
        """Ready once the ConfigMap is there; the phase shows in `kubectl get`."""
        found = self.ctx.client.get(CONFIGMAP, self.cache_name, self.ctx.namespace)
        self.ctx.runtime_status["masterPhase"] = "Ready" if found else "NotReady"
        return found is not None


def build(engine_id: str, ctx: ReconcileRequestContext) -> Engine:
    """The entry point: each step of a pass gets a ConfigMapCache for that pass."""
    return TemplateEngine(ConfigMapCache, engine_id)

"""The runtime config every component reads: ConfigMap `fluid-runtime-config-<name>`, key
`runtime.json`, mounted at /etc/fluid/config.

The JSON carries every key of the integration guide's schema, always (a component script can
read any key without checking that it exists): mounts, targetPath, accessModes, one block per
component (`enabled` false for components the class lacks or the runtime disables) and the
topology of all three. `tieredStore` appears for components that have levels, `encryptOption`
for components whose class asks for the Dataset's Secrets; it holds file paths, never values.

The text is deterministic (fixed key order, sorted maps), so an unchanged runtime renders the
same bytes and the ConfigMap is written only when something really changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fluidpy.engines.cacheruntime.naming import COMPONENTS, CONFIG_KEY
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan
from fluidpy.engines.cacheruntime.render.workloads import object_metadata

Topology = Mapping[str, list[dict[str, str]]]


def component_config(plan: Plan, component: ComponentPlan) -> dict[str, Any]:
    block: dict[str, Any] = {
        "enabled": component.enabled,
        "options": component.options if component.enabled else {},
    }
    if not component.enabled:
        return block
    if component.tiered_levels:
        block["tieredStore"] = {
            "levels": [
                {
                    "path": level.path,
                    "high": level.high or "",
                    "low": level.low or "",
                    "quota": "" if level.quota is None else str(level.quota),
                }
                for level in component.tiered_levels
            ]
        }
    if component.mounts_secrets:
        block["encryptOption"] = plan.encrypt_option_files
    return block


def runtime_config(plan: Plan, topology: Topology) -> dict[str, Any]:
    """The runtime config document (the seed's schema, every key)."""
    document: dict[str, Any] = {
        "mounts": [dict(mount) for mount in plan.mounts],
        "targetPath": plan.target_path,
        "accessModes": list(plan.access_modes),
    }
    for name in COMPONENTS:
        document[name] = component_config(plan, plan.component(name))
    document["topology"] = {
        name: {
            "podConfigs": list(topology.get(name, [])) if plan.component(name).enabled else [],
            "service": {"name": plan.component(name).service_name},
        }
        for name in COMPONENTS
    }
    return document


def config_text(document: Mapping[str, Any]) -> str:
    """Indented for people reading the ConfigMap; key order as built."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_config_map(plan: Plan, text: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_metadata(plan, plan.config_map),
        "data": {CONFIG_KEY: text},
    }


def render_extra_config_maps(plan: Plan) -> list[dict[str, Any]]:
    """The class's extraResources.configMaps, in the runtime's namespace under their own names
    (so a pod template can mount them by name), owned by the runtime."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": object_metadata(plan, item["name"]),
            "data": dict(sorted(item["data"].items())),
        }
        for item in plan.extra_config_maps
    ]

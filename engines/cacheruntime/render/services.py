"""The headless Service a class may ask for on a StatefulSet component.

With it, pod `<name>-master-0` is reachable as `<name>-master-0.<name>-master`: the stable
names a cache cluster's members use to find each other. Not-ready pods are published too,
because members usually need those names before they can become ready.
"""

from __future__ import annotations

from typing import Any

from fluidpy.engines.cacheruntime.naming import selector_labels
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan
from fluidpy.engines.cacheruntime.render.workloads import object_metadata


def render_headless_service(plan: Plan, component: ComponentPlan) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_metadata(plan, component.service_name, component.component),
        "spec": {
            "clusterIP": "None",
            "selector": selector_labels(plan.name, component.component),
            "publishNotReadyAddresses": True,
        },
    }

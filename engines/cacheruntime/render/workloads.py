"""A component's workload: StatefulSet, DaemonSet or Deployment, as its class chooses.

Every workload is named `<name>-<component>`, labelled and selected by the runtime's and the
component's names, and controller-owned by the CacheRuntime, so Kubernetes' garbage collector
removes it with the runtime and the runtime's controller hears of every change to it.
"""

from __future__ import annotations

from typing import Any

from fluidpy.engines.cacheruntime.naming import DAEMONSET, DEPLOYMENT, STATEFULSET, selector_labels
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan
from fluidpy.engines.cacheruntime.render.podtemplate import render_pod_template


def object_metadata(plan: Plan, name: str, component: str | None = None) -> dict[str, Any]:
    """Name, namespace, the runtime's labels and its controller owner reference."""
    labels = (
        selector_labels(plan.name, component)
        if component
        else {"cacheruntime.fluid.io/name": plan.name}
    )
    return {
        "name": name,
        "namespace": plan.namespace,
        "labels": labels,
        "ownerReferences": [plan.owner_reference],
    }


def render_workload(plan: Plan, component: ComponentPlan) -> dict[str, Any]:
    labels = selector_labels(plan.name, component.component)
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": render_pod_template(plan, component),
    }
    kind = component.kind
    if kind == STATEFULSET.kind:
        spec["replicas"] = component.replicas
        # Peers of a cache cluster usually need each other to become ready (a master quorum),
        # so they start together instead of one after the other.
        spec["podManagementPolicy"] = "Parallel"
        if component.headless:
            spec["serviceName"] = component.service_name
    elif kind == DEPLOYMENT.kind:
        spec["replicas"] = component.replicas
    elif kind == DAEMONSET.kind and component.component == "client":
        # A rolling update would kill live FUSE mounts under running applications; with OnDelete
        # a client pod takes a new template only when it is recreated.
        spec["updateStrategy"] = {"type": "OnDelete"}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": object_metadata(plan, component.workload, component.component),
        "spec": spec,
    }

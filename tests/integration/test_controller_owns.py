"""A controller keeps the objects it owns as it renders them, reacting to their events.

The primary kind is a ConfigMap labelled role=parent; for each one the reconciler applies a child
ConfigMap carrying the parent's value and a controller owner reference. Changes to a child reach
its parent's reconcile through the owner mapping, so drift is repaired within moments, without
polling.
"""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.controller import LabelSelectorPredicate, Request, Result
from fluidpy.manager import Manager, ManagerOptions
from fluidpy.metrics import REGISTRY
from fluidpy.testing import LocalCluster, wait_for
from fluidpy.testing.manager import manager_running

pytestmark = pytest.mark.integration

WAIT = 60.0
CONFIGMAP = GVK("", "v1", "ConfigMap")


class ChildRenderer:
    """Applies `<parent>-child` with the parent's value; records every request it sees."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.requests: list[Request] = []

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        self.requests.append(request)
        parent = self.client.get(CONFIGMAP, request.name, request.namespace, ctx=ctx)
        if parent is None:
            return None
        self.client.apply(render_child(parent), ctx=ctx)
        return None


def render_child(parent: dict[str, Any]) -> dict[str, Any]:
    meta = parent["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{meta['name']}-child",
            "namespace": meta["namespace"],
            "labels": {"role": "child"},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "data": {"value": parent["data"]["value"]},
    }


def child_value(cluster: LocalCluster, namespace: str, name: str) -> str | None:
    obj = cluster.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")
    return None if obj is None else obj.get("data", {}).get("value")


def test_changes_to_owned_objects_reconcile_their_owner(
    cluster: LocalCluster, connection: Any, namespace: str
) -> None:
    manager = Manager(
        connection,
        ManagerOptions(
            namespaces=(namespace,),
            health_probe_bind_address="0",
            metrics_bind_address="0",
            handle_signals=False,
        ),
    )
    renderer = ChildRenderer(manager.client)
    (
        manager.controller("owns-test")
        .for_(CONFIGMAP, predicates=[LabelSelectorPredicate("role=parent")])
        .owns(CONFIGMAP)
        .complete(renderer)
    )
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    parent = Request(namespace, "p")
    with manager_running(manager, wait_ready=False):
        cluster.request(
            "POST",
            base,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "p", "labels": {"role": "parent"}},
                "data": {"value": "v1"},
            },
        )
        wait_for(
            lambda: child_value(cluster, namespace, "p-child") == "v1", "the child", timeout=WAIT
        )

        # Drift on the child: only its event, mapped to the owner, can trigger the repair.
        before = len(renderer.requests)
        cluster.request(
            "PATCH",
            f"{base}/p-child",
            {"data": {"value": "tampered"}},
            content_type="application/merge-patch+json",
        )
        wait_for(
            lambda: child_value(cluster, namespace, "p-child") == "v1", "the repair", timeout=WAIT
        )
        assert parent in renderer.requests[before:]

        # Deleting the child reconciles the owner too, which recreates it.
        cluster.request("DELETE", f"{base}/p-child")
        wait_for(
            lambda: child_value(cluster, namespace, "p-child") == "v1",
            "the re-creation",
            timeout=WAIT,
        )

        # A change of the parent's value flows down through the primary watch.
        cluster.request(
            "PATCH",
            f"{base}/p",
            {"data": {"value": "v2"}},
            content_type="application/merge-patch+json",
        )
        wait_for(
            lambda: child_value(cluster, namespace, "p-child") == "v2", "the update", timeout=WAIT
        )

    # Children are never reconciled themselves: they are not parents.
    assert {r.name for r in renderer.requests} == {"p"}
    successes = REGISTRY.get_sample_value(
        "controller_runtime_reconcile_total", {"controller": "owns-test", "result": "success"}
    )
    assert successes is not None and successes >= 4

"""Helpers for CacheRuntime tests on the local control plane: samples, reads, waits, events.

Classes are cluster-scoped, so a test that creates one removes it afterwards; tests that change
a class give it a name of their own (`kube.sample(..., class_suffix=True)`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.client import GVK, Client
from fluidpy.client.transport import Transport
from fluidpy.engines.base.volume import PV
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIGMAP,
    DATASET_GVK,
    NODE,
    POD,
    RUNTIME_GVK,
)
from fluidpy.testing import LocalCluster, wait_for

SAMPLES = Path(__file__).resolve().parents[3] / "config" / "samples" / "cacheruntime"
WAIT = 120.0
"""Generous: a loaded 2-core machine runs the control plane, kwok and the manager at once."""

EVENT = GVK("", "v1", "Event")
CLUSTER_SCOPED = {"CacheRuntimeClass"}
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


class Table:
    """What `kubectl get` receives and prints: the API server's Table rendering of a list."""

    def __init__(self, document: dict[str, Any]) -> None:
        assert document["kind"] == "Table", document
        self.document = document

    def cell(self, row_name: str, column: str) -> Any:
        names = [c["name"] for c in self.document["columnDefinitions"]]
        row = next(r for r in self.document["rows"] if r["object"]["metadata"]["name"] == row_name)
        return row["cells"][names.index(column)]


class Kube:
    """Reads and writes for one test namespace, with waits that fail saying what they saw."""

    def __init__(self, cluster: LocalCluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.client = Client(cluster.connection(), qps=0)
        self.classes: set[str] = set()
        self.labelled_nodes: set[tuple[str, str]] = set()

    # Objects -------------------------------------------------------------------------------

    def sample(self, filename: str, *, class_suffix: bool = False) -> dict[str, dict[str, Any]]:
        """A sample's objects by kind, in this namespace; with `class_suffix` its class gets a
        name of this test's own (so the test may change it)."""
        objects = {}
        for obj in yaml.safe_load_all((SAMPLES / filename).read_text()):
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = self.namespace
            objects[obj["kind"]] = obj
        if class_suffix:
            name = f"{objects['CacheRuntimeClass']['metadata']['name']}-{self.namespace}"
            objects["CacheRuntimeClass"]["metadata"]["name"] = name
            objects["CacheRuntime"]["spec"]["runtimeClassName"] = name
        return objects

    def create(self, *objects: dict[str, Any]) -> None:
        for obj in objects:
            if obj["kind"] == "CacheRuntimeClass":
                self.classes.add(obj["metadata"]["name"])
                self.client.apply(copy.deepcopy(obj))
            else:
                self.client.create(copy.deepcopy(obj))

    def get(self, gvk: GVK, name: str) -> dict[str, Any] | None:
        namespace = None if gvk in (CLASS_GVK, PV, NODE) else self.namespace
        return self.client.get(gvk, name, namespace)

    def must(self, gvk: GVK, name: str) -> dict[str, Any]:
        obj = self.get(gvk, name)
        assert obj is not None, f"{gvk.kind} {name} does not exist"
        return obj

    def patch(self, gvk: GVK, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        namespace = None if gvk in (CLASS_GVK, PV, NODE) else self.namespace
        return self.client.patch(gvk, name, namespace, patch)

    def delete(self, gvk: GVK, name: str) -> None:
        namespace = None if gvk in (CLASS_GVK, PV, NODE) else self.namespace
        self.client.delete(gvk, name, namespace)

    def table(self, plural: str, *, cluster_scoped: bool = False) -> Table:
        """`kubectl get <plural>` in this namespace (or cluster-wide), as a Table."""
        where = "" if cluster_scoped else f"namespaces/{self.namespace}/"
        path = f"/apis/data.fluid.io/v1alpha1/{where}{plural}"
        connection = self.cluster.connection()
        try:
            transport = Transport(connection, qps=0, burst=0, request_timeout=30.0)
            return Table(transport.accepting(TABLE, TABLE).request("GET", path))
        finally:
            connection.close()

    def pods(self, runtime: str, component: str) -> list[dict[str, Any]]:
        selector = (
            f"cacheruntime.fluid.io/name={runtime},cacheruntime.fluid.io/component-name={component}"
        )
        pods = self.client.list(POD, self.namespace, label_selector=selector)
        return sorted(
            (p for p in pods if not p["metadata"].get("deletionTimestamp")),
            key=lambda p: p["metadata"]["name"],
        )

    def runtime_config(self, runtime: str) -> dict[str, Any]:
        config_map = self.must(CONFIGMAP, f"fluid-runtime-config-{runtime}")
        document: dict[str, Any] = json.loads(config_map["data"]["runtime.json"])
        return document

    def fuse_label(self, dataset: dict[str, Any]) -> str:
        """The label Fluid's CSI plugin puts on nodes where the Dataset is mounted."""
        label = f"fluid.io/f-{self.namespace}-{dataset['metadata']['name']}"
        return label if len(label) < 63 else f"fluid.io/f-{dataset['metadata']['uid']}"

    def label_node(self, node: str, label: str) -> None:
        """Put a label on a node as Fluid's CSI plugin would; removed after the test."""
        self.labelled_nodes.add((node, label))
        self.patch(NODE, node, {"metadata": {"labels": {label: "true"}}})

    # Waiting -------------------------------------------------------------------------------

    def eventually(self, probe: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        return wait_for(probe, what, timeout=timeout, interval=0.2)

    def wait_bound(self, name: str) -> dict[str, Any]:
        def bound() -> dict[str, Any] | None:
            dataset = self.get(DATASET_GVK, name)
            status = (dataset or {}).get("status") or {}
            return dataset if status.get("phase") == "Bound" else None

        dataset: dict[str, Any] = self.eventually(bound, f"Dataset {name} Bound")
        return dataset

    def wait_condition(self, name: str, reason: str, kind: GVK = RUNTIME_GVK) -> dict[str, Any]:
        """The runtime's Ready condition once its reason is `reason`."""

        def found() -> dict[str, Any] | None:
            runtime = self.get(kind, name)
            for condition in ((runtime or {}).get("status") or {}).get("conditions") or []:
                if condition["type"] == "Ready" and condition.get("reason") == reason:
                    return dict(condition)
            return None

        condition: dict[str, Any] = self.eventually(found, f"{name} Ready condition {reason}")
        return condition

    def wait_event(self, name: str, reason: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for event in self.client.list(EVENT, self.namespace):
                involved = event.get("involvedObject") or {}
                if (
                    involved.get("kind") == "CacheRuntime"
                    and involved.get("name") == name
                    and event.get("reason") == reason
                ):
                    return event
            return None

        event: dict[str, Any] = self.eventually(found, f"a {reason} event on {name}")
        return event

    def cleanup(self) -> None:
        for node, label in self.labelled_nodes:
            self.patch(NODE, node, {"metadata": {"labels": {label: None}}})
        for runtime in self.client.list(RUNTIME_GVK, self.namespace):
            self.client.delete(RUNTIME_GVK, runtime["metadata"]["name"], self.namespace)
        self.eventually(
            lambda: not self.client.list(RUNTIME_GVK, self.namespace),
            "the test's runtimes to be deleted",
        )
        for name in self.classes:
            self.client.delete(CLASS_GVK, name)


@pytest.fixture
def kube(cluster: LocalCluster, namespace: str, manager: Any) -> Iterator[Kube]:
    """The helper for this test's namespace, with the manager running."""
    helper = Kube(cluster, namespace)
    try:
        yield helper
    finally:
        helper.cleanup()

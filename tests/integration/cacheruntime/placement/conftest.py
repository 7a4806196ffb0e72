"""Placement tests' helper: Datasets with their CacheRuntimes, where their workers run, and the
cache node labels Fluid puts on each node, computed from the pods.

Nodes are shared by the whole session, so the `caches` fixture puts back every `fluid.io/` and
`fluid_exclusive` label, every taint and every cordon a test changed, whatever the test left.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from fluidpy.client import Client
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.cacheruntime.naming import DATASET_GVK, NODE, RUNTIME_GVK
from fluidpy.testing import LocalCluster

CLASS_SAMPLE = "masterslave.yaml"
TIERED_BYTES = "2GiB"
"""One worker's tiered store in the sample: one disk level of 2Gi."""
DATASET_NUM = "fluid.io/dataset-num"
EXCLUSIVE_LABEL = "fluid_exclusive"


class Caches:
    """Datasets and their runtimes in one test's namespace, on the session's nodes."""

    def __init__(self, kube: Any, cluster: LocalCluster) -> None:
        self.kube = kube
        self.nodes = cluster.node_names()
        self.infos: dict[str, RuntimeInfo] = {}

    def create(
        self,
        name: str,
        *,
        workers: int,
        placement: str | None = None,
        dataset_spec: dict[str, Any] | None = None,
        worker_spec: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Dataset `name` (`placement` None: the default) and its CacheRuntime with `workers`
        workers, of the sample's class (created once per test); returns the Dataset."""
        objects = self.kube.sample(CLASS_SAMPLE, class_suffix=True)
        runtime_class = objects["CacheRuntimeClass"]
        if runtime_class["metadata"]["name"] not in self.kube.classes:
            self.kube.create(runtime_class)
        dataset = copy.deepcopy(objects["Dataset"])
        dataset["metadata"]["name"] = name
        dataset["spec"].update(dataset_spec or {})
        dataset["spec"].pop("placement", None)
        if placement:
            dataset["spec"]["placement"] = placement
        runtime = copy.deepcopy(objects["CacheRuntime"])
        runtime["metadata"]["name"] = name
        runtime["spec"]["worker"].update({**(worker_spec or {}), "replicas": workers})
        self.kube.create(dataset, runtime)
        created: dict[str, Any] = self.kube.must(DATASET_GVK, name)
        self.infos[name] = RuntimeInfo(
            name=name,
            namespace=self.kube.namespace,
            runtime_type="cache",
            owner_dataset_uid=created["metadata"]["uid"],
            placement=placement or "Exclusive",
        )
        return created

    def scale(self, name: str, workers: int) -> None:
        self.kube.patch(RUNTIME_GVK, name, {"spec": {"worker": {"replicas": workers}}})

    def worker_nodes(self, name: str) -> list[str]:
        """The nodes of the runtime's workers in pod order ("" for a pod not scheduled)."""
        return [(p.get("spec") or {}).get("nodeName", "") for p in self.kube.pods(name, "worker")]

    def scheduled(self, name: str, count: int) -> list[str]:
        """The workers' nodes, once exactly `count` workers exist and all are scheduled."""

        def placed() -> list[str] | None:
            nodes = self.worker_nodes(name)
            return nodes if len(nodes) == count and all(nodes) else None

        nodes: list[str] = self.kube.eventually(placed, f"{count} {name} workers scheduled")
        return nodes

    def expected_labels(self, names: list[str]) -> dict[str, dict[str, str]]:
        """Node -> the cache labels Fluid puts there for the Datasets `names`, from the nodes
        their workers run on now."""
        expected: dict[str, dict[str, str]] = {}
        for name in names:
            info = self.infos[name]
            for node in {n for n in self.worker_nodes(name) if n}:
                labels = expected.setdefault(node, {})
                labels[info.runtime_label] = "true"
                labels[info.common_label] = "true"
                labels[info.capacity_label("d")] = TIERED_BYTES
                labels[info.capacity_label("t")] = TIERED_BYTES
                if info.placement == "Exclusive":
                    labels[EXCLUSIVE_LABEL] = info.exclusive_label_value
                labels[DATASET_NUM] = str(int(labels.get(DATASET_NUM, "0")) + 1)
        return expected

    def cache_labels(self) -> dict[str, dict[str, str]]:
        """Node -> its cache labels (the test's own: `nodes_restored` removed any other)."""
        found = {}
        for name in self.nodes:
            labels = self.kube.must(NODE, name)["metadata"].get("labels") or {}
            found[name] = {k: v for k, v in labels.items() if _cache_label(k)}
        return found

    def labelled_as(self, names: list[str]) -> dict[str, dict[str, str]]:
        """The nodes' cache labels once they are those the workers of `names` call for."""

        def matching() -> dict[str, dict[str, str]] | None:
            expected = self.expected_labels(names)
            found = self.cache_labels()
            wanted = {node: expected.get(node, {}) for node in self.nodes}
            return found if found == wanted else None

        labels: dict[str, dict[str, str]] = self.kube.eventually(
            matching, f"the cache labels of {', '.join(names) or 'no Dataset'} on the nodes"
        )
        return labels


def _cache_label(key: str) -> bool:
    return key.startswith("fluid.io/s-") or key in (DATASET_NUM, EXCLUSIVE_LABEL)


def _fluid_label(key: str) -> bool:
    return key.startswith("fluid.io/") or key == EXCLUSIVE_LABEL


def restore_nodes(client: Client, before: dict[str, dict[str, Any]]) -> None:
    """Put back Fluid's labels, the taints and the cordon of every node as `before` had them."""
    for name, node in before.items():
        now = client.get(NODE, name) or {}
        was = node["metadata"].get("labels") or {}
        labels = now.get("metadata", {}).get("labels") or {}
        changed = {
            key: was.get(key)
            for key in {*was, *labels}
            if _fluid_label(key) and was.get(key) != labels.get(key)
        }
        patch: dict[str, Any] = {"metadata": {"labels": changed}} if changed else {}
        spec, spec_now = node.get("spec") or {}, now.get("spec") or {}
        for field in ("taints", "unschedulable"):
            if spec_now.get(field) != spec.get(field):
                patch.setdefault("spec", {})[field] = spec.get(field)
        if patch:
            client.patch(NODE, name, None, patch)


@pytest.fixture
def nodes_restored(cluster: LocalCluster) -> Iterator[Client]:
    """A client for the nodes, with no cache label during the test (earlier tests may leave
    theirs: their managers stop before their runtimes are deleted), put back as they were
    after it."""
    client = Client(cluster.connection(), qps=0)
    before = {name: client.get(NODE, name) or {} for name in cluster.node_names()}
    for name, node in before.items():
        stale = {k: None for k in node["metadata"].get("labels") or {} if _cache_label(k)}
        if stale:
            client.patch(NODE, name, None, {"metadata": {"labels": stale}})
    try:
        yield client
    finally:
        restore_nodes(client, before)


@pytest.fixture
def caches(nodes_restored: Client, kube: Any, cluster: LocalCluster) -> Caches:
    """The helper; its runtimes are deleted (by `kube`) before the nodes are put back."""
    return Caches(kube, cluster)

"""Placement of a CacheRuntime's pods and the cache node labels of the nodes its workers use."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import pytest

from fluidpy.engines.base import EngineError, EngineOptions, ReconcileRequestContext
from fluidpy.engines.cacheruntime.debounce import DebouncedWriter
from fluidpy.engines.cacheruntime.dependents import Dependents
from fluidpy.engines.cacheruntime.engine import CacheRuntimeEngine
from fluidpy.engines.cacheruntime.plan import Plan
from fluidpy.engines.cacheruntime.render.placement import cache_node_info, worker_nodes
from fluidpy.engines.cacheruntime.render.podtemplate import render_pod_template
from fluidpy.testing import FakeClient

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
GPU = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
ZONE_A = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
SSD = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
CACHE_LABELS = {
    "fluid.io/s-cache-default-demofs": "true",
    "fluid.io/s-default-demofs": "true",
    "fluid.io/s-h-cache-m-default-demofs": "40GiB",
    "fluid.io/s-h-cache-t-default-demofs": "40GiB",
    "fluid.io/dataset-num": "1",
}


def pod_spec(plan: Plan, component: str) -> dict[str, Any]:
    spec: dict[str, Any] = render_pod_template(plan, plan.component(component))["spec"]
    return spec


# Rendering -----------------------------------------------------------------------------------


def test_workers_carry_the_placement_labels_and_anti_affinity_of_the_dataset(make: Any) -> None:
    plan = make(lambda _, dataset, __: dataset["spec"].pop("placement"))

    template = render_pod_template(plan, plan.component("worker"))

    labels = template["metadata"]["labels"]
    assert labels["fluid.io/dataset"] == "default-demofs"
    assert labels["fluid.io/dataset-placement"] == "Exclusive"
    anti = template["spec"]["affinity"]["podAntiAffinity"][REQUIRED]
    assert anti[0]["labelSelector"]["matchExpressions"][0]["key"] == "fluid.io/dataset"
    for component in ("master", "client"):
        other = render_pod_template(plan, plan.component(component))
        assert "fluid.io/dataset" not in other["metadata"]["labels"]
        assert "affinity" not in other["spec"]


def test_the_classs_affinity_is_kept_and_crossed_with_the_datasets_node_affinity(
    make: Any,
) -> None:
    spread = {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": "zone"}

    def change(runtime_class: Any, dataset: Any, _: Any) -> None:
        runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]["affinity"] = {
            "podAntiAffinity": {REQUIRED: [spread]},
            "nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [ZONE_A]}},
        }
        dataset["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": [SSD]}}

    affinity = pod_spec(make(change), "worker")["affinity"]

    assert affinity["podAntiAffinity"][REQUIRED][0] == spread
    assert affinity["podAntiAffinity"][REQUIRED][1]["labelSelector"]["matchExpressions"] == [
        {"key": "fluid.io/dataset-placement", "operator": "In", "values": ["Exclusive"]}
    ]
    assert affinity["nodeAffinity"][REQUIRED] == {
        "nodeSelectorTerms": [
            {"matchExpressions": [*ZONE_A["matchExpressions"], *SSD["matchExpressions"]]}
        ]
    }


def test_every_component_tolerates_the_datasets_tolerations_after_the_classs(make: Any) -> None:
    own = {"key": "spot", "operator": "Exists"}

    def change(runtime_class: Any, dataset: Any, _: Any) -> None:
        runtime_class["topology"]["master"]["podTemplateSpec"]["spec"]["tolerations"] = [own]
        dataset["spec"]["tolerations"] = [GPU]

    plan = make(change)

    assert pod_spec(plan, "master")["tolerations"] == [GPU, own]
    assert pod_spec(plan, "worker")["tolerations"] == [GPU]
    assert pod_spec(plan, "client")["tolerations"] == [GPU]


def test_the_node_labels_carry_one_workers_memory_and_disk_capacity(make: Any) -> None:
    def change(_: Any, __: Any, runtime: Any) -> None:
        runtime["spec"]["worker"]["tieredStore"]["levels"].append(
            {"quota": "10Gi", "path": "/ssd", "medium": {"hostPath": {"path": "/mnt/ssd"}}}
        )

    info = cache_node_info(make(change))

    assert info.capacity_label("m") == "fluid.io/s-h-cache-m-default-demofs"
    assert [(level.medium, level.paths) for level in info.tiered_store] == [
        ("MEM", (("/cache-data", str(40 * 1024**3)),)),
        ("SSD", (("/ssd", str(10 * 1024**3)),)),
    ]


def test_only_pods_of_the_worker_workload_count(seed_plan: Plan) -> None:
    def pod(node: str, kind: str, owner: str) -> dict[str, Any]:
        reference = {"kind": kind, "name": owner, "controller": True}
        return {"metadata": {"ownerReferences": [reference]}, "spec": {"nodeName": node}}

    pods = [
        pod("a", "StatefulSet", "demofs-worker"),
        pod("b", "StatefulSet", "impostor"),
        pod("c", "ReplicaSet", "demofs-worker-5d8f"),
    ]

    assert worker_nodes(seed_plan.component("worker"), pods) == {"a"}


# The engine over an in-memory API server -----------------------------------------------------


class Nodes:
    """A runtime's engine (or a fresh one, as after a manager restart) and three nodes."""

    def __init__(self, client: FakeClient, seed: dict[str, Any], pass_context: Any) -> None:
        self.client, self.seed, self._context = client, seed, pass_context
        self.options = EngineOptions()
        for name in ("node-0", "node-1", "node-2"):
            client.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
        self.engine = self.new_engine()

    def new_engine(self) -> CacheRuntimeEngine:
        return CacheRuntimeEngine(
            "default",
            "demofs",
            dependents=Dependents(),
            writer=DebouncedWriter(("default", "demofs"), min_interval=0),
        )

    def context(self) -> ReconcileRequestContext:
        ctx: ReconcileRequestContext = self._context(
            self.client, self.seed["CacheRuntime"], self.seed["Dataset"]
        )
        return replace(ctx, options=self.options)

    def sync(self) -> ReconcileRequestContext:
        """One sync pass; an unhealthy cache (no workload is ready here) is expected."""
        ctx = self.context()
        self.engine.validate(ctx)
        with contextlib.suppress(EngineError):
            self.engine.sync(ctx)
        return ctx

    def worker_on(self, index: int, node: str) -> None:
        self.client.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"demofs-worker-{index}",
                    "namespace": "default",
                    "labels": {
                        "cacheruntime.fluid.io/name": "demofs",
                        "cacheruntime.fluid.io/component-name": "worker",
                    },
                    "ownerReferences": [
                        {"kind": "StatefulSet", "name": "demofs-worker", "controller": True}
                    ],
                },
                "spec": {"nodeName": node},
                "status": {"phase": "Running"},
            }
        )

    def labels(self, node: str) -> dict[str, str]:
        found = self.client.find("Node", node)
        assert found is not None
        return dict(found["metadata"].get("labels") or {})


def nodes(fake_client: Any, seed: Any, pass_context: Any) -> Nodes:
    seed["Dataset"]["spec"]["placement"] = "Exclusive"
    return Nodes(fake_client(*seed.values()), seed, pass_context)


@pytest.fixture
def one_worker(fake_client: Any, seed: Any, pass_context: Any) -> Nodes:
    """An Exclusive runtime synced once with its one worker on node-0."""
    cluster = nodes(fake_client, seed, pass_context)
    cluster.worker_on(0, "node-0")
    cluster.sync()
    return cluster


def test_the_nodes_of_the_workers_are_labelled_and_follow_them(
    fake_client: Any, seed: Any, pass_context: Any
) -> None:
    cluster = nodes(fake_client, seed, pass_context)
    cluster.worker_on(0, "node-0")
    cluster.worker_on(1, "node-1")

    cluster.sync()

    exclusive = {**CACHE_LABELS, "fluid_exclusive": "default_demofs"}
    assert cluster.labels("node-0") == exclusive
    assert cluster.labels("node-1") == exclusive
    assert cluster.labels("node-2") == {}

    cluster.worker_on(1, "node-2")  # the pod moved
    cluster.sync()

    assert cluster.labels("node-1") == {}
    assert cluster.labels("node-2") == exclusive


def test_nodes_the_exclude_selector_matches_are_never_labelled(
    fake_client: Any, seed: Any, pass_context: Any
) -> None:
    cluster = nodes(fake_client, seed, pass_context)
    cluster.options = EngineOptions(cache_node_exclude_selector="pool=managed-elsewhere")
    node_1 = cluster.client.find("Node", "node-1")
    assert node_1 is not None
    node_1["metadata"]["labels"] = {"pool": "managed-elsewhere"}
    cluster.worker_on(0, "node-0")
    cluster.worker_on(1, "node-1")

    cluster.sync()

    assert cluster.labels("node-0")["fluid.io/dataset-num"] == "1"
    assert cluster.labels("node-1") == {"pool": "managed-elsewhere"}


def test_a_restarted_manager_keeps_the_labels_and_the_count(one_worker: Nodes) -> None:
    cluster = one_worker
    before = cluster.labels("node-0")

    cluster.engine = cluster.new_engine()
    cluster.sync()
    cluster.sync()

    assert cluster.labels("node-0") == before
    assert before["fluid.io/dataset-num"] == "1"


def test_a_steady_runtime_reads_no_node(one_worker: Nodes) -> None:
    cluster = one_worker
    cluster.client.reads.clear()

    cluster.sync()

    assert [read for read in cluster.client.reads if read[0] == "Node"] == []


def test_deletion_removes_every_label_of_the_dataset_and_only_those(one_worker: Nodes) -> None:
    cluster = one_worker
    node = cluster.client.find("Node", "node-0")
    assert node is not None
    node["metadata"]["labels"].update(
        {"fluid.io/f-default-demofs": "true", "fluid.io/dataset-num": "2", "team": "a"}
    )

    cluster.engine.shutdown(cluster.context())

    assert cluster.labels("node-0") == {"fluid.io/dataset-num": "1", "team": "a"}


def test_status_cache_affinity_is_the_workers_node_affinity_with_their_node_selector(
    fake_client: Any, seed: Any, pass_context: Any
) -> None:
    seed["CacheRuntime"]["spec"]["worker"]["nodeSelector"] = {"pool": "cache"}
    cluster = nodes(fake_client, seed, pass_context)

    ctx = cluster.sync()

    affinity = ctx.runtime_status["cacheAffinity"]
    assert affinity[REQUIRED] == {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["cache"]}]}
        ]
    }
    preferred = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"][0]["key"] == "fluid.io/f-default-demofs"

"""Where a CacheRuntime's workers run (Dataset placement, node affinity, tolerations) and the
cache node labels that follow them, on the local control plane with the whole manager.

Pod anti-affinity terms without namespaces hold within the pod's namespace, so every Dataset of
a test lives in the test's namespace."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.cacheruntime.naming import (
    DAEMONSET,
    NODE,
    POD,
    RUNTIME_GVK,
    STATEFULSET,
)

pytestmark = pytest.mark.integration

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
TAINT = "fluidpy.io/placement-test"


def condition(kube: Any, name: str, kind: str) -> dict[str, Any] | None:
    status = kube.must(RUNTIME_GVK, name).get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == kind), None)


def test_exclusive_workers_take_a_node_each_and_keep_other_datasets_off_it(
    caches: Any, kube: Any
) -> None:
    free = len(caches.nodes) - 1
    caches.create("a", workers=free)
    kube.wait_bound("a")
    a_nodes = caches.scheduled("a", free)

    caches.create("b", workers=2)
    kube.wait_bound("b")

    def one_placed_one_pending() -> list[str] | None:
        nodes = caches.worker_nodes("b")
        return nodes if sorted(bool(n) for n in nodes) == [False, True] else None

    b_nodes = [n for n in kube.eventually(one_placed_one_pending, "one b worker pending") if n]
    assert len(set(a_nodes)) == free
    assert set(b_nodes).isdisjoint(a_nodes)
    workers_ready = kube.eventually(
        lambda: (
            (found := condition(kube, "b", "WorkersReady"))
            and "cannot be scheduled" in found["message"]
            and found
        ),
        "the scheduler's reason in b's WorkersReady condition",
    )
    assert workers_ready["message"].startswith("1 of 2 worker pods are ready; pod b-worker-")
    assert "anti-affinity" in workers_ready["message"]
    assert kube.must(RUNTIME_GVK, "b")["status"]["worker"]["phase"] == "PartialReady"
    caches.labelled_as(["a", "b"])


def test_shared_workers_share_nodes_with_shared_ones_but_not_with_exclusive_ones(
    caches: Any, kube: Any
) -> None:
    free = len(caches.nodes) - 1
    caches.create("solo", workers=1)
    [solo] = caches.scheduled("solo", 1)

    caches.create("s1", workers=free, placement="Shared")
    caches.create("s2", workers=free, placement="Shared")

    shared = caches.scheduled("s1", free) + caches.scheduled("s2", free)
    assert solo not in shared
    assert len(set(shared)) < len(shared)  # 2 x (nodes - 1) workers on nodes - 1 nodes
    labels = caches.labelled_as(["solo", "s1", "s2"])
    assert labels[solo]["fluid_exclusive"] == caches.infos["solo"].exclusive_label_value
    assert all("fluid_exclusive" not in labels[node] for node in shared)


def test_cache_labels_follow_the_workers_and_leave_with_the_runtime(caches: Any, kube: Any) -> None:
    dataset = caches.create("a", workers=2)
    kube.wait_bound("a")
    first, second = caches.scheduled("a", 2)
    info = caches.infos["a"]

    labels = caches.labelled_as(["a"])
    assert labels[first] == {
        info.runtime_label: "true",
        info.common_label: "true",
        info.capacity_label("d"): "2GiB",
        info.capacity_label("t"): "2GiB",
        "fluid_exclusive": info.exclusive_label_value,
        "fluid.io/dataset-num": "1",
    }

    caches.scale("a", 1)
    assert caches.scheduled("a", 1) == [first]
    assert caches.labelled_as(["a"])[second] == {}

    kube.patch(NODE, first, {"spec": {"unschedulable": True}})
    kube.delete(POD, "a-worker-0")
    [moved] = kube.eventually(
        lambda: (nodes := caches.worker_nodes("a")) and nodes[0] not in ("", first) and nodes,
        "a-worker-0 recreated on another node",
    )
    labels = caches.labelled_as(["a"])
    assert labels[first] == {}
    assert labels[moved]["fluid.io/dataset-num"] == "1"

    fuse = kube.fuse_label(dataset)
    kube.label_node(moved, fuse)
    kube.delete(RUNTIME_GVK, "a")
    kube.eventually(lambda: kube.get(RUNTIME_GVK, "a") is None, "the runtime gone")
    assert caches.cache_labels() == {node: {} for node in caches.nodes}
    assert fuse not in (kube.must(NODE, moved)["metadata"].get("labels") or {})


def test_the_datasets_node_affinity_and_tolerations_reach_the_pods_and_cache_affinity(
    caches: Any, kube: Any, nodes_restored: Any
) -> None:
    target = caches.nodes[-1]
    nodes_restored.patch(
        NODE, target, None, {"spec": {"taints": [{"key": TAINT, "effect": "NoSchedule"}]}}
    )
    toleration = {"key": TAINT, "operator": "Exists", "effect": "NoSchedule"}
    on_target = {"key": "kubernetes.io/hostname", "operator": "In", "values": [target]}

    caches.create(
        "pinned",
        workers=1,
        dataset_spec={
            "nodeAffinity": {
                "required": {"nodeSelectorTerms": [{"matchExpressions": [on_target]}]}
            },
            "tolerations": [toleration],
        },
        worker_spec={"nodeSelector": {"type": "kwok"}},
    )
    kube.wait_bound("pinned")

    assert caches.scheduled("pinned", 1) == [target]  # the only node, tainted, yet allowed
    for kind, component in (
        (STATEFULSET, "master"),
        (STATEFULSET, "worker"),
        (DAEMONSET, "client"),
    ):
        template = kube.must(kind, f"pinned-{component}")["spec"]["template"]
        assert template["spec"]["tolerations"] == [toleration], component
    [worker] = kube.pods("pinned", "worker")
    assert worker["metadata"]["labels"]["fluid.io/dataset-placement"] == "Exclusive"
    assert worker["metadata"]["labels"]["fluid.io/dataset"] == caches.infos["pinned"].dataset_id
    assert worker["spec"]["affinity"]["nodeAffinity"][REQUIRED] == {
        "nodeSelectorTerms": [{"matchExpressions": [on_target]}]
    }
    kwok = {"key": "type", "operator": "In", "values": ["kwok"]}
    fuse = {"key": caches.infos["pinned"].fuse_label, "operator": "In", "values": ["true"]}
    assert kube.must(RUNTIME_GVK, "pinned")["status"]["cacheAffinity"] == {
        REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [on_target, kwok]}]},
        PREFERRED: [{"weight": 100, "preference": {"matchExpressions": [fuse]}}],
    }

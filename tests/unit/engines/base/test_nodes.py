"""Cache node labels: what makes a node a cache node of a runtime, and what undoes it."""

from __future__ import annotations

from typing import Any

from fluidpy.engines.base.nodes import (
    DATASET_NUM_LABEL,
    EXCLUSIVE_LABEL,
    label_changes,
    scheduled_nodes,
    unlabel_changes,
)
from fluidpy.engines.base.runtime_info import SHARED, RuntimeInfo, TieredStoreLevel

GI = 1024**3


def info(placement: str = "Exclusive") -> RuntimeInfo:
    return RuntimeInfo(
        name="spark",
        namespace="default",
        runtime_type="alluxio",
        placement=placement,
        tiered_store=[
            TieredStoreLevel("MEM", (("/dev/shm", str(GI)),)),
            TieredStoreLevel("SSD", (("/a", str(2 * GI)),)),
        ],
    )


def test_a_new_cache_node_gets_upstreams_labels_and_a_dataset_count() -> None:
    patch = label_changes({"kubernetes.io/hostname": "node-1"}, info())

    assert patch == {
        "fluid.io/s-alluxio-default-spark": "true",
        "fluid.io/s-default-spark": "true",
        "fluid.io/s-h-alluxio-m-default-spark": "1GiB",
        "fluid.io/s-h-alluxio-d-default-spark": "2GiB",
        "fluid.io/s-h-alluxio-t-default-spark": "3GiB",
        EXCLUSIVE_LABEL: "default_spark",
        DATASET_NUM_LABEL: "1",
    }


def test_a_node_caching_another_dataset_counts_two_and_shared_placement_is_not_exclusive() -> None:
    patch = label_changes({DATASET_NUM_LABEL: "1"}, info(SHARED))

    assert patch[DATASET_NUM_LABEL] == "2"
    assert EXCLUSIVE_LABEL not in patch


def test_labelling_a_labelled_node_changes_nothing() -> None:
    current = {k: v for k, v in label_changes({}, info()).items() if v is not None}

    assert label_changes(current, info()) == {}


def test_unlabelling_removes_every_label_of_the_runtime_and_the_last_count() -> None:
    current = {k: v for k, v in label_changes({"other": "x"}, info()).items() if v is not None}

    patch = unlabel_changes(current, info())

    assert all(value is None for value in patch.values())
    assert set(patch) == set(current)


def test_unlabelling_keeps_another_datasets_exclusive_mark_and_decrements_the_count() -> None:
    current = {
        "fluid.io/s-alluxio-default-spark": "true",
        EXCLUSIVE_LABEL: "other_dataset",
        DATASET_NUM_LABEL: "2",
    }

    patch = unlabel_changes(current, info())

    assert EXCLUSIVE_LABEL not in patch
    assert patch[DATASET_NUM_LABEL] == "1"


def test_unlabelling_a_node_that_is_not_a_cache_node_changes_nothing() -> None:
    assert unlabel_changes({DATASET_NUM_LABEL: "1"}, info()) == {}


def test_a_dataset_turned_shared_drops_its_exclusive_mark_but_not_anothers() -> None:
    current = {k: v for k, v in label_changes({}, info()).items() if v is not None}

    assert label_changes(current, info(SHARED)) == {EXCLUSIVE_LABEL: None}
    assert label_changes({**current, EXCLUSIVE_LABEL: "other_x"}, info(SHARED)) == {}


def test_a_capacity_the_tiered_store_no_longer_has_is_removed() -> None:
    current = {k: v for k, v in label_changes({}, info()).items() if v is not None}
    memory_only = info()
    memory_only.tiered_store = memory_only.tiered_store[:1]

    patch = label_changes(current, memory_only)

    assert patch == {
        "fluid.io/s-h-alluxio-d-default-spark": None,
        "fluid.io/s-h-alluxio-t-default-spark": "1GiB",
    }


def test_scheduled_nodes_are_those_of_pods_placed_neither_terminating_nor_done() -> None:
    def pod(node: str = "", phase: str = "Running", deleting: bool = False) -> dict[str, Any]:
        metadata = {"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {}
        return {"metadata": metadata, "spec": {"nodeName": node}, "status": {"phase": phase}}

    pods = [pod("a"), pod("b", "Pending"), pod(), pod("c", deleting=True), pod("d", "Failed")]

    assert scheduled_nodes(pods) == {"a", "b"}


def test_names_too_long_for_labels_use_the_datasets_uid() -> None:
    uid = "6f1c2b5e-1111-2222-3333-444455556666"
    long = RuntimeInfo(
        name="d" * 20, namespace="n" * 50, runtime_type="cache", owner_dataset_uid=uid
    )

    patch = label_changes({}, long)

    assert patch[f"fluid.io/s-cache-{uid}"] == "true"
    assert patch[f"fluid.io/s-{uid}"] == "true"
    assert patch[EXCLUSIVE_LABEL] == uid
    assert all(
        len(key.partition("/")[2]) <= 63 and len(value or "") <= 63 for key, value in patch.items()
    )

"""A Dataset or PVC event wakes only the runtime controller whose kind has a
runtime named like the Dataset concerned, and a PVC only when it appears, goes or is
relabelled."""

from __future__ import annotations

from typing import Any

from fluidpy.client import GVK
from fluidpy.controller import Request, request_for_object
from fluidpy.controllers import ALLUXIO_RUNTIME, CACHE_RUNTIME, CLAIM_CHANGED, runtimes_of_kind

DATASET = {"kind": "Dataset", "metadata": {"name": "demo", "namespace": "ns"}}


class Cache:
    def __init__(self, runtimes: dict[str, list[str]], synced: bool = True) -> None:
        self.runtimes = runtimes
        self.synced = synced

    def serves(self, gvk: GVK, namespace: str | None = None) -> bool:
        return self.synced

    def get(self, gvk: GVK, name: str, namespace: str | None = None) -> Any:
        return {"metadata": {"name": name}} if name in self.runtimes.get(gvk.kind, []) else None


class Manager:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache


def test_only_the_kind_with_a_runtime_of_the_datasets_name_is_woken() -> None:
    manager: Any = Manager(Cache({"CacheRuntime": ["demo"], "AlluxioRuntime": ["other"]}))

    cache_runtimes = runtimes_of_kind(manager, CACHE_RUNTIME, request_for_object)
    alluxio_runtimes = runtimes_of_kind(manager, ALLUXIO_RUNTIME, request_for_object)

    assert cache_runtimes(DATASET) == [Request("ns", "demo")]
    assert alluxio_runtimes(DATASET) == []


def test_a_kind_whose_cache_is_not_synced_yet_is_woken_to_be_safe() -> None:
    manager: Any = Manager(Cache({}, synced=False))

    alluxio_runtimes = runtimes_of_kind(manager, ALLUXIO_RUNTIME, request_for_object)

    assert alluxio_runtimes(DATASET) == [Request("ns", "demo")]


def claim(**metadata: Any) -> dict[str, Any]:
    return {
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "demo", "namespace": "ns", "labels": {"a": "1"}, **metadata},
        "status": {"phase": "Pending"},
    }


def test_binding_a_claim_to_its_volume_wakes_no_runtime() -> None:
    """kube-controller-manager binds each PVC after its Dataset is Bound: at 1000 runtimes, one
    pass more for every runtime, for a change none of them reads."""
    bound = {
        **claim(annotations={"pv.kubernetes.io/bind-completed": "yes"}),
        "status": {"phase": "Bound"},
    }

    assert not CLAIM_CHANGED.update(claim(), bound)


def test_a_claim_appearing_going_or_relabelled_wakes_its_runtime() -> None:
    assert CLAIM_CHANGED.create(claim())
    assert CLAIM_CHANGED.delete(claim())
    assert CLAIM_CHANGED.update(claim(), claim(labels={"a": "2"}))
    assert CLAIM_CHANGED.update(claim(), claim(deletionTimestamp="2026-12-05T00:00:00Z"))

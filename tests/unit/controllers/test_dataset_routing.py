"""A Dataset event wakes only the runtime controller whose kind has a runtime of its name."""

from __future__ import annotations

from typing import Any

from fluidpy.client import GVK
from fluidpy.controller import Request
from fluidpy.controllers import ALLUXIO_RUNTIME, CACHE_RUNTIME, runtime_named_like_dataset

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

    assert runtime_named_like_dataset(manager, CACHE_RUNTIME)(DATASET) == [Request("ns", "demo")]
    assert runtime_named_like_dataset(manager, ALLUXIO_RUNTIME)(DATASET) == []


def test_a_kind_whose_cache_is_not_synced_yet_is_woken_to_be_safe() -> None:
    manager: Any = Manager(Cache({}, synced=False))

    assert runtime_named_like_dataset(manager, ALLUXIO_RUNTIME)(DATASET) == [Request("ns", "demo")]

"""What counts as a runtime's own object (engines.base.ownership), as pure decisions."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.engines.base.ownership import (
    CONFLICTS,
    NameConflict,
    apply_owned,
    check_name_free,
    controlled_by,
    owner_labels,
    same_owner,
)
from fluidpy.engines.base.status import bound_to_other_runtime

CONFIGMAP = GVK("", "v1", "ConfigMap")
RUNTIME = {
    "apiVersion": "data.fluid.io/v1alpha1",
    "kind": "CacheRuntime",
    "metadata": {"name": "demo", "namespace": "ns", "uid": "uid-1"},
}


def owned_by(uid: str, *, controller: bool = True) -> dict[str, Any]:
    reference = {"kind": "CacheRuntime", "name": "demo", "uid": uid, "controller": controller}
    return {
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "ns", "ownerReferences": [reference]},
    }


def test_ours_means_the_controller_reference_names_this_runtimes_uid() -> None:
    assert controlled_by(owned_by("uid-1"), RUNTIME)
    assert not controlled_by(owned_by("uid-2"), RUNTIME)
    assert not controlled_by(owned_by("uid-1", controller=False), RUNTIME)


def test_a_name_or_fluids_annotation_alone_is_not_ownership() -> None:
    lookalike = {
        "metadata": {
            "name": "demo",
            "namespace": "ns",
            "annotations": {"CreatedBy": "fluid"},
            "labels": {"fluid.io/dataset-id": "ns-demo"},
        }
    }

    assert not controlled_by(lookalike, RUNTIME)


def test_a_volume_is_ours_when_its_labels_name_the_runtimes_kind_namespace_name_and_uid() -> None:
    volume = {"metadata": {"name": "ns-demo", "labels": owner_labels(RUNTIME)}}
    other_uid = {
        "metadata": {
            "name": "ns-demo",
            "labels": {**owner_labels(RUNTIME), "fluid.io/owner-runtime-uid": "x"},
        }
    }

    assert controlled_by(volume, RUNTIME)
    assert not controlled_by(other_uid, RUNTIME)
    assert same_owner(volume, {"metadata": {"name": "ns-demo", "labels": owner_labels(RUNTIME)}})


def test_a_foreign_object_under_our_name_is_a_conflict_that_wakes_the_runtime_later() -> None:
    desired = owned_by("uid-1")
    desired["metadata"]["namespace"] = "conflicts"
    foreign = {"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "conflicts"}}

    with pytest.raises(NameConflict) as conflict:
        check_name_free(CONFIGMAP, desired, foreign)

    assert conflict.value.reason == "NameConflict"
    assert conflict.value.message.startswith(
        "ConfigMap conflicts/cm already exists and is not this runtime's (it has no controller"
    )
    wake = CONFLICTS.mapper(CONFIGMAP, "CacheRuntime")
    assert wake(foreign) == [("conflicts", "demo")]
    assert CONFLICTS.mapper(CONFIGMAP, "AlluxioRuntime")(foreign) == []

    check_name_free(CONFIGMAP, desired, None)

    assert wake(foreign) == []


@pytest.mark.parametrize(
    ("entry", "refused"),
    [
        ({"name": "demo", "namespace": "ns", "category": "Accelerate", "type": "cache"}, False),
        ({"name": "demo", "namespace": "ns", "category": "Accelerate", "type": "alluxio"}, True),
        ({"name": "other", "namespace": "ns", "category": "Accelerate", "type": "cache"}, True),
    ],
)
def test_a_dataset_is_this_runtimes_only_when_name_namespace_and_type_match(
    entry: dict[str, str], refused: bool
) -> None:
    dataset = {"status": {"runtimes": [entry]}}

    other = bound_to_other_runtime(dataset, "demo", "ns", "Accelerate", "cache")

    assert (other is not None) == refused


class Cache:
    def __init__(self, holds_every: bool) -> None:
        self._holds_every = holds_every

    def holds_every(self, gvk: GVK, namespace: str | None = None) -> bool:
        return self._holds_every


class Client:
    """Records the live reads and applies apply_owned makes."""

    def __init__(self, cache: Cache | None) -> None:
        self.cache = cache
        self.live_reads: list[str] = []
        self.applied: list[bool] = []

    @property
    def live(self) -> Client:
        return self

    def get(self, gvk: GVK, name: str, namespace: str | None = None, **_: Any) -> Any:
        self.live_reads.append(name)
        return None

    def apply(self, obj: dict[str, Any], *, force: bool, **_: Any) -> dict[str, Any]:
        self.applied.append(force)
        return obj


def desired_config_map() -> dict[str, Any]:
    return {"apiVersion": "v1", **owned_by("uid-1")}


def test_an_object_a_complete_cache_does_not_hold_is_created_without_a_read() -> None:
    client = Client(Cache(holds_every=True))

    apply_owned(client, desired_config_map(), None, None)  # type: ignore[arg-type]

    assert (client.live_reads, client.applied) == ([], [False])


@pytest.mark.parametrize("cache", [Cache(holds_every=False), None])
def test_an_object_a_narrowed_cache_does_not_hold_is_looked_up_first(cache: Cache | None) -> None:
    client = Client(cache)

    apply_owned(client, desired_config_map(), None, None)  # type: ignore[arg-type]

    assert (client.live_reads, client.applied) == (["cm"], [False])

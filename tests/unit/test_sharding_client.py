"""The shard's client labels what its controllers create under a main kind's ownership."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from fluidpy.client import GVK, ApiServerConnection, Client
from fluidpy.sharding import RingConfig
from fluidpy.sharding.client import ShardClient, field_takeover

RUNTIME = GVK("data.fluid.io", "v1alpha1", "CacheRuntime")
RING = RingConfig("ring", main_kinds=(RUNTIME,), controlled_kinds=(GVK("apps", "v1", "DaemonSet"),))


def daemonset(owner_kind: str, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "x",
            "namespace": "ns",
            "labels": {"app": "x"},
            "ownerReferences": [
                {
                    "apiVersion": "data.fluid.io/v1alpha1",
                    "kind": owner_kind,
                    "name": "data",
                    "controller": controller,
                }
            ],
        },
    }


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Mapping[str, Any]]]:
    objects: list[Mapping[str, Any]] = []

    def record(self: Client, obj: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        objects.append(obj)
        return {}

    monkeypatch.setattr(Client, "create", record)
    monkeypatch.setattr(Client, "apply", record)
    yield objects


def shard_client() -> ShardClient:
    return ShardClient(ApiServerConnection("http://127.0.0.1:9"), ring=RING, shard="a")


def test_objects_controlled_by_a_main_kind_get_the_shard_label(
    sent: list[Mapping[str, Any]],
) -> None:
    original = daemonset("CacheRuntime")
    shard_client().create(original)
    shard_client().apply(original)
    for obj in sent:
        assert obj["metadata"]["labels"] == {"app": "x", "shard.fluidpy.io/ring": "a"}
    assert original["metadata"]["labels"] == {"app": "x"}, "the caller's object is not changed"


@pytest.mark.parametrize("obj", [daemonset("Other"), daemonset("CacheRuntime", controller=False)])
def test_other_objects_are_sent_as_they_are(
    sent: list[Mapping[str, Any]], obj: dict[str, Any]
) -> None:
    shard_client().create(obj)
    assert sent == [obj]


def test_the_group_of_a_controlled_object_is_its_owners() -> None:
    assert RING.owner_group(daemonset("CacheRuntime")) == "ns/data"
    assert RING.owner_group(daemonset("Other")) is None


def test_a_shard_writes_under_its_own_field_manager() -> None:
    assert shard_client().field_manager == "fluidpy-a"


NOW = "2026-12-05T12:00:00Z"


def entry(manager: str, operation: str, **fields: Any) -> dict[str, Any]:
    return {"manager": manager, "operation": operation, "fieldsV1": {"f:data": fields}}


def test_a_shard_merges_other_shards_applied_fields_into_its_own_and_drops_their_entries() -> None:
    entries = [
        entry("fluidpy-b", "Apply", **{"f:old": {}, "f:both": {}}),
        entry("kube-controller-manager", "Update", **{"f:x": {}}),
        entry("fluidpy-a", "Apply", **{"f:both": {}, "f:new": {}}),
        entry("fluidpy", "Apply", **{"f:older": {}}),
        entry("fluidpy-b", "Update", **{"f:status": {}}),
        entry("kubectl", "Apply", **{"f:theirs": {}}),
        {**entry("fluidpy-b", "Apply"), "subresource": "status"},
    ]
    takeover = field_takeover(entries, "fluidpy-a", "fluidpy", NOW)
    assert takeover is not None
    union = {"f:data": {"f:both": {}, "f:new": {}, "f:old": {}, "f:older": {}}}
    assert takeover.patch == [
        {"op": "test", "path": "/metadata/managedFields/2/manager", "value": "fluidpy-a"},
        {"op": "replace", "path": "/metadata/managedFields/2/fieldsV1", "value": union},
        {"op": "add", "path": "/metadata/managedFields/2/time", "value": NOW},
        {"op": "test", "path": "/metadata/managedFields/3/manager", "value": "fluidpy"},
        {"op": "remove", "path": "/metadata/managedFields/3"},
        {"op": "test", "path": "/metadata/managedFields/0/manager", "value": "fluidpy-b"},
        {"op": "remove", "path": "/metadata/managedFields/0"},
    ]
    assert takeover.previous == ["fluidpy-b", "fluidpy"]
    assert takeover.gained


def test_taking_over_fields_it_already_owns_gains_nothing() -> None:
    entries = [
        entry("fluidpy-b", "Apply", **{"f:a": {}}),
        entry("fluidpy-a", "Apply", **{"f:a": {}}),
    ]
    takeover = field_takeover(entries, "fluidpy-a", "fluidpy", NOW)
    assert takeover is not None and not takeover.gained


def test_alone_there_is_nothing_to_take_over() -> None:
    assert field_takeover([entry("fluidpy-a", "Apply")], "fluidpy-a", "fluidpy", NOW) is None
    assert field_takeover([entry("fluidpy-b", "Update")], "fluidpy-a", "fluidpy", NOW) is None

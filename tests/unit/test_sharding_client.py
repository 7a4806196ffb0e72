"""The shard's client labels what its controllers create under a main kind's ownership."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from kubernetes import client as k8s

from fluidpy.client import GVK, Client
from fluidpy.sharding import RingConfig
from fluidpy.sharding.client import ShardClient

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
    return ShardClient(k8s.ApiClient(k8s.Configuration()), ring=RING, shard="a")


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


def applied_with(*entries: tuple[str, str]) -> dict[str, Any]:
    managed = [{"manager": manager, "operation": operation} for manager, operation in entries]
    return {
        **daemonset("CacheRuntime"),
        "metadata": {"name": "x", "namespace": "ns", "managedFields": managed},
    }


def test_applying_over_other_shards_applies_takes_over_their_field_ownership(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied = applied_with(
        ("fluidpy-b", "Apply"),
        ("kube-controller-manager", "Update"),
        ("fluidpy-a", "Apply"),
        ("fluidpy", "Apply"),
        ("fluidpy-b", "Update"),
        ("kubectl", "Apply"),
    )
    patches: list[list[dict[str, Any]]] = []
    monkeypatch.setattr(Client, "apply", lambda self, obj, **kwargs: applied)
    monkeypatch.setattr(
        Client, "patch", lambda self, gvk, name, ns, patch, **kwargs: patches.append(patch)
    )
    shard_client().apply(daemonset("CacheRuntime"))
    assert patches == [
        [
            {"op": "test", "path": "/metadata/managedFields/3/manager", "value": "fluidpy"},
            {"op": "remove", "path": "/metadata/managedFields/3"},
            {"op": "test", "path": "/metadata/managedFields/0/manager", "value": "fluidpy-b"},
            {"op": "remove", "path": "/metadata/managedFields/0"},
        ]
    ]


def test_applying_alone_sends_nothing_more(monkeypatch: pytest.MonkeyPatch) -> None:
    applied = applied_with(("fluidpy-a", "Apply"), ("fluidpy-b", "Update"))
    monkeypatch.setattr(Client, "apply", lambda self, obj, **kwargs: applied)
    monkeypatch.setattr(Client, "patch", lambda *args, **kwargs: pytest.fail("patched"))
    shard_client().apply(daemonset("CacheRuntime"))

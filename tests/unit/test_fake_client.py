"""fluidpy.testing.FakeClient keeps the API server's rules an engine's unit test relies on."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import GVK, AlreadyExists, Conflict, NotFound, TransportError
from fluidpy.testing import FakeClient, ObjectStore

CONFIGMAP = GVK("", "v1", "ConfigMap")
NODE = GVK("", "v1", "Node")


def config_map(name: str = "cm", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns", "labels": labels},
        "data": {"a": "1"},
    }


def test_every_write_gets_a_new_resource_version_and_a_stale_one_conflicts() -> None:
    client = FakeClient()
    created = client.create(config_map())
    updated = client.update({**created, "data": {"a": "2"}})

    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    with pytest.raises(Conflict):
        client.update({**created, "data": {"a": "3"}})
    with pytest.raises(Conflict):
        client.patch(CONFIGMAP, "cm", "ns", {"metadata": created["metadata"], "data": {}})
    with pytest.raises(AlreadyExists):
        client.create(config_map())
    with pytest.raises(NotFound):
        client.patch(CONFIGMAP, "other", "ns", {"data": {}})


def test_a_merge_patch_merges_objects_replaces_values_and_deletes_nulls() -> None:
    client = FakeClient(config_map(app="x", tier="cache"))

    patched = client.patch(CONFIGMAP, "cm", "ns", {"metadata": {"labels": {"tier": None}}})

    assert patched["metadata"]["labels"] == {"app": "x"}
    assert patched["data"] == {"a": "1"}


def test_apply_creates_then_sets_the_applied_fields_and_keeps_status_and_other_labels() -> None:
    client = FakeClient()
    client.apply(config_map(app="x"))
    client.put({**client.get(CONFIGMAP, "cm", "ns"), "status": {"seen": True}})  # type: ignore[dict-item]

    applied = client.apply({**config_map(tier="cache"), "data": {"b": "2"}})

    assert applied["metadata"]["labels"] == {"app": "x", "tier": "cache"}
    assert applied["data"] == {"b": "2"}
    assert applied["status"] == {"seen": True}
    assert client.writes == [("apply", "ConfigMap", "cm"), ("apply", "ConfigMap", "cm")]


def test_generation_counts_spec_changes_only() -> None:
    client = FakeClient({**config_map(), "spec": {"replicas": 1}})

    same = client.patch(CONFIGMAP, "cm", "ns", {"metadata": {"labels": {"a": "b"}}})
    changed = client.patch(CONFIGMAP, "cm", "ns", {"spec": {"replicas": 2}})

    assert (same["metadata"]["generation"], changed["metadata"]["generation"]) == (1, 2)


def test_lists_honour_namespaces_label_and_field_selectors() -> None:
    client = FakeClient(
        config_map("a", app="x"),
        config_map("b", app="y"),
        {**config_map("c", app="x"), "metadata": {"name": "c", "namespace": "other"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
    )

    def names(**query: Any) -> list[str]:
        return [o["metadata"]["name"] for o in client.list(CONFIGMAP, **query)]

    assert names(namespace="ns") == ["a", "b"]
    assert names() == ["a", "b", "c"]
    assert names(namespace="ns", label_selector="app=x") == ["a"]
    assert names(field_selector="metadata.name!=a") == ["b", "c"]
    assert "namespace" not in client.get(NODE, "n1")["metadata"]  # type: ignore[index]


def test_deleting_an_object_with_finalizers_waits_for_them() -> None:
    client = FakeClient({**config_map(), "metadata": {"name": "cm", "namespace": "ns"}})
    client.patch(CONFIGMAP, "cm", "ns", {"metadata": {"finalizers": ["keep"]}})

    assert client.delete(CONFIGMAP, "cm", "ns") is True
    assert client.get(CONFIGMAP, "cm", "ns")["metadata"]["deletionTimestamp"]  # type: ignore[index]
    client.patch(CONFIGMAP, "cm", "ns", {"metadata": {"finalizers": None}})
    assert client.get(CONFIGMAP, "cm", "ns") is None
    assert client.delete(CONFIGMAP, "cm", "ns") is False


def test_status_writes_touch_only_status() -> None:
    client = FakeClient(config_map())

    client.patch_status(CONFIGMAP, "cm", "ns", {"status": {"phase": "Ready"}, "data": {}})

    stored = client.get(CONFIGMAP, "cm", "ns")
    assert stored is not None
    assert (stored["status"], stored["data"]) == ({"phase": "Ready"}, {"a": "1"})


def test_clients_sharing_a_store_see_each_other_and_one_can_be_cut_off() -> None:
    store = ObjectStore()
    first, second = FakeClient(store=store), FakeClient(store=store)
    first.create(config_map())
    second.unreachable = True

    assert first.get(CONFIGMAP, "cm", "ns") is not None
    with pytest.raises(TransportError):
        second.get(CONFIGMAP, "cm", "ns")

"""The informer store: keys, built-in and custom indexes, and the relist diff."""

from typing import Any

import pytest

from fluidpy.informer import (
    LABEL_INDEX,
    Change,
    Store,
    diff,
    label_index,
    label_key,
    object_key,
    owner_key,
)
from fluidpy.informer.store import namespace_index, owner_index


def obj(name: str, namespace: str | None = "ns", rv: str = "1", **metadata: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "resourceVersion": rv, **metadata}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


def controlled_by(kind: str, name: str) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Other", "name": "not-the-controller", "uid": "u0"},
        {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "u1", "controller": True},
    ]


class TestKeysAndBuiltinIndexes:
    def test_namespaced_key_is_namespace_slash_name(self) -> None:
        assert object_key(obj("web-0", "prod")) == "prod/web-0"

    def test_cluster_scoped_key_is_the_name(self) -> None:
        assert object_key(obj("node-1", None)) == "node-1"

    def test_namespace_index_is_empty_for_cluster_scoped_objects(self) -> None:
        assert namespace_index(obj("a", "prod")) == ["prod"]
        assert namespace_index(obj("n", None)) == []

    def test_owner_index_uses_only_the_controller_reference(self) -> None:
        pod = obj("web-0", "prod", ownerReferences=controlled_by("StatefulSet", "web"))
        assert (
            owner_index(pod)
            == ["prod/StatefulSet/web"]
            == [owner_key("StatefulSet", "web", "prod")]
        )

    def test_owner_index_of_cluster_scoped_object_has_no_namespace(self) -> None:
        pv = obj("pv-1", None, ownerReferences=controlled_by("Dataset", "hbase"))
        assert owner_index(pv) == ["Dataset/hbase"]

    def test_objects_without_a_controller_have_no_owner_value(self) -> None:
        refs = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u"}]
        assert owner_index(obj("a", ownerReferences=refs)) == []


class TestStore:
    def test_upsert_returns_the_replaced_object(self) -> None:
        store = Store()
        first, second = obj("a", rv="1"), obj("a", rv="2")
        assert store.upsert("ns/a", first) is None
        assert store.upsert("ns/a", second) is first
        assert store.get("ns/a") is second
        assert len(store) == 1

    def test_delete_returns_the_removed_object_or_none(self) -> None:
        store = Store()
        a = obj("a")
        store.upsert("ns/a", a)
        assert store.delete("ns/a") is a
        assert store.delete("ns/a") is None
        assert store.list() == []

    def test_indexes_follow_updates_and_deletes(self) -> None:
        store = Store()
        store.upsert("ns/p", obj("p", ownerReferences=controlled_by("StatefulSet", "a")))
        assert [o["metadata"]["name"] for o in store.by_index("owner", "ns/StatefulSet/a")] == ["p"]
        store.upsert("ns/p", obj("p", rv="2", ownerReferences=controlled_by("StatefulSet", "b")))
        assert store.by_index("owner", "ns/StatefulSet/a") == []
        assert len(store.by_index("owner", "ns/StatefulSet/b")) == 1
        store.delete("ns/p")
        assert store.by_index("owner", "ns/StatefulSet/b") == []
        assert store.by_index("namespace", "ns") == []

    def test_custom_index_covers_objects_stored_before_it_was_added(self) -> None:
        store = Store()
        store.upsert("ns/a", obj("a", labels={"app": "web"}))
        store.upsert("ns/b", obj("b", labels={"app": "db"}))
        store.add_indexers({"app": lambda o: [o["metadata"].get("labels", {}).get("app", "")]})
        store.upsert("ns/c", obj("c", labels={"app": "web"}))
        names = sorted(o["metadata"]["name"] for o in store.by_index("app", "web"))
        assert names == ["a", "c"]

    def test_index_names_cannot_be_reused(self) -> None:
        with pytest.raises(ValueError, match="namespace"):
            Store().add_indexers({"namespace": lambda o: []})

    def test_unknown_index_is_a_key_error(self) -> None:
        with pytest.raises(KeyError, match="nope"):
            Store().by_index("nope", "x")

    def test_index_function_may_return_several_values(self) -> None:
        store = Store({"port": lambda o: ["80", "443"]})
        store.upsert("ns/a", obj("a"))
        assert store.by_index("port", "80") == store.by_index("port", "443") == [obj("a")]


class TestLabelIndex:
    def test_an_object_is_found_by_each_of_its_labels_in_its_namespace(self) -> None:
        store = Store({LABEL_INDEX: label_index})
        store.upsert("a/w", obj("w", "a", labels={"app": "web", "tier": "front"}))
        store.upsert("b/w", obj("w", "b", labels={"app": "web"}))

        assert [o["metadata"]["namespace"] for o in store.by_index(LABEL_INDEX, "a/app=web")] == [
            "a"
        ]
        assert len(store.by_index(LABEL_INDEX, label_key("tier", "front", "a"))) == 1
        assert store.by_index(LABEL_INDEX, label_key("tier", "front", "b")) == []

    def test_cluster_scoped_objects_are_indexed_without_a_namespace(self) -> None:
        assert label_index(obj("node-1", None, labels={"zone": "z1"})) == ["zone=z1"]

    def test_a_relabelled_object_moves_in_the_index(self) -> None:
        store = Store({LABEL_INDEX: label_index})
        store.upsert("ns/w", obj("w", labels={"role": "worker"}))
        store.upsert("ns/w", obj("w", rv="2", labels={"role": "master"}))

        assert store.by_index(LABEL_INDEX, "ns/role=worker") == []
        assert len(store.by_index(LABEL_INDEX, "ns/role=master")) == 1

    def test_an_index_ensured_twice_is_built_once_over_what_is_stored(self) -> None:
        store = Store()
        store.upsert("ns/w", obj("w", labels={"app": "web"}))
        store.ensure_indexer(LABEL_INDEX, label_index)
        store.ensure_indexer(LABEL_INDEX, label_index)

        assert len(store.by_index(LABEL_INDEX, "ns/app=web")) == 1


class TestDiff:
    def test_relist_yields_adds_updates_and_deletes_but_nothing_for_unchanged(self) -> None:
        current = {"ns/same": obj("same"), "ns/changed": obj("changed"), "ns/gone": obj("gone")}
        fresh = {"ns/same": obj("same"), "ns/changed": obj("changed", rv="7"), "ns/new": obj("new")}
        assert diff(current, fresh) == [
            Change("delete", "ns/gone", current["ns/gone"], None),
            Change("update", "ns/changed", current["ns/changed"], fresh["ns/changed"]),
            Change("add", "ns/new", None, fresh["ns/new"]),
        ]

    def test_without_resource_versions_content_decides(self) -> None:
        old = {"k": {"metadata": {"name": "k"}, "data": {"a": "1"}}}
        assert diff(old, {"k": {"metadata": {"name": "k"}, "data": {"a": "1"}}}) == []
        assert [c.type for c in diff(old, {"k": {"metadata": {"name": "k"}, "data": {}}})] == [
            "update"
        ]

    def test_replace_applies_the_diff_to_the_store_and_its_indexes(self) -> None:
        store = Store()
        store.upsert("ns/gone", obj("gone"))
        store.upsert("ns/kept", obj("kept"))
        changes = store.replace({"ns/kept": obj("kept", rv="2"), "ns/new": obj("new")})
        assert sorted((c.type, c.key) for c in changes) == [
            ("add", "ns/new"),
            ("delete", "ns/gone"),
            ("update", "ns/kept"),
        ]
        assert sorted(store.keys()) == ["ns/kept", "ns/new"]
        assert len(store.by_index("namespace", "ns")) == 2

    def test_replace_of_one_namespace_leaves_the_others_alone(self) -> None:
        store = Store()
        store.upsert("a/x", obj("x", "a"))
        store.upsert("b/y", obj("y", "b"))
        changes = store.replace({}, namespace="a")
        assert [(c.type, c.key) for c in changes] == [("delete", "a/x")]
        assert store.keys() == ["b/y"]

"""Event handlers map watch events to requests, with owner mapping and priorities."""

from __future__ import annotations

from typing import Any

from fluidpy.client import GVK
from fluidpy.controller import (
    EnqueueHandler,
    GenerationChanged,
    Request,
    owner_mapper,
    request_for_object,
)
from fluidpy.workqueue import LOW_PRIORITY

DATASET = GVK("data.fluid.io", "v1alpha1", "Dataset")


class Sink:
    def __init__(self) -> None:
        self.added: list[tuple[Request, int]] = []

    def add(self, item: Request, priority: int = 0) -> None:
        self.added.append((item, priority))


def owned(
    name: str = "child",
    namespace: str | None = "ns",
    owners: list[dict[str, Any]] | None = None,
    rv: str = "1",
    generation: int = 1,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "resourceVersion": rv, "generation": generation}
    if namespace is not None:
        meta["namespace"] = namespace
    if owners is not None:
        meta["ownerReferences"] = owners
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def ref(
    name: str,
    kind: str = "Dataset",
    api_version: str = "data.fluid.io/v1alpha1",
    controller: bool | None = True,
) -> dict[str, Any]:
    r: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": name, "uid": "u"}
    if controller is not None:
        r["controller"] = controller
    return r


def test_request_for_object_names_the_object() -> None:
    assert request_for_object(owned("a", "ns")) == [Request("ns", "a")]
    assert request_for_object(owned("node-1", None)) == [Request("", "node-1")]


def test_owner_mapper_follows_the_controller_owner_reference() -> None:
    mapper = owner_mapper(DATASET)
    obj = owned(owners=[ref("other", controller=False), ref("mine")])
    assert mapper(obj) == [Request("ns", "mine")]


def test_owner_mapper_ignores_non_controller_owners() -> None:
    mapper = owner_mapper(DATASET)
    assert mapper(owned(owners=[ref("a", controller=False), ref("b", controller=None)])) == []
    assert mapper(owned(owners=None)) == []


def test_owner_mapper_matches_group_and_kind_but_not_version() -> None:
    mapper = owner_mapper(DATASET)
    assert mapper(owned(owners=[ref("old", api_version="data.fluid.io/v1beta9")])) == [
        Request("ns", "old")
    ]
    assert mapper(owned(owners=[ref("x", api_version="other.io/v1alpha1")])) == []
    assert mapper(owned(owners=[ref("x", kind="Runtime")])) == []
    assert mapper(owned(owners=[ref("x", api_version="")])) == []


def test_owner_mapper_matches_core_group_owners() -> None:
    mapper = owner_mapper(GVK("", "v1", "ConfigMap"))
    obj = owned(owners=[ref("parent", kind="ConfigMap", api_version="v1")])
    assert mapper(obj) == [Request("ns", "parent")]


def test_cluster_scoped_owners_get_an_empty_namespace() -> None:
    mapper = owner_mapper(GVK("", "v1", "Node"), owner_namespaced=False)
    obj = owned(owners=[ref("node-1", kind="Node", api_version="v1")])
    assert mapper(obj) == [Request("", "node-1")]


def test_initial_list_adds_go_in_at_low_priority_and_live_adds_at_default() -> None:
    sink = Sink()
    handler = EnqueueHandler(sink, request_for_object)
    handler.on_add(owned("listed"), is_initial_list=True)
    handler.on_add(owned("created"), is_initial_list=False)
    assert sink.added == [
        (Request("ns", "listed"), LOW_PRIORITY),
        (Request("ns", "created"), 0),
    ]


def test_resync_updates_go_in_at_low_priority_and_real_updates_at_default() -> None:
    sink = Sink()
    handler = EnqueueHandler(sink, request_for_object)
    same = owned("a", rv="5")
    handler.on_update(same, same)
    handler.on_update(owned("b", rv="5"), owned("b", rv="5"))
    handler.on_update(owned("c", rv="5"), owned("c", rv="6"))
    assert sink.added == [
        (Request("ns", "a"), LOW_PRIORITY),
        (Request("ns", "b"), LOW_PRIORITY),
        (Request("ns", "c"), 0),
    ]


def test_deletes_are_enqueued_at_default_priority() -> None:
    sink = Sink()
    EnqueueHandler(sink, request_for_object).on_delete(owned("gone"))
    assert sink.added == [(Request("ns", "gone"), 0)]


def test_an_update_that_changes_owner_reconciles_both_owners_once_each() -> None:
    sink = Sink()
    handler = EnqueueHandler(sink, owner_mapper(DATASET))
    handler.on_update(owned(owners=[ref("old")], rv="1"), owned(owners=[ref("new")], rv="2"))
    handler.on_update(owned(owners=[ref("same")], rv="2"), owned(owners=[ref("same")], rv="3"))
    assert [r for r, _ in sink.added] == [
        Request("ns", "old"),
        Request("ns", "new"),
        Request("ns", "same"),
    ]


def test_predicates_filter_events_before_mapping() -> None:
    sink = Sink()
    handler = EnqueueHandler(sink, request_for_object, [GenerationChanged()])
    handler.on_update(owned("status-only", rv="1"), owned("status-only", rv="2"))
    handler.on_update(owned("spec", generation=1), owned("spec", generation=2, rv="2"))
    assert [r for r, _ in sink.added] == [Request("ns", "spec")]


def test_a_failing_map_function_drops_the_event_without_raising() -> None:
    sink = Sink()

    def broken(obj: dict[str, Any]) -> list[Request]:
        raise KeyError("spec")

    handler = EnqueueHandler(sink, broken)
    handler.on_add(owned(), is_initial_list=False)
    handler.on_update(owned(rv="1"), owned(rv="2"))
    handler.on_delete(owned())
    assert sink.added == []


def test_a_map_function_may_fan_out_to_several_requests() -> None:
    sink = Sink()
    handler = EnqueueHandler(sink, lambda o: [Request("a", "1"), Request("b", "2")])
    handler.on_add(owned(), is_initial_list=False)
    assert [r for r, _ in sink.added] == [Request("a", "1"), Request("b", "2")]

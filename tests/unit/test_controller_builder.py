"""The builder wires watches to a controller and rejects mistakes before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.context import Context
from fluidpy.controller import (
    Builder,
    Controller,
    EnqueueHandler,
    GenerationChanged,
    LabelSelectorPredicate,
    Request,
    Result,
)
from fluidpy.workqueue import ItemExponentialFailureRateLimiter

DATASET = GVK("data.fluid.io", "v1alpha1", "Dataset")
CONFIGMAP = GVK("", "v1", "ConfigMap")
NODE = GVK("", "v1", "Node")
POD = GVK("", "v1", "Pod")


class FakeInformer:
    def __init__(self) -> None:
        self.handlers: list[EnqueueHandler] = []

    def add_event_handler(self, handler: EnqueueHandler) -> None:
        self.handlers.append(handler)

    def has_synced(self) -> bool:
        return True


class FakeHost:
    graceful_shutdown_timeout = 12.0

    def __init__(self) -> None:
        self.informers: dict[GVK, FakeInformer] = {}
        self.selectors: dict[GVK, str | None] = {}
        self.controllers: list[tuple[Controller, bool]] = []

    def informer_for(self, gvk: GVK, label_selector: str | None = None) -> FakeInformer:
        self.selectors[gvk] = label_selector
        return self.informers.setdefault(gvk, FakeInformer())

    def is_namespaced(self, gvk: GVK) -> bool:
        return gvk != NODE

    def add_controller(self, controller: Controller, *, need_leader_election: bool) -> None:
        self.controllers.append((controller, need_leader_election))


class Noop:
    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        return None


def cm(name: str, owners: list[dict[str, Any]] | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "resourceVersion": "1",
        "labels": labels,
    }
    if owners:
        meta["ownerReferences"] = owners
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def queued(controller: Controller) -> list[Request]:
    items = []
    while (item := controller.queue.get(timeout=0)) is not None:
        items.append(item)
        controller.queue.done(item)
    return items


def test_complete_registers_a_leader_only_controller_with_the_host() -> None:
    host = FakeHost()
    controller = Builder(host, "datasets").for_(DATASET).complete(Noop())
    assert host.controllers == [(controller, True)]
    assert controller.name == "datasets"
    assert controller.max_concurrent_reconciles == 1
    assert controller.reconcile_timeout is None
    assert controller.graceful_shutdown_timeout == 12.0


def test_options_reach_the_controller() -> None:
    host = FakeHost()
    controller = (
        Builder(host, "datasets")
        .for_(DATASET)
        .with_options(
            max_concurrent_reconciles=4,
            reconcile_timeout=9.0,
            rate_limiter=ItemExponentialFailureRateLimiter(1.0, 2.0),
            cache_sync_timeout=5.0,
            need_leader_election=False,
        )
        .complete(Noop())
    )
    assert controller.max_concurrent_reconciles == 4
    assert controller.reconcile_timeout == 9.0
    assert controller.cache_sync_timeout == 5.0
    assert host.controllers == [(controller, False)]
    controller.queue.add_rate_limited(Request("ns", "x"))
    assert controller.queue.get(timeout=0) is None  # the 1 s backoff of our limiter applies


def test_for_owns_and_watches_each_feed_the_queue() -> None:
    host = FakeHost()
    secrets = GVK("", "v1", "Secret")
    controller = (
        Builder(host, "datasets")
        .for_(DATASET)
        .owns(CONFIGMAP)
        .watches(secrets, lambda obj: [Request("ns", "from-secret")])
        .complete(Noop())
    )
    host.informers[DATASET].handlers[0].on_add(
        {"kind": "Dataset", "metadata": {"name": "d", "namespace": "ns"}}, False
    )
    owner = {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "Dataset",
        "name": "owner",
        "controller": True,
    }
    host.informers[CONFIGMAP].handlers[0].on_add(cm("child", [owner]), False)
    host.informers[secrets].handlers[0].on_add(cm("s"), False)
    assert queued(controller) == [
        Request("ns", "d"),
        Request("ns", "owner"),
        Request("ns", "from-secret"),
    ]


def test_owns_uses_the_scope_of_the_primary_kind() -> None:
    host = FakeHost()
    controller = Builder(host, "nodes").for_(NODE).owns(CONFIGMAP).complete(Noop())
    owner = {"apiVersion": "v1", "kind": "Node", "name": "node-1", "controller": True}
    host.informers[CONFIGMAP].handlers[0].on_add(cm("child", [owner]), False)
    assert queued(controller) == [Request("", "node-1")]


def test_event_filters_apply_to_every_watch_and_per_watch_predicates_to_their_own() -> None:
    host = FakeHost()
    controller = (
        Builder(host, "filtered")
        .for_(CONFIGMAP, predicates=[GenerationChanged()])
        .watches(GVK("", "v1", "Secret"), lambda obj: [Request("ns", "mapped")])
        .with_event_filter(LabelSelectorPredicate("team=a"))
        .complete(Noop())
    )
    for_handler = host.informers[CONFIGMAP].handlers[0]
    watch_handler = host.informers[GVK("", "v1", "Secret")].handlers[0]
    for_handler.on_add(cm("wrong-team", team="b"), False)
    for_handler.on_add(cm("right-team", team="a"), False)
    old, new = cm("same-gen", team="a"), cm("same-gen", team="a")
    new["metadata"]["resourceVersion"] = "2"
    for_handler.on_update(old, new)  # generation unchanged: filtered by for_'s predicate
    watch_handler.on_update(old, new)  # no generation predicate on this watch
    assert queued(controller) == [Request("ns", "right-team"), Request("ns", "mapped")]


def test_a_plain_function_is_accepted_as_reconciler() -> None:
    host = FakeHost()
    Builder(host, "fn").for_(DATASET).complete(lambda ctx, req: None)
    assert len(host.controllers) == 1


@pytest.mark.parametrize("name", ["", "Upper", "has space", "-leading", "trailing-", "a/b"])
def test_invalid_controller_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        Builder(FakeHost(), name)


def test_for_may_be_called_only_once() -> None:
    builder = Builder(FakeHost(), "twice").for_(DATASET)
    with pytest.raises(ValueError):
        builder.for_(CONFIGMAP)


def test_owns_without_for_is_rejected_at_complete() -> None:
    host = FakeHost()
    with pytest.raises(ValueError):
        Builder(host, "orphan").owns(CONFIGMAP).complete(Noop())
    assert host.controllers == []


def test_a_controller_with_nothing_to_watch_is_rejected() -> None:
    with pytest.raises(ValueError):
        Builder(FakeHost(), "idle").complete(Noop())


def test_a_controller_of_watches_only_is_allowed() -> None:
    host = FakeHost()
    Builder(host, "mapped").watches(CONFIGMAP, lambda obj: []).complete(Noop())
    assert len(host.controllers) == 1


def test_a_watch_with_a_label_selector_asks_for_the_informer_of_that_selection() -> None:
    host = FakeHost()
    Builder(host, "pods").watches(POD, lambda obj: [], label_selector="app=demo").complete(Noop())
    assert host.selectors == {POD: "app=demo"}


def test_complete_may_be_called_only_once() -> None:
    builder = Builder(FakeHost(), "once").for_(DATASET)
    builder.complete(Noop())
    with pytest.raises(ValueError):
        builder.complete(Noop())


@pytest.mark.parametrize(
    "options",
    [
        {"max_concurrent_reconciles": 0},
        {"reconcile_timeout": 0},
        {"reconcile_timeout": -5},
        {"cache_sync_timeout": 0},
    ],
)
def test_invalid_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Builder(FakeHost(), "opts").with_options(**options)


def test_a_non_callable_map_function_or_reconciler_is_rejected() -> None:
    with pytest.raises(ValueError):
        Builder(FakeHost(), "bad-map").watches(CONFIGMAP, "not a function")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Builder(FakeHost(), "bad-rec").for_(DATASET).complete(42)  # type: ignore[arg-type]

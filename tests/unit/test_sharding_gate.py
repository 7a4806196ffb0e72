"""The shard's gate: it reconciles only its own undrained objects and releases drained ones."""

from __future__ import annotations

from typing import Any, cast

import pytest

from fluidpy.client import GVK, Client, Invalid
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.sharding.gate import ShardGate

KIND = GVK("data.fluid.io", "v1alpha1", "Dataset")
SHARD, DRAIN = "shard.fluidpy.io/ring", "drain.shard.fluidpy.io/ring"
REQUEST = Request("ns", "data")


class FakeClient:
    def __init__(self, labels: dict[str, str] | None, refuse: bool = False) -> None:
        self.obj = None if labels is None else {"metadata": {"name": "data", "labels": labels}}
        self.patches: list[tuple[Any, str]] = []
        self.refuse = refuse

    def get(self, gvk: GVK, name: str, namespace: str, *, ctx: Context) -> Any:
        return self.obj

    def patch(self, gvk: GVK, name: str, namespace: str, patch: Any, **kwargs: Any) -> Any:
        if self.refuse:
            raise Invalid(422, "Invalid", "test operation failed")
        self.patches.append((patch, kwargs["patch_type"]))
        return {}


class Inner:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        self.requests.append(request)
        return Result(requeue_after=5)


def gate(client: FakeClient) -> tuple[ShardGate, Inner]:
    inner = Inner()
    return ShardGate(inner, KIND, cast(Client, client), ring="ring", shard="a"), inner


def test_its_own_object_is_reconciled_with_the_inner_result() -> None:
    shard_gate, inner = gate(FakeClient({SHARD: "a"}))
    assert shard_gate.reconcile(Context.background(), REQUEST) == Result(requeue_after=5)
    assert inner.requests == [REQUEST]


@pytest.mark.parametrize("labels", [{SHARD: "b"}, {}, {SHARD: "b", DRAIN: "true"}])
def test_an_object_of_another_shard_or_of_none_is_never_touched(labels: dict[str, str]) -> None:
    client = FakeClient(labels)
    shard_gate, inner = gate(client)
    assert shard_gate.reconcile(Context.background(), REQUEST) is None
    assert inner.requests == [] and client.patches == []


def test_a_drained_object_is_released_with_a_patch_that_only_works_while_it_is_ours() -> None:
    client = FakeClient({SHARD: "a", DRAIN: "true"})
    shard_gate, inner = gate(client)
    assert shard_gate.reconcile(Context.background(), REQUEST) is None
    assert inner.requests == []
    assert client.patches == [
        (
            [
                {"op": "test", "path": "/metadata/labels/shard.fluidpy.io~1ring", "value": "a"},
                {"op": "remove", "path": "/metadata/labels/shard.fluidpy.io~1ring"},
                {"op": "remove", "path": "/metadata/labels/drain.shard.fluidpy.io~1ring"},
            ],
            "json",
        )
    ]


def test_a_release_refused_because_the_object_is_no_longer_ours_is_not_an_error() -> None:
    shard_gate, inner = gate(FakeClient({SHARD: "a", DRAIN: "true"}, refuse=True))
    assert shard_gate.reconcile(Context.background(), REQUEST) is None
    assert inner.requests == []


def test_a_missing_object_goes_to_the_reconciler_so_it_can_forget_it() -> None:
    shard_gate, inner = gate(FakeClient(None))
    shard_gate.reconcile(Context.background(), REQUEST)
    assert inner.requests == [REQUEST]

"""Shared inputs and fakes: the integration guide's demofs example, an in-memory client.

FakeClient stands in for fluidpy.client.Client: it keeps objects by kind, namespace and name,
applies like server-side apply does for a single field manager (the rendered object replaces
the old one; status, uid and creation stay; generation moves when the spec changes) and records
every write, so tests can count them. Tests reach everything through fixtures.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from fluidpy.api.v1alpha1 import CacheRuntime, CacheRuntimeClass, Dataset
from fluidpy.client import GVK
from fluidpy.context import Context
from fluidpy.engines.base import EngineOptions, ReconcileRequestContext, RuntimeInfo
from fluidpy.engines.base.runtime_info import placement_of
from fluidpy.engines.cacheruntime.plan import Plan, make_plan
from fluidpy.testing import FakeClient

SAMPLES = Path(__file__).resolve().parents[4] / "config" / "samples" / "cacheruntime"
CLUSTER_SCOPED = {"CacheRuntimeClass", "Node", "PersistentVolume", "Namespace"}
OWNER = {
    "apiVersion": "data.fluid.io/v1alpha1",
    "kind": "CacheRuntime",
    "name": "demofs",
    "uid": "runtime-uid",
    "controller": True,
    "blockOwnerDeletion": True,
}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


def load_sample(filename: str, namespace: str = "default") -> dict[str, dict[str, Any]]:
    """A sample's objects by kind, moved to `namespace` (cluster-scoped ones stay)."""
    objects = {}
    for obj in yaml.safe_load_all((SAMPLES / filename).read_text()):
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace
        objects[obj["kind"]] = obj
    return objects


def context(
    client: FakeClient,
    runtime: dict[str, Any],
    dataset: dict[str, Any] | None,
    *,
    mount_root: str = "/runtime-mnt",
) -> ReconcileRequestContext:
    """A fresh pass, reading the stored runtime and Dataset as the reconciler would."""
    stored_runtime = client.get(
        GVK.of_object(runtime), runtime["metadata"]["name"], runtime["metadata"]["namespace"]
    )
    stored_dataset = (
        client.get(
            GVK.of_object(dataset), dataset["metadata"]["name"], dataset["metadata"]["namespace"]
        )
        if dataset is not None
        else None
    )
    assert stored_runtime is not None
    return ReconcileRequestContext(
        ctx=Context.background(),
        namespace=stored_runtime["metadata"]["namespace"],
        name=stored_runtime["metadata"]["name"],
        runtime_type="cacheruntime",
        runtime=stored_runtime,
        dataset=stored_dataset,
        client=client,  # type: ignore[arg-type]
        recorder=Recorder(),  # type: ignore[arg-type]
        log=structlog.get_logger("test"),
        finalizer_name="cache-runtime-controller-finalizer",
        options=EngineOptions(mount_root=mount_root),
    )


PlanOf = Callable[..., Plan]


@pytest.fixture
def seed() -> dict[str, dict[str, Any]]:
    """The demofs sample's objects by kind (a fresh copy per test, to change at will)."""
    return load_sample("demofs.yaml")


def plan_of(
    runtime_class: dict[str, Any],
    dataset: dict[str, Any],
    runtime: dict[str, Any],
    *,
    mount_root: str = "/runtime-mnt",
) -> Plan:
    return make_plan(
        CacheRuntime.model_validate(runtime),
        CacheRuntimeClass.model_validate(runtime_class),
        Dataset.model_validate(dataset),
        owner_reference={**OWNER, "name": runtime["metadata"]["name"]},
        mount_root=mount_root,
        info=RuntimeInfo(
            name=runtime["metadata"]["name"],
            namespace=runtime["metadata"]["namespace"],
            runtime_type="cache",
            placement=placement_of(dataset),
        ),
    )


@pytest.fixture
def seed_plan(seed: dict[str, dict[str, Any]]) -> Plan:
    return plan_of(seed["CacheRuntimeClass"], seed["Dataset"], seed["CacheRuntime"])


@pytest.fixture
def make(seed: dict[str, dict[str, Any]]) -> PlanOf:
    """A Plan of the seed after `change(class, dataset, runtime)` edits copies of it."""

    def build(change: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]) -> Plan:
        objects = copy.deepcopy(seed)
        change(objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"])
        return plan_of(objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"])

    return build


@pytest.fixture
def owner() -> dict[str, Any]:
    """The owner reference the Plans built here carry."""
    return dict(OWNER)


@pytest.fixture
def samples() -> Callable[..., dict[str, dict[str, Any]]]:
    return load_sample


@pytest.fixture
def plans() -> Callable[..., Plan]:
    return plan_of


@pytest.fixture
def fake_client() -> type[FakeClient]:
    return FakeClient


@pytest.fixture
def pass_context() -> Callable[..., ReconcileRequestContext]:
    """`pass_context(client, runtime, dataset)`: a fresh reconcile pass over stored objects."""
    return context

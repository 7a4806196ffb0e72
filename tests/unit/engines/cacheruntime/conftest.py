"""Shared inputs and fakes: the integration guide's demofs example, an in-memory client.

FakeClient stands in for fluidpy.client.Client: it keeps objects by kind, namespace and name,
applies like server-side apply does for a single field manager (the rendered object replaces
the old one; status, uid and creation stay; generation moves when the spec changes) and records
every write, so tests can count them. Tests reach everything through fixtures.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from fluidpy.api.v1alpha1 import CacheRuntime, CacheRuntimeClass, Dataset
from fluidpy.client import GVK, parse_label_selector
from fluidpy.context import Context
from fluidpy.engines.base import EngineOptions, ReconcileRequestContext
from fluidpy.engines.cacheruntime.plan import Plan, make_plan

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

Key = tuple[GVK, str, str]


class FakeClient:
    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, str]] = []
        self.reads: list[tuple[str, str]] = []
        self._versions = itertools.count(1)
        self.cache = None
        for obj in objects:
            self.put(obj)

    @property
    def live(self) -> FakeClient:
        return self

    @staticmethod
    def key(gvk: GVK, name: str, namespace: str | None) -> Key:
        return (gvk, "" if gvk.kind in CLUSTER_SCOPED else namespace or "", name)

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store an object as the API server would (uid, resourceVersion, generation)."""
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("uid", f"uid-{metadata['name']}-{obj['kind'].lower()}")
        metadata.setdefault("creationTimestamp", "2024-01-01T00:00:00Z")
        metadata.setdefault("generation", 1)
        metadata["resourceVersion"] = str(next(self._versions))
        gvk = GVK.of_object(obj)
        self.objects[self.key(gvk, metadata["name"], metadata.get("namespace"))] = obj
        return copy.deepcopy(obj)

    def find(self, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        for (gvk, ns, stored), obj in self.objects.items():
            if gvk.kind == kind and stored == name and (ns == namespace or not namespace):
                return obj
        return None

    def get(
        self, gvk: GVK, name: str, namespace: str | None = None, *, ctx: Any = None
    ) -> dict[str, Any] | None:
        self.reads.append((gvk.kind, name))
        obj = self.objects.get(self.key(gvk, name, namespace))
        return copy.deepcopy(obj) if obj is not None else None

    def list(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        ctx: Any = None,
    ) -> list[dict[str, Any]]:
        selector = parse_label_selector(label_selector) if label_selector else None
        found = []
        for (kind, ns, _), obj in self.objects.items():
            if kind != gvk or (namespace and ns != namespace):
                continue
            if selector is not None and not selector.matches_object(obj):
                continue
            found.append(copy.deepcopy(obj))
        return found

    def apply(self, obj: dict[str, Any], *, force: bool = True, ctx: Any = None) -> dict[str, Any]:
        gvk = GVK.of_object(obj)
        metadata = obj["metadata"]
        self.writes.append(("apply", gvk.kind, metadata["name"]))
        old = self.objects.get(self.key(gvk, metadata["name"], metadata.get("namespace")))
        new = copy.deepcopy(obj)
        if old is not None:
            kept = old["metadata"]
            for field in ("uid", "creationTimestamp"):
                new["metadata"][field] = kept[field]
            changed = old.get("spec") != new.get("spec")
            new["metadata"]["generation"] = kept["generation"] + (1 if changed else 0)
            if "status" in old:
                new["status"] = old["status"]
        return self.put(new)

    def delete(self, gvk: GVK, name: str, namespace: str | None = None, **_: Any) -> bool:
        self.writes.append(("delete", gvk.kind, name))
        return self.objects.pop(self.key(gvk, name, namespace), None) is not None

    def patch(
        self, gvk: GVK, name: str, namespace: str | None, patch: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386)."""
        self.writes.append(("patch", gvk.kind, name))
        key = self.key(gvk, name, namespace)
        merged = merge(self.objects[key], patch)
        merged["metadata"].pop("resourceVersion", None)
        self.objects[key] = merged
        merged["metadata"]["resourceVersion"] = str(next(self._versions))
        return copy.deepcopy(merged)

    def patch_status(
        self, gvk: GVK, name: str, namespace: str | None, patch: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        return self.patch(gvk, name, namespace, {"status": patch.get("status") or {}})

    def create(self, obj: dict[str, Any], *, ctx: Any = None) -> dict[str, Any]:
        self.writes.append(("create", obj["kind"], obj["metadata"]["name"]))
        return self.put(obj)

    def set_status(self, kind: str, name: str, namespace: str, **status: Any) -> None:
        """What a workload controller would report."""
        obj = self.find(kind, name, namespace)
        assert obj is not None, f"{kind} {name} does not exist"
        obj["status"] = {"observedGeneration": obj["metadata"]["generation"], **status}
        obj["metadata"]["resourceVersion"] = str(next(self._versions))


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


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
        fuse_label=f"fluid.io/f-{runtime['metadata']['namespace']}-{runtime['metadata']['name']}",
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

"""The Dataset reconciler's writes: one metadata patch, and NotBound only for a Dataset no
runtime claims; and a stale view (409, 404) is a pass to redo, not an error."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog.testing

from fluidpy.client import GVK, Conflict, NotFound
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers import DatasetReconciler
from fluidpy.controllers.dataset import FINALIZER, NOT_BOUND_GRACE
from fluidpy.testing import FakeClient

CACHE_RUNTIME = GVK("data.fluid.io", "v1alpha1", "CacheRuntime")


class MemoryApi:
    """Objects by (kind, namespace, name), serving as both the client and its cache."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, dict[str, Any]]] = []

    @property
    def cache(self) -> MemoryApi:
        return self

    def serves(self, gvk: GVK, namespace: str | None = None) -> bool:
        return True

    def put(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        meta.setdefault("resourceVersion", "1")
        self.objects[(obj["kind"], meta["namespace"], meta["name"])] = obj

    def get(self, gvk: GVK, name: str, namespace: str | None = None, **_: Any) -> Any:
        return copy.deepcopy(self.objects.get((gvk.kind, namespace or "", name)))

    def patch(self, gvk: GVK, name: str, namespace: str, patch: Any, **_: Any) -> Any:
        self.writes.append(("patch", patch))

    def patch_status(self, gvk: GVK, name: str, namespace: str, patch: Any, **_: Any) -> Any:
        self.writes.append(("patch_status", patch))


class Recorder:
    def event(self, *args: Any) -> None:
        pass


def dataset(age: float, **metadata: Any) -> dict[str, Any]:
    created = datetime.now(UTC) - timedelta(seconds=age)
    return {
        "kind": "Dataset",
        "metadata": {
            "name": "demo",
            "namespace": "ns",
            "uid": "u-1",
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **metadata,
        },
    }


def reconcile(api: MemoryApi) -> Result | None:
    reconciler = DatasetReconciler(api, Recorder(), runtime_kinds=[CACHE_RUNTIME])  # type: ignore[arg-type]
    return reconciler.reconcile(Context.background(), Request("ns", "demo"))


def test_finalizer_and_dataset_id_label_go_on_in_one_patch() -> None:
    api = MemoryApi()
    api.put(dataset(age=60))

    reconcile(api)

    patches = [patch for verb, patch in api.writes if verb == "patch"]
    assert patches == [
        {
            "metadata": {
                "finalizers": [FINALIZER],
                "labels": {"fluid.io/dataset-id": "ns-demo"},
                "resourceVersion": "1",
            }
        }
    ]


def test_a_dataset_with_finalizer_and_label_gets_no_metadata_write() -> None:
    api = MemoryApi()
    api.put(
        dataset(age=60, finalizers=[FINALIZER], labels={"fluid.io/dataset-id": "ns-demo"})
        | {"status": {"phase": "Bound"}}
    )

    reconcile(api)

    assert api.writes == []


def test_a_new_dataset_without_a_runtime_waits_out_the_grace_before_not_bound() -> None:
    api = MemoryApi()
    api.put(dataset(age=0))

    result = reconcile(api)

    assert [verb for verb, _ in api.writes] == ["patch"]
    assert result is not None
    assert 0 < result.requeue_after <= NOT_BOUND_GRACE


def test_a_dataset_nobody_claims_after_the_grace_is_not_bound() -> None:
    api = MemoryApi()
    api.put(dataset(age=NOT_BOUND_GRACE + 1))

    assert reconcile(api) is None

    assert ("patch_status", {"status": {"phase": "NotBound", "conditions": []}}) in api.writes


def test_a_dataset_whose_runtime_exists_is_left_for_the_runtime_to_bind() -> None:
    api = MemoryApi()
    api.put(dataset(age=NOT_BOUND_GRACE + 1))
    api.put({"kind": "CacheRuntime", "metadata": {"name": "demo", "namespace": "ns"}})

    assert reconcile(api) is None

    assert [verb for verb, _ in api.writes] == ["patch"]


def test_a_dataset_id_too_long_for_a_label_value_falls_back_to_the_datasets_uid() -> None:
    api = MemoryApi()
    long_name = "d" * 60
    obj = dataset(age=60)
    obj["metadata"]["name"] = long_name
    api.put(obj)

    DatasetReconciler(api, Recorder()).reconcile(Context.background(), Request("ns", long_name))  # type: ignore[arg-type]

    [(_, patch)] = [w for w in api.writes if w[0] == "patch"]
    assert patch["metadata"]["labels"] == {"fluid.io/dataset-id": "u-1"}


class NoEvents:
    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        raise AssertionError(f"no event expected, got {reason}: {message}")


@pytest.mark.parametrize(
    "error",
    [
        Conflict(409, "Conflict", 'datasets "demo": the object has been modified'),
        NotFound(404, "NotFound", 'datasets "demo" not found'),
    ],
)
def test_a_stale_dataset_is_reconciled_again_with_a_debug_line(error: Exception) -> None:
    client = FakeClient()
    client.put(
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "Dataset",
            "metadata": {"name": "demo", "namespace": "ns"},
            "spec": {"mounts": [{"name": "data", "mountPoint": "s3://bucket/data"}]},
        }
    )

    def stale(*_: Any, **__: Any) -> Any:
        raise error

    client.patch = stale  # type: ignore[method-assign]
    reconciler = DatasetReconciler(client, NoEvents())  # type: ignore[arg-type]

    with structlog.testing.capture_logs() as logs:
        result = reconciler.reconcile(Context.background(), Request("ns", "demo"))

    assert result == Result(requeue=True)
    assert [line["log_level"] for line in logs] == ["debug"]

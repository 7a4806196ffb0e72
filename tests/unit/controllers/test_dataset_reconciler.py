"""The Dataset reconciler treats a stale view (409, 404) as a pass to redo, not an error."""

from __future__ import annotations

from typing import Any

import pytest
import structlog.testing

from fluidpy.client import Conflict, NotFound
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers import DatasetReconciler
from fluidpy.testing import FakeClient


class Recorder:
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
    reconciler = DatasetReconciler(client, Recorder())  # type: ignore[arg-type]

    with structlog.testing.capture_logs() as logs:
        result = reconciler.reconcile(Context.background(), Request("ns", "demo"))

    assert result == Result(requeue=True)
    assert [line["log_level"] for line in logs] == ["debug"]

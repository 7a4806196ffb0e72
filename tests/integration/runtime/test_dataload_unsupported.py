"""A DataLoad on a Dataset whose engine (here a third party's) has no data operations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fluidpy.client import GVK, Client
from fluidpy.controllers import RuntimeKind
from fluidpy.controllers.dataload import DATALOAD, JOB
from fluidpy.engines.factory import EngineFactory
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

EVENT = GVK("", "v1", "Event")


@pytest.fixture
def running(
    start_manager: Any, engine_factory: EngineFactory, test_kind: RuntimeKind
) -> Iterator[Manager]:
    with start_manager(kinds=[test_kind], factory=engine_factory) as manager:
        yield manager


def test_an_engine_without_data_operations_fails_the_dataload_saying_so(
    running: Manager, cluster: LocalCluster, namespace: str
) -> None:
    client = Client(cluster.connection(), qps=0)
    mounts = [{"mountPoint": "https://mirrors.example/data/", "name": "data"}]
    for obj in (
        {"kind": "Dataset", "metadata": {"name": "demo"}, "spec": {"mounts": mounts}},
        {"kind": "JindoRuntime", "metadata": {"name": "demo"}, "spec": {"replicas": 1}},
        {"kind": "DataLoad", "metadata": {"name": "warm"}, "spec": {"dataset": {"name": "demo"}}},
    ):
        obj["apiVersion"] = "data.fluid.io/v1alpha1"
        obj["metadata"]["namespace"] = namespace
        client.create(obj)

    def failed() -> dict[str, Any] | None:
        load = client.get(DATALOAD, "warm", namespace) or {}
        return load if (load.get("status") or {}).get("phase") == "Failed" else None

    load = wait_for(failed, "DataLoad warm Failed", timeout=120)

    [condition] = load["status"]["conditions"]
    assert condition["reason"] == "DataOperationNotSupported"
    assert condition["message"] == (
        f"the testengine engine of JindoRuntime {namespace}/demo does not run DataLoad; use a "
        "runtime whose engine does, or implement data_operation_pod_spec in this engine "
        "(docs/writing-an-engine.md)"
    )
    assert client.list(JOB, namespace) == []
    wait_for(
        lambda: any(
            e["reason"] == "DataOperationNotSupported" and e["involvedObject"]["name"] == "warm"
            for e in client.list(EVENT, namespace)
        ),
        "a Warning DataOperationNotSupported about warm",
    )

"""A manager on a real API server: readiness follows cache sync, events are aggregated."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.manager import Manager, ManagerOptions
from fluidpy.testing import LocalCluster, wait_for
from fluidpy.testing.manager import manager_running

pytestmark = pytest.mark.integration

WAIT = 60.0
CONFIGMAP = GVK("", "v1", "ConfigMap")


def status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def manager_for(connection: Any, namespace: str) -> Manager:
    return Manager(
        connection,
        ManagerOptions(
            namespaces=(namespace,),
            health_probe_bind_address="127.0.0.1:0",
            metrics_bind_address="0",
            handle_signals=False,
        ),
    )


def test_readyz_turns_ok_once_the_informers_have_synced(
    cluster: LocalCluster, connection: Any, namespace: str
) -> None:
    manager = manager_for(connection, namespace)
    manager.controller("probe-test").for_(CONFIGMAP).complete(lambda ctx, req: None)
    with manager_running(manager, wait_ready=False):
        port = wait_for(lambda: manager.health_probe_port, "the probe server", timeout=WAIT)
        assert status(port, "/healthz") == 200
        wait_for(lambda: status(port, "/readyz") == 200, "readiness", timeout=WAIT)
        assert status(port, "/readyz/informers-synced") == 200
    assert manager.health_probe_port is None


def events_about(cluster: LocalCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    listed = cluster.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/events?fieldSelector=involvedObject.name%3D{name}",
    )
    return list(listed["items"])


def test_repeated_events_are_one_event_with_a_count(
    cluster: LocalCluster, connection: Any, namespace: str
) -> None:
    target = cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "target"}},
    )
    manager = manager_for(connection, namespace)
    recorder = manager.event_recorder("events-test")
    with manager_running(manager, wait_ready=False):
        for _ in range(3):
            recorder.event(target, "Warning", "SetupFailed", "master not ready")
        recorder.event(target, "Normal", "SetupDone", "master ready")

        def settled() -> list[dict[str, Any]] | None:
            events = events_about(cluster, namespace, "target")
            counts = sorted((e["reason"], e.get("count")) for e in events)
            return events if counts == [("SetupDone", 1), ("SetupFailed", 3)] else None

        events = wait_for(settled, "two events, one of them counted three times", timeout=WAIT)
    failed = next(e for e in events if e["reason"] == "SetupFailed")
    assert failed["type"] == "Warning"
    assert failed["involvedObject"]["uid"] == target["metadata"]["uid"]
    assert failed["source"]["component"] == "events-test"
    assert failed["firstTimestamp"] <= failed["lastTimestamp"]

"""A running manager serves controller-runtime's metric names and labels on /metrics."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fluidpy.client import GVK
from fluidpy.context import Context
from fluidpy.controller import Request, TerminalError
from fluidpy.manager import Manager, ManagerOptions
from fluidpy.testing import LocalCluster, wait_for
from fluidpy.testing.manager import manager_running

pytestmark = pytest.mark.integration

WAIT = 60.0
CONFIGMAP = GVK("", "v1", "ConfigMap")

CONTROLLER_METRICS = {
    "controller_runtime_reconcile_total": {"controller", "result"},
    "controller_runtime_reconcile_errors_total": {"controller"},
    "controller_runtime_terminal_reconcile_errors_total": {"controller"},
    "controller_runtime_reconcile_panics_total": {"controller"},
    "controller_runtime_reconcile_timeouts_total": {"controller"},
    "controller_runtime_reconcile_time_seconds_bucket": {"controller", "le"},
    "controller_runtime_reconcile_time_seconds_count": {"controller"},
    "controller_runtime_reconcile_time_seconds_sum": {"controller"},
    "controller_runtime_max_concurrent_reconciles": {"controller"},
    "controller_runtime_active_workers": {"controller"},
}
WORKQUEUE_METRICS = {
    "workqueue_adds_total",
    "workqueue_retries_total",
    "workqueue_unfinished_work_seconds",
    "workqueue_longest_running_processor_seconds",
    "workqueue_queue_duration_seconds_bucket",
    "workqueue_work_duration_seconds_bucket",
}


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(
    samples: dict[str, list[tuple[dict[str, str], float]]], metric: str, **labels: str
) -> float | None:
    for got, v in samples.get(metric, []):
        if all(got.get(k) == want for k, want in labels.items()):
            return v
    return None


def test_metrics_endpoint_carries_every_controller_runtime_metric(
    cluster: LocalCluster, connection: Any, namespace: str
) -> None:
    lease = f"metrics-{namespace}"
    manager = Manager(
        connection,
        ManagerOptions(
            namespaces=(namespace,),
            metrics_bind_address="127.0.0.1:0",
            health_probe_bind_address="127.0.0.1:0",
            handle_signals=False,
            leader_election=True,
            leader_election_id=lease,
            leader_election_namespace=namespace,
        ),
    )

    def reconcile(ctx: Context, request: Request) -> None:
        if request.name == "bad":
            raise TerminalError("this one is broken")

    manager.controller("metrics-test").for_(CONFIGMAP).with_options(
        max_concurrent_reconciles=2
    ).complete(reconcile)
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    with manager_running(manager, wait_ready=False):
        for name in ("good", "bad"):
            cluster.request(
                "POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            )
        port = wait_for(lambda: manager.metrics_port, "the metrics server", timeout=WAIT)
        samples = wait_for(
            lambda: (
                s
                if value(
                    s := scrape(port),
                    "controller_runtime_terminal_reconcile_errors_total",
                    controller="metrics-test",
                )
                else None
            ),
            "the failed reconcile to be counted",
            timeout=WAIT,
        )

    for name, labels in CONTROLLER_METRICS.items():
        series = [
            got for got, _ in samples.get(name, []) if got.get("controller") == "metrics-test"
        ]
        assert series, f"{name} missing"
        assert all(set(got) == labels for got in series), f"{name} has labels {series}"
    results = {
        got["result"]
        for got, _ in samples["controller_runtime_reconcile_total"]
        if got["controller"] == "metrics-test"
    }
    assert results == {"success", "error", "requeue", "requeue_after"}
    assert (
        value(samples, "controller_runtime_max_concurrent_reconciles", controller="metrics-test")
        == 2
    )
    assert (
        value(samples, "controller_runtime_reconcile_errors_total", controller="metrics-test") == 1
    )
    assert value(samples, "leader_election_master_status", name=lease) == 1

    for name in WORKQUEUE_METRICS:
        series = [
            got
            for got, _ in samples.get(name, [])
            if got.get("name") == "metrics-test" and got.get("controller") == "metrics-test"
        ]
        assert series, f"{name} missing"
    depth = [
        got for got, _ in samples.get("workqueue_depth", []) if got.get("name") == "metrics-test"
    ]
    assert depth and all({"name", "controller"} <= set(got) for got in depth)
    assert (value(samples, "workqueue_adds_total", name="metrics-test") or 0) >= 2

    requests = samples.get("rest_client_requests_total", [])
    assert requests and all({"code", "method", "host"} == set(got) for got, _ in requests)
    assert any(got["method"] == "GET" and got["code"] == "200" for got, _ in requests)

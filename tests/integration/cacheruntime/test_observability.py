"""The manager tells a runtime's story: from creation to Bound to deletion, the demofs sample
leaves Normal events on the runtime and the Dataset, info lines in the JSON log, series on
/metrics for every dashboard query, kubectl's columns, and a `fluidpy status` screen.

The manager of this module logs JSON at debug level into memory, so the test reads exactly what
a log collector would, and checks that no Secret value reaches the log at any level.
"""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any

import pytest
import structlog

from fluidpy import log
from fluidpy.client import GVK
from fluidpy.engines.cacheruntime.naming import RUNTIME_GVK
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster, wait_for
from fluidpy_cli.main import main as fluidpy_main

pytestmark = pytest.mark.integration

NAME = "demofs"
MASTER_READY = "The master is ready (2/2 pods)."
"""demofs.yaml asks for two masters."""
EVENT = GVK("", "v1", "Event")
SECRET_VALUES = ("demo-token", "demo-access-key", "demo-secret-key")
"""The values of the sample's Secret (config/samples/cacheruntime/demofs.yaml)."""


@pytest.fixture(scope="module")
def log_output() -> Iterator[io.StringIO]:
    """Everything the module's manager logs, as JSON lines, from debug level up."""
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    log.configure("json", "debug", stream=out, environ={})
    yield out
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="module")
def manager(log_output: io.StringIO, manager: Manager) -> Manager:
    """The shared manager, started only once the log goes to `log_output`."""
    return manager


def log_lines(out: io.StringIO, namespace: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [line for line in lines if line.get("namespace") == namespace]


def normal_events(kube: Any, kind: str) -> list[tuple[str, str]]:
    """(reason, message) of the Normal events on `kind` demofs, in the order they were made:
    the recorder's event names end in an increasing nanosecond stamp."""
    events = [
        event
        for event in kube.client.list(EVENT, kube.namespace)
        if event.get("type") == "Normal"
        and event["involvedObject"].get("kind") == kind
        and event["involvedObject"].get("name") == NAME
    ]
    events.sort(key=lambda event: int(event["metadata"]["name"].rsplit(".", 1)[1], 16))
    return [(event["reason"], event["message"]) for event in events]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def test_the_story_of_a_runtime_from_creation_to_bound_to_deletion(
    kube: Any,
    cluster: LocalCluster,
    manager: Manager,
    log_output: io.StringIO,
    dashboard_metrics: dict[str, set[str]],
) -> None:
    objects = kube.sample("demofs.yaml", class_suffix=True)
    kube.create(
        objects["Secret"], objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"]
    )
    kube.wait_bound(NAME)
    kubectl_shows_the_class_the_short_name_and_the_cache_column(kube, objects)
    fluidpy_status_shows_one_screen(cluster, kube.namespace)
    port = wait_for(lambda: manager.metrics_port, "the metrics port")
    metrics_serve_every_dashboard_query(scrape(port), kube.namespace, dashboard_metrics)

    kube.delete(RUNTIME_GVK, NAME)
    kube.eventually(lambda: kube.get(RUNTIME_GVK, NAME) is None, "the runtime to be deleted")
    events_tell_the_story(kube)
    assert f'runtime="{kube.namespace}/{NAME}"' not in scrape(port), "series not dropped"
    the_log_tells_the_story(log_lines(log_output, kube.namespace))
    everything = log_output.getvalue()
    for value in SECRET_VALUES:
        assert value not in everything, f"the Secret value {value!r} reached the log"


def kubectl_shows_the_class_the_short_name_and_the_cache_column(
    kube: Any, objects: dict[str, dict[str, Any]]
) -> None:
    runtime_class = objects["CacheRuntimeClass"]
    classes = kube.table("cacheruntimeclasses", cluster_scoped=True)
    class_name = runtime_class["metadata"]["name"]
    assert [classes.cell(class_name, c) for c in ("Master", "Worker", "Client")] == [
        runtime_class["topology"][c]["workloadType"]["kind"] for c in ("master", "worker", "client")
    ]
    discovery = kube.client._transport.request("GET", "/apis/data.fluid.io/v1alpha1")
    resources = {r["name"]: r for r in discovery["resources"]}
    assert resources["cacheruntimes"]["shortNames"] == ["cache"]
    assert kube.table("cacheruntimes").cell(NAME, "Class") == class_name
    datasets = kube.table("datasets")
    assert datasets.cell(NAME, "Phase") == "Bound"
    assert datasets.cell(NAME, "Cache Figures") == "NotReportedByRuntime"


def fluidpy_status_shows_one_screen(cluster: LocalCluster, ns: str) -> None:
    screen = io.StringIO()
    with redirect_stdout(screen):
        assert fluidpy_main(["status", "--kubeconfig", str(cluster.kubeconfig), "-n", ns]) == 0
    lines = screen.getvalue().splitlines()
    assert lines[0] == f"Dataset {ns}/{NAME}  Bound  (CacheRuntime {NAME})"
    assert lines[1].startswith("  components    master Ready 2/2   worker Ready ")
    assert lines[2].startswith("  cache         not reported by this runtime")
    assert lines[3] == "  waiting for   - (ready)"


def metrics_serve_every_dashboard_query(
    text: str, ns: str, dashboard_metrics: dict[str, set[str]]
) -> None:
    """Every family a dashboard query reads is on /metrics; the families this run feeds have
    samples (the UFS and cache figures stay empty: a CacheRuntime reports none; so does the
    leader gauge: the test's manager runs without leader election)."""
    declared = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    sampled = {line.split("{")[0].split()[0] for line in text.splitlines() if line[:1] != "#"}
    for expr, names in dashboard_metrics.items():
        for name in names:
            # Text format: a counter is declared as name_total, a histogram without _bucket.
            assert {name, name.removesuffix("_bucket")} & declared, (
                f"{name} (read by {expr!r}) is not on /metrics"
            )
    this_runtime = f'runtime="{ns}/{NAME}",runtime_type="cacheruntime"'
    assert f"fluidpy_runtime_ready{{{this_runtime}}} 1.0" in text
    assert f"runtime_setup_error_total{{{this_runtime}}} 0.0" in text
    assert f"runtime_sync_healthcheck_error_total{{{this_runtime}}} 0.0" in text
    assert {
        "controller_runtime_reconcile_total",
        "controller_runtime_reconcile_time_seconds_bucket",
        "controller_runtime_active_workers",
        "workqueue_adds_total",
        "workqueue_depth",
        "rest_client_requests_total",
    } <= sampled


def events_tell_the_story(kube: Any) -> None:
    runtime_story = kube.eventually(
        lambda: (
            (story := normal_events(kube, "CacheRuntime")) and story[-1][0] == "Deleted" and story
        ),
        "the runtime's Deleted event",
    )
    reasons = [reason for reason, _ in runtime_story]
    messages = [message for _, message in runtime_story]
    assert (reasons[0], reasons[-1]) == ("SetupStarted", "Deleted"), runtime_story
    assert set(reasons) == {
        "SetupStarted",
        "ComponentReady",
        "VolumeCreated",
        "RuntimeReady",
        "Deleted",
    }, runtime_story
    # The master gates binding, binding comes before the volume, the volume before Ready; the
    # workers need only one ready pod to bind, so "all workers ready" may come at any point.
    assert (
        messages.index(MASTER_READY)
        < reasons.index("VolumeCreated")
        < reasons.index("RuntimeReady")
    ), runtime_story
    assert any(message.startswith("The worker is ready") for message in messages)
    dataset_story = kube.eventually(
        lambda: len(story := normal_events(kube, "Dataset")) == 2 and story,
        "the Dataset's two Normal events",
    )
    assert [reason for reason, _ in dataset_story] == ["DatasetReady", "DatasetUnbound"]
    assert dataset_story[0][1].startswith(f"Bound to CacheRuntime {NAME};")


def the_log_tells_the_story(lines: list[dict[str, Any]]) -> None:
    """An info line per milestone, naming kind, namespace, name and the reconcile; a debug line
    at each reconcile's start and end."""
    info = [line for line in lines if line["level"] == "info"]
    told = [line["msg"] for line in info if line.get("kind") == "CacheRuntime"]
    assert told[0] == f"Setting up CacheRuntime {NAME}.", told
    assert MASTER_READY in told
    assert any(m.startswith("Created the volume: PersistentVolumeClaim demofs") for m in told)
    assert any(m.startswith(f"Bound to CacheRuntime {NAME};") for m in told)
    assert told[-1] == "The runtime's cache and volume were cleaned up.", told
    created = [line for line in info if line["msg"] == "created"]
    assert {f"StatefulSet {NAME}-master", f"StatefulSet {NAME}-worker"} <= {
        line["object"] for line in created
    }
    for line in created + [line for line in info if line.get("kind") == "CacheRuntime"]:
        assert (line["controller"], line["name"]) == ("cacheruntime", NAME), line
        assert line["reconcileID"] and line["timestamp"], line
    debug = [line for line in lines if line["level"] == "debug"]
    assert {"Reconciling", "Reconcile successful"} <= {line["msg"] for line in debug}

"""AlluxioRuntime end to end on the local control plane, driven by the whole manager.

There is no kubelet: kwok plays the nodes, so pods run and become ready but execute nothing.
The Alluxio CLI is therefore answered by a RecordedExec double (engines.base.exec) that returns
recorded real outputs of the Alluxio commands (tests/unit/engines/alluxio/outputs) and records
every command the engine runs; nothing here talks to a real Alluxio.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines import alluxio
from fluidpy.engines.base.exec import RecordedExec
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.masterworker.testing import EngineHarness, exec_transport
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
UPSTREAM = REPO / "tests" / "fixtures" / "upstream-fluid"
OURS = REPO / "config" / "samples" / "alluxio"
OUTPUTS = REPO / "tests" / "unit" / "engines" / "alluxio" / "outputs"
RUNTIME = alluxio.RUNTIME_GVK
STATEFULSET = GVK("apps", "v1", "StatefulSet")
DAEMONSET = GVK("apps", "v1", "DaemonSet")
NODE = GVK("", "v1", "Node")
SUMMARY = ("alluxio", "fsadmin", "report", "summary")
COUNT = ("alluxio", "fs", "count", "/")
NODE_LABELS = {"hbase-cache": "true", "fluid": "multi-dataset"}
"""What upstream's docs tell users to put on nodes before applying their co-locality samples."""


def recorded(name: str) -> str:
    return (OUTPUTS / name).read_text()


FREED_SUMMARY = recorded("report-summary.txt").replace("Used Capacity: 9.69MB", "Used Capacity: 0B")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


class GatedExec(RecordedExec):
    """A RecordedExec whose file count waits for `gate`, as a slow count on a big bucket does."""

    def __init__(self, replies: dict[tuple[str, ...], Any]) -> None:
        super().__init__(replies)
        self.gate = threading.Event()
        self.gate.set()

    def run(
        self,
        ctx: Context,
        namespace: str,
        pod: str,
        container: str,
        command: list[str],
        *,
        timeout: float,
    ) -> str:
        if tuple(command) == COUNT:
            self.gate.wait(timeout)
        return super().run(ctx, namespace, pod, container, command, timeout=timeout)


@pytest.fixture(scope="module")
def transport() -> Iterator[GatedExec]:
    """Set before any engine is built; FLUID_SYNC_RETRY_DURATION=1 paces probes for a test."""
    double = GatedExec(
        {
            ("alluxio", "fsadmin", "report"): recorded("report-summary.txt"),
            SUMMARY: recorded("report-summary.txt"),
            ("alluxio", "fsadmin", "report", "metrics"): recorded("report-metrics.txt"),
            ("alluxio", "fs", "mount"): recorded("mount-root-only.txt"),
            ("alluxio", "fs", "loadMetadata", "-R", "/"): "",
            COUNT: recorded("count-zookeeper.txt"),
            ("timeout", "60", "alluxio", "fs", "free", "-f", "/"): "Freed / successfully\n",
        }
    )
    previous = os.environ.get("FLUID_SYNC_RETRY_DURATION")
    os.environ["FLUID_SYNC_RETRY_DURATION"] = "1"
    with exec_transport(alluxio.PACKAGE, double):
        yield double
    if previous is None:
        os.environ.pop("FLUID_SYNC_RETRY_DURATION")
    else:
        os.environ["FLUID_SYNC_RETRY_DURATION"] = previous


@pytest.fixture(scope="module")
def labelled_nodes(cluster: LocalCluster) -> Iterator[None]:
    client = Client(cluster.connection(), qps=0)
    names = [n["metadata"]["name"] for n in client.list(NODE) if "kwok" in str(n)]
    for name in names:
        client.patch(NODE, name, None, {"metadata": {"labels": NODE_LABELS}})
    yield
    removal: dict[str, Any] = {"metadata": {"labels": dict.fromkeys(NODE_LABELS)}}
    for name in names:
        client.patch(NODE, name, None, removal)


@pytest.fixture
def harness(
    transport: GatedExec, labelled_nodes: None, manager: Manager, namespace: str
) -> EngineHarness:
    return EngineHarness(manager.client, namespace, RUNTIME)


def mounts_answered(transport: RecordedExec, dataset: dict[str, Any]) -> None:
    """Reply to the mount command of each of the Dataset's web mounts as Alluxio does."""
    for mount in dataset["spec"].get("mounts") or []:
        path = "/" + mount["name"]
        ufs = mount["mountPoint"]
        transport.reply(["alluxio", "fs", "mount", path, ufs], f"Mounted {ufs} at {path}\n")


def minimal_dataset(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "Dataset",
        "metadata": {"name": name},
        "spec": {"mounts": [{"mountPoint": "https://downloads.apache.org/spark/", "name": name}]},
    }


def upstream_cases() -> list[Any]:
    """Each upstream AlluxioRuntime with its Dataset: from its own file, else upstream's
    same-named Dataset from another sample, else the smallest Dataset that fits."""
    datasets: dict[str, dict[str, Any]] = {}
    runtimes: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(UPSTREAM.glob("*.yaml")):
        for doc in documents(path):
            if doc["kind"] == "Dataset":
                datasets.setdefault(doc["metadata"]["name"], doc)
            elif doc["kind"] == "AlluxioRuntime":
                runtimes.append((path.name, doc))
    return [
        pytest.param(
            runtime,
            datasets.get(runtime["metadata"]["name"])
            or minimal_dataset(runtime["metadata"]["name"]),
            id=f"{file}:{runtime['metadata']['name']}",
        )
        for file, runtime in runtimes
    ]


def expect_alluxio_objects(harness: EngineHarness, name: str) -> None:
    runtime = harness.runtime(name)
    assert runtime is not None
    assert harness.owned(runtime["metadata"]["uid"]) == [
        ("ConfigMap", f"{name}-config"),
        ("DaemonSet", f"{name}-fuse"),
        ("Service", f"{name}-master"),
        ("StatefulSet", f"{name}-master"),
        ("StatefulSet", f"{name}-worker"),
    ]
    status = runtime["status"]
    assert (status["masterPhase"], status["fusePhase"]) == ("Ready", "Ready")
    assert status["workerPhase"] in ("Ready", "PartialReady")
    workers = harness.client.get(STATEFULSET, f"{name}-worker", harness.namespace)
    assert workers is not None
    assert workers["spec"]["replicas"] == runtime["spec"].get("replicas", 1)
    fuse = harness.client.get(DAEMONSET, f"{name}-fuse", harness.namespace)
    assert fuse is not None
    assert fuse["spec"]["updateStrategy"]["type"] == "OnDelete"
    fuse_label = f"fluid.io/f-{harness.namespace}-{name}"
    assert fuse["spec"]["template"]["spec"]["nodeSelector"][fuse_label] == "true"
    assert status["selector"] == f"app=alluxio,release={name},role=alluxio-worker"
    assert status["valueFile"] == f"{name}-config"


@pytest.mark.parametrize(("runtime", "dataset"), upstream_cases())
def test_upstream_alluxio_runtimes_bind_their_datasets(
    harness: EngineHarness, transport: GatedExec, runtime: dict[str, Any], dataset: dict[str, Any]
) -> None:
    name = runtime["metadata"]["name"]
    mounts_answered(transport, dataset)

    harness.create(dataset, runtime)

    harness.wait_bound(name)
    expect_alluxio_objects(harness, name)


@pytest.mark.parametrize("sample", sorted(OURS.glob("*.yaml")), ids=lambda p: p.name)
def test_our_alluxio_samples_bind_their_datasets(
    harness: EngineHarness, transport: GatedExec, sample: Path
) -> None:
    objects = documents(sample)
    [dataset] = [o for o in objects if o["kind"] == "Dataset"]
    name = dataset["metadata"]["name"]
    if name == "alluxio-ha":
        transport.reply(
            [
                "alluxio", "fs", "mount",
                "--option", "alluxio.underfs.s3.endpoint=https://s3.example.com",
                "--option", "aws.accessKeyId=AKIAEXAMPLE",
                "--option", "aws.secretKey=example-secret-key",
                "/training", "s3://example-bucket/training/",
            ],
            "Mounted s3://example-bucket/training/ at /training\n",
        )  # fmt: skip
    else:
        mounts_answered(transport, dataset)

    harness.create(*objects)

    harness.wait_bound(name)
    expect_alluxio_objects(harness, name)


def test_cache_states_ufs_total_and_file_num_reach_the_dataset_status(
    harness: EngineHarness, transport: GatedExec
) -> None:
    dataset = minimal_dataset("zookeeper")
    mounts_answered(transport, dataset)
    transport.gate.clear()
    try:
        harness.create(dataset, upstream_runtime("hbase", name="zookeeper"))
        calculating = harness.wait_dataset(
            "zookeeper",
            lambda s: s.get("phase") == "Bound" and s.get("ufsTotal") == "[Calculating]",
            "Bound while the file count is still running",
        )
        assert calculating["status"]["fileNum"] == "[Calculating]"
    finally:
        transport.gate.set()

    status = harness.wait_dataset(
        "zookeeper", lambda s: s.get("fileNum") == "12", "the file count"
    )["status"]

    assert status["ufsTotal"] == "10.00MiB"
    assert status["cacheStates"]["cacheCapacity"] == "19.07MiB"
    assert status["cacheStates"]["cached"] == "9.69MiB"
    final = harness.wait_dataset(
        "zookeeper",
        lambda s: (s.get("cacheStates") or {}).get("cachedPercentage") == "96.9%",
        "the cached percentage of the counted size",
    )["status"]
    assert final["cacheStates"]["localThroughputRatio"] == "38.7%"
    assert final["hcfs"]["endpoint"] == (
        f"alluxio://zookeeper-master-0.zookeeper-master.{harness.namespace}.svc:19998"
    )
    runtime = harness.runtime("zookeeper")
    assert runtime is not None
    assert runtime["status"]["cacheStates"]["cached"] == "9.69MiB"


def upstream_runtime(source: str, name: str) -> dict[str, Any]:
    """An upstream sample's runtime under another name."""
    [runtime] = [
        doc
        for doc in documents(UPSTREAM / "operation-pod-schedule-optimization.yaml")
        if doc["metadata"]["name"] == source
    ]
    return {**runtime, "metadata": {"name": name}}


def test_deleting_the_runtime_frees_the_cache_unlabels_nodes_and_leaves_nothing(
    harness: EngineHarness, transport: GatedExec
) -> None:
    dataset = minimal_dataset("freed")
    mounts_answered(transport, dataset)
    harness.create(dataset, upstream_runtime("hbase", name="freed"))
    dataset_uid = harness.wait_bound("freed")["metadata"]["uid"]
    info = RuntimeInfo("freed", harness.namespace, "alluxio", owner_dataset_uid=dataset_uid)
    label = info.runtime_label
    workers = wait_for(
        lambda: [
            p
            for p in harness.pods("release=freed,role=alluxio-worker")
            if p["spec"].get("nodeName")
        ],
        "a scheduled worker pod",
    )
    wait_for(
        lambda: harness.labelled_nodes(label) == {p["spec"]["nodeName"] for p in workers},
        "the worker's node labelled as a cache node",
    )
    transport.reply(SUMMARY, FREED_SUMMARY)

    harness.delete_runtime_and_wait("freed")

    frees = [
        call for call in transport.calls
        if call.namespace == harness.namespace and "free" in call.command
    ]  # fmt: skip
    assert [call.command for call in frees] == [
        ("timeout", "60", "alluxio", "fs", "free", "-f", "/")
    ]
    assert frees[0].pod == "freed-master-0"
    assert harness.events("freed", "CacheFreed")
    assert harness.labelled_nodes(label) == set()
    assert harness.labelled_nodes(info.common_label) == set()
    wait_for(lambda: not harness.pods("release=freed"), "the pods to be collected")
    status = (harness.dataset("freed") or {}).get("status") or {}
    assert (status.get("phase"), status.get("cacheStates")) == ("NotBound", {})


def test_a_cache_that_will_not_free_is_given_up_after_max_retry_attempts(
    harness: EngineHarness, transport: GatedExec
) -> None:
    dataset = minimal_dataset("stuck")
    mounts_answered(transport, dataset)
    runtime = upstream_runtime("hbase", name="stuck")
    runtime["spec"] = {
        **runtime["spec"],
        "management": {"cleanCachePolicy": {"gracePeriodSeconds": 5, "maxRetryAttempts": 2}},
    }
    transport.reply(["timeout", "5", "alluxio", "fs", "free", "-f", "/"], "")
    transport.reply(SUMMARY, recorded("report-summary.txt"))
    harness.create(dataset, runtime)
    harness.wait_bound("stuck")

    harness.delete_runtime_and_wait("stuck")

    frees = [c for c in transport.calls if c.namespace == harness.namespace and "free" in c.command]
    assert len(frees) == 2
    [warning] = harness.events("stuck", "CacheNotFreed")
    assert "after 2 attempt(s)" in warning["message"]
    assert "9.69MiB still cached" in warning["message"]


def test_worker_replicas_follow_spec_replicas_with_a_scaling_condition(
    harness: EngineHarness, transport: GatedExec
) -> None:
    dataset = minimal_dataset("scaled")
    mounts_answered(transport, dataset)
    harness.create(dataset, upstream_runtime("hbase", name="scaled"))
    harness.wait_bound("scaled")

    harness.client.patch(RUNTIME, "scaled", harness.namespace, {"spec": {"replicas": 2}})

    workers = wait_for(
        lambda: (
            (harness.client.get(STATEFULSET, "scaled-worker", harness.namespace) or {})
            .get("spec", {})
            .get("replicas")
            == 2
        ),
        "the worker StatefulSet scaled to 2",
    )
    assert workers
    runtime = wait_for(
        lambda: _with_condition(harness.runtime("scaled"), "WorkersScaledOut"),
        "the WorkersScaledOut condition",
    )
    scaled = [c for c in runtime["status"]["conditions"] if c["type"] == "WorkersScaledOut"]
    assert scaled[0]["message"] == "Workers scaled out from 1 replicas to 2 replicas."


def _with_condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return obj if any(c["type"] == type_ for c in conditions) else None


def test_a_mount_added_to_the_dataset_is_mounted_and_recounted(
    harness: EngineHarness, transport: GatedExec
) -> None:
    dataset = minimal_dataset("grows")
    mounts_answered(transport, dataset)
    harness.create(dataset, upstream_runtime("hbase", name="grows"))
    harness.wait_bound("grows")
    extra = {"mountPoint": "https://downloads.apache.org/hbase/", "name": "hbase"}
    transport.reply(
        ["alluxio", "fs", "mount", "/hbase", extra["mountPoint"]], "Mounted hbase at /hbase\n"
    )

    mounts = [*dataset["spec"]["mounts"], extra]
    harness.client.patch(
        GVK("data.fluid.io", "v1alpha1", "Dataset"),
        "grows",
        harness.namespace,
        {"spec": {"mounts": mounts}},
    )

    status = harness.wait_dataset(
        "grows", lambda s: len(s.get("mounts") or []) == 2, "both mounts applied"
    )["status"]
    assert status["phase"] == "Bound"
    commands = [c.command for c in transport.calls if c.namespace == harness.namespace]
    assert ("alluxio", "fs", "mount", "/hbase", extra["mountPoint"]) in commands


def test_an_invalid_tiered_store_stops_at_validation_with_the_field_named(
    harness: EngineHarness,
) -> None:
    runtime = upstream_runtime("hbase", name="invalid")
    runtime["spec"] = {
        **runtime["spec"],
        "tieredstore": {"levels": [{"mediumtype": "MEM", "path": "/dev/shm"}]},
    }
    harness.create(minimal_dataset("invalid"), runtime)

    failed = wait_for(
        lambda: _with_reason(harness.runtime("invalid"), "ErrorValidateSpecFields"),
        "the validation condition",
    )

    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert "spec.tieredstore.levels[0].quota" in ready["message"]
    assert harness.client.get(STATEFULSET, "invalid-master", harness.namespace) is None


def _with_reason(obj: dict[str, Any] | None, reason: str) -> dict[str, Any] | None:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return obj if any(c.get("reason") == reason for c in conditions) else None

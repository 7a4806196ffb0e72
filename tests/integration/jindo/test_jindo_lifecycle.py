"""JindoRuntime end to end on the local control plane, driven by the whole manager.

There is no kubelet: kwok plays the nodes, so pods run and become ready but execute nothing.
The JindoCache CLI is therefore answered by a RecordedExec double (engines.base.exec) that
returns recorded real outputs of the JindoCache commands (tests/unit/engines/jindo/outputs) and
records every command the engine runs; nothing here talks to a real JindoCache.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.client import GVK
from fluidpy.engines import jindo
from fluidpy.engines.base.exec import RecordedExec
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.masterworker.testing import EngineHarness, exec_transport
from fluidpy.manager import Manager
from fluidpy.testing import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
UPSTREAM = REPO / "tests" / "fixtures" / "upstream-fluid"
OURS = REPO / "config" / "samples" / "jindo"
OUTPUTS = REPO / "tests" / "unit" / "engines" / "jindo" / "outputs"
RUNTIME = jindo.RUNTIME_GVK
STATEFULSET = GVK("apps", "v1", "StatefulSet")
REPORT = ("jindocache", "-report")
FREE = ("timeout", "60", "jindocache", "-formatCache")


def recorded(name: str) -> str:
    return (OUTPUTS / name).read_text()


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def transport() -> Iterator[RecordedExec]:
    """Set before any engine is built; FLUID_SYNC_RETRY_DURATION=1 paces probes for a test."""
    double = RecordedExec(
        {
            REPORT: recorded("report.txt"),
            ("jindocache", "-mount"): "",
            ("jindo", "fs", "-count", "jindo:///bucketa"): recorded("count-bucketa.txt"),
            ("jindo", "fs", "-count", "jindo:///bucketb"): recorded("count-bucketb.txt"),
            FREE: "format cache successfully\n",
        }
    )
    previous = os.environ.get("FLUID_SYNC_RETRY_DURATION")
    os.environ["FLUID_SYNC_RETRY_DURATION"] = "1"
    with exec_transport(jindo.PACKAGE, double):
        yield double
    if previous is None:
        os.environ.pop("FLUID_SYNC_RETRY_DURATION")
    else:
        os.environ["FLUID_SYNC_RETRY_DURATION"] = previous


@pytest.fixture
def harness(transport: RecordedExec, manager: Manager, namespace: str) -> EngineHarness:
    return EngineHarness(manager.client, namespace, RUNTIME)


def mounts_answered(transport: RecordedExec, dataset: dict[str, Any]) -> None:
    """Reply to the mount command of each of the Dataset's mounts as JindoCache does."""
    for mount in dataset["spec"].get("mounts") or []:
        path = mount.get("path") or "/" + mount["name"]
        transport.reply(["jindocache", "-mount", path, mount["mountPoint"]], "")


def oss_dataset(name: str) -> dict[str, Any]:
    """Two buckets, as upstream's multi-OSS e2e test has, without its credentials."""
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "Dataset",
        "metadata": {"name": name},
        "spec": {
            "mounts": [
                {"mountPoint": "oss://bucket-a/", "name": "bucketa",
                 "options": {"fs.oss.endpoint": "oss-cn-hangzhou.aliyuncs.com"}},
                {"mountPoint": "oss://bucket-b/", "name": "bucketb",
                 "options": {"fs.oss.endpoint": "oss-cn-hangzhou.aliyuncs.com"}},
            ]
        },
    }  # fmt: skip


def upstream_runtime(name: str) -> dict[str, Any]:
    """Upstream's e2e JindoRuntime (SSD cache) under another name."""
    [runtime] = documents(UPSTREAM / "test-gha-e2e-jindo-dataset.yaml")
    return {**runtime, "metadata": {**runtime["metadata"], "name": name}}


def upstream_cases() -> list[Any]:
    """Each upstream JindoRuntime with the Dataset of its own file, or two OSS buckets."""
    cases = []
    for path in sorted(UPSTREAM.glob("*.yaml")):
        objects = documents(path)
        for runtime in (o for o in objects if o["kind"] == "JindoRuntime"):
            name = runtime["metadata"]["name"]
            same_file = [
                o for o in objects if o["kind"] == "Dataset" and o["metadata"]["name"] == name
            ]
            dataset = same_file[0] if same_file else oss_dataset(name)
            cases.append(pytest.param(runtime, dataset, id=f"{path.name}:{name}"))
    return cases


def expect_jindo_objects(harness: EngineHarness, name: str) -> None:
    runtime = harness.runtime(name)
    assert runtime is not None
    assert harness.owned(runtime["metadata"]["uid"]) == [
        ("ConfigMap", f"{name}-jindofs-client-config"),
        ("ConfigMap", f"{name}-jindofs-config"),
        ("DaemonSet", f"{name}-fuse"),
        ("Service", f"{name}-master"),
        ("StatefulSet", f"{name}-master"),
        ("StatefulSet", f"{name}-worker"),
    ]
    status = runtime["status"]
    assert (status["masterPhase"], status["fusePhase"]) == ("Ready", "Ready")
    assert status["workerPhase"] in ("Ready", "PartialReady")
    assert status["selector"] == f"app=jindofs,release={name},role=jindofs-worker"


@pytest.mark.parametrize(("runtime", "dataset"), upstream_cases())
def test_upstream_jindo_runtimes_bind_their_datasets(
    harness: EngineHarness,
    transport: RecordedExec,
    runtime: dict[str, Any],
    dataset: dict[str, Any],
) -> None:
    name = runtime["metadata"]["name"]
    mounts_answered(transport, dataset)

    harness.create(dataset, runtime)

    harness.wait_bound(name)
    expect_jindo_objects(harness, name)
    commands = [c.command for c in transport.calls if c.namespace == harness.namespace]
    for mount in dataset["spec"]["mounts"]:
        path = mount.get("path") or "/" + mount["name"]
        assert ("jindocache", "-mount", path, mount["mountPoint"]) in commands


@pytest.mark.parametrize("sample", sorted(OURS.glob("*.yaml")), ids=lambda p: p.name)
def test_our_jindo_samples_bind_their_datasets(
    harness: EngineHarness, transport: RecordedExec, sample: Path
) -> None:
    objects = documents(sample)
    [dataset] = [o for o in objects if o["kind"] == "Dataset"]
    mounts_answered(transport, dataset)

    harness.create(*objects)

    harness.wait_bound(dataset["metadata"]["name"])
    expect_jindo_objects(harness, dataset["metadata"]["name"])


def test_cache_states_ufs_total_and_file_num_reach_the_dataset_status(
    harness: EngineHarness, transport: RecordedExec
) -> None:
    dataset = oss_dataset("counted")
    mounts_answered(transport, dataset)
    harness.create(dataset, upstream_runtime("counted"))

    status = harness.wait_dataset(
        "counted",
        lambda s: s.get("fileNum") == "18" and "cached" in (s.get("cacheStates") or {}),
        "file count and cache states",
    )["status"]

    assert status["ufsTotal"] == bytes_size_of(571808 + 1048576)
    assert status["cacheStates"]["cacheCapacity"] == "250.38GiB"
    assert status["cacheStates"]["cached"] == "11.72GiB"
    assert status["cacheStates"]["cachedPercentage"] == "100.0%"
    assert status["hcfs"]["endpoint"] == (
        f"counted-master-0.counted-master.{harness.namespace}.svc:8101"
    )


def bytes_size_of(size: int) -> str:
    """1.54MiB for 1620384 bytes: what `kubectl get dataset` shows, two decimals, binary."""
    return f"{size / 1024**2:.2f}MiB"


def test_deleting_the_runtime_frees_the_cache_unlabels_nodes_and_leaves_nothing(
    harness: EngineHarness, transport: RecordedExec
) -> None:
    dataset = oss_dataset("freed")
    mounts_answered(transport, dataset)
    harness.create(dataset, upstream_runtime("freed"))
    dataset_uid = harness.wait_bound("freed")["metadata"]["uid"]
    info = RuntimeInfo("freed", harness.namespace, "jindo", owner_dataset_uid=dataset_uid)
    wait_for(lambda: harness.labelled_nodes(info.runtime_label), "a cache node labelled")
    empty = recorded("report.txt").replace("Used Disk Capacity: 11.72GB", "Used Disk Capacity: 0B")
    transport.reply(REPORT, empty)

    harness.delete_runtime_and_wait("freed")

    frees = [
        c
        for c in transport.calls
        if c.namespace == harness.namespace and "-formatCache" in c.command
    ]
    assert [c.command for c in frees] == [FREE]
    assert frees[0].pod == "freed-master-0"
    assert harness.events("freed", "CacheFreed")
    assert harness.labelled_nodes(info.runtime_label) == set()
    wait_for(lambda: not harness.pods("release=freed"), "the pods to be collected")


def test_a_master_count_jindocache_cannot_run_is_a_validation_error(
    harness: EngineHarness,
) -> None:
    runtime = upstream_runtime("two")
    runtime["spec"] = {**runtime["spec"], "master": {"replicas": 2}}
    harness.create(oss_dataset("two"), runtime)

    failed = wait_for(lambda: _ready_condition(harness.runtime("two")), "the validation condition")

    assert failed["reason"] == "ErrorValidateSpecFields"
    assert failed["message"].startswith("spec.master.replicas: is 2;")
    assert harness.client.get(STATEFULSET, "two-master", harness.namespace) is None


def _ready_condition(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    for item in ((obj or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == "Ready" and item.get("reason") == "ErrorValidateSpecFields":
            return dict(item)
    return None

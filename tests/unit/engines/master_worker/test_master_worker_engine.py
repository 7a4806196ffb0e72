"""MasterWorkerEngine through the TemplateEngine, on an in-memory client.

The Jindo engine stands in for every master/worker engine; its CLI answers come from a
RecordedExec with the recorded JindoCache outputs. Workloads become ready when a test sets
their status, as the StatefulSet controller would.
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from fluidpy.client import GVK
from fluidpy.context import Context
from fluidpy.engines.base.context import EngineOptions, ReconcileRequestContext
from fluidpy.engines.base.errors import EngineError
from fluidpy.engines.base.exec import RecordedExec
from fluidpy.engines.base.template import TemplateEngine
from fluidpy.engines.jindo.engine import JindoEngine
from fluidpy.engines.masterworker.engine import build_engine
from fluidpy.testing import FakeClient, wait_for
from fluidpy_cli.main import build_parser
from fluidpy_cli.manager import engine_options

OUTPUTS = Path(__file__).resolve().parents[1] / "jindo" / "outputs"
NS = "team"
STATEFULSET = GVK("apps", "v1", "StatefulSet")
NODE = GVK("", "v1", "Node")
POD = GVK("", "v1", "Pod")
REPORT = ("jindocache", "-report")
CLUSTER_SCOPED = {"Node", "PersistentVolume"}


SLOW_STEPS_EVERY_PASS = EngineOptions(sync_interval=0)
"""Every pass may run the slow steps and start the probes."""


def written(client: FakeClient, verb: str) -> list[str]:
    return [f"{kind}/{name}" for done, kind, name in client.writes if done == verb]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


class Cluster:
    """A runtime, its Dataset and the objects around them, handed to the engine pass by pass."""

    def __init__(
        self,
        runtime_spec: dict[str, Any],
        exec_replies: dict[tuple[str, ...], Any],
        options: EngineOptions = SLOW_STEPS_EVERY_PASS,
    ):
        self.options = options
        self.client = FakeClient()
        self.recorder = Recorder()
        self.exec = RecordedExec(exec_replies)
        self.runtime: dict[str, Any] = {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "JindoRuntime",
            "metadata": {
                "name": "demo",
                "namespace": NS,
                "uid": "runtime-uid",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "ownerReferences": [{"kind": "Dataset", "name": "demo", "uid": "dataset-uid"}],
            },
            "spec": runtime_spec,
            "status": {},
        }
        self.dataset: dict[str, Any] = {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "Dataset",
            "metadata": {"name": "demo", "namespace": NS, "uid": "dataset-uid"},
            "spec": {"mounts": [{"mountPoint": "oss://bucket-a/", "name": "bucketa"}]},
            "status": {"phase": "NotBound", "conditions": []},
        }
        for index in range(2):
            self.client.put(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {"name": f"node-{index}", "labels": {}},
                }
            )

    def context(self) -> ReconcileRequestContext:
        return ReconcileRequestContext(
            ctx=Context.background(),
            namespace=NS,
            name="demo",
            runtime_type="jindo",
            runtime=copy.deepcopy(self.runtime),
            dataset=copy.deepcopy(self.dataset),
            client=self.client,  # type: ignore[arg-type]
            recorder=self.recorder,  # type: ignore[arg-type]
            log=structlog.get_logger(),
            finalizer_name="jindo-runtime-controller-finalizer",
            options=self.options,
        )

    def engine(self) -> TemplateEngine:
        return build_engine(JindoEngine, "team-demo", self.context(), self.exec)

    def run(self, step: str, engine: TemplateEngine) -> tuple[Any, ReconcileRequestContext]:
        """One pass of `step`; its status working copies are then written back, as the
        reconciler does."""
        ctx = self.context()
        result = getattr(engine, step)(ctx)
        self.runtime["status"] = ctx.runtime_status
        self.dataset["status"] = ctx.dataset_status
        return result, ctx

    def ready(self, name: str, replicas: int | None = None) -> None:
        sts = self.client.find("StatefulSet", name, NS)
        wanted = sts["spec"]["replicas"] if replicas is None else replicas
        sts["status"] = {"replicas": wanted, "readyReplicas": wanted, "availableReplicas": wanted}

    def worker_pod_on(self, node: str) -> None:
        labels = {"app": "jindofs", "release": "demo", "role": "jindofs-worker"}
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "demo-worker-0", "namespace": NS, "labels": labels},
        }
        self.client.put({**pod, "spec": {"nodeName": node}, "status": {"phase": "Running"}})


SPEC = {
    "replicas": 1,
    "tieredstore": {"levels": [{"mediumtype": "SSD", "path": "/mnt/jindo", "quota": "10Gi"}]},
}


def recorded(name: str) -> str:
    return (OUTPUTS / name).read_text()


def new_cluster(options: EngineOptions = SLOW_STEPS_EVERY_PASS) -> Cluster:
    return Cluster(
        copy.deepcopy(SPEC),
        {
            REPORT: recorded("report.txt"),
            ("jindocache", "-mount"): "",
            ("jindocache", "-mount", "/bucketa", "oss://bucket-a/"): "",
            ("jindo", "fs", "-count", "jindo:///bucketa"): recorded("count-bucketa.txt"),
            ("timeout", "60", "jindocache", "-formatCache"): "",
        },
        options,
    )


@pytest.fixture
def cluster() -> Cluster:
    return new_cluster()


def synced_until(cluster: Cluster, engine: TemplateEngine, test: Any, what: str) -> None:
    """Sync until `test(dataset status)` holds: probes answer in the background, so how many
    passes that takes depends on the machine, not on the engine."""

    def passed() -> bool:
        cluster.run("sync", engine)
        return bool(test(cluster.dataset["status"]))

    wait_for(passed, what, timeout=30)


def bind(cluster: Cluster, engine: TemplateEngine) -> None:
    assert cluster.run("setup", engine)[0] is False
    cluster.ready("demo-master")
    assert cluster.run("setup", engine)[0] is False
    cluster.ready("demo-worker")
    assert cluster.run("setup", engine)[0] is True


def test_setup_waits_for_the_master_then_mounts_then_waits_for_a_worker_then_binds(
    cluster: Cluster,
) -> None:
    engine = cluster.engine()

    assert cluster.run("setup", engine)[0] is False
    assert cluster.runtime["status"]["masterPhase"] == "NotReady"
    assert cluster.exec.calls == []
    cluster.ready("demo-master")
    assert cluster.run("setup", engine)[0] is False
    assert ("jindocache", "-mount", "/bucketa", "oss://bucket-a/") in cluster.exec.commands()
    cluster.ready("demo-worker")
    assert cluster.run("setup", engine)[0] is True

    assert cluster.dataset["status"]["phase"] == "Bound"
    assert cluster.dataset["status"]["mounts"] == cluster.dataset["spec"]["mounts"]
    assert cluster.runtime["status"]["workerPhase"] == "Ready"
    synced_until(
        cluster, engine, lambda s: s["cacheStates"].get("cached") == "11.72GiB", "cache states"
    )
    assert cluster.runtime["status"]["cacheStates"]["cacheCapacity"] == "250.38GiB"


def test_unchanged_objects_are_not_applied_again(cluster: Cluster) -> None:
    engine = cluster.engine()
    bind(cluster, engine)
    applied = len(written(cluster.client, "apply"))

    cluster.run("sync", engine)

    assert len(written(cluster.client, "apply")) == applied

    cluster.runtime["spec"]["replicas"] = 3
    cluster.run("sync", engine)

    assert written(cluster.client, "apply")[applied:] == ["StatefulSet/demo-worker"]
    assert ("Normal", "Succeed", "Workers scaled out from 1 replicas to 3 replicas.") in (
        cluster.recorder.events
    )


def test_ufs_total_and_file_num_reach_the_dataset_after_a_sync(cluster: Cluster) -> None:
    engine = cluster.engine()
    bind(cluster, engine)

    synced_until(cluster, engine, lambda s: s.get("fileNum") == "6", "the file count")

    assert cluster.dataset["status"]["ufsTotal"] == "558.41KiB"


def test_a_bound_runtime_whose_master_goes_down_fails_its_dataset_until_it_recovers(
    cluster: Cluster,
) -> None:
    engine = cluster.engine()
    bind(cluster, engine)

    cluster.ready("demo-master", replicas=0)
    assert cluster.run("setup", engine)[0] is False
    assert cluster.dataset["status"]["phase"] == "Failed"

    cluster.ready("demo-master")
    assert cluster.run("setup", engine)[0] is True
    assert cluster.dataset["status"]["phase"] == "Bound"


def test_unhealthy_workers_in_sync_fail_the_dataset_with_an_error(cluster: Cluster) -> None:
    engine = cluster.engine()
    bind(cluster, engine)
    cluster.ready("demo-worker", replicas=0)
    ctx = cluster.context()

    with pytest.raises(EngineError, match="no worker is ready"):
        engine.sync(ctx)

    assert (ctx.dataset_status or {})["phase"] == "Failed"


def test_nodes_running_workers_are_labelled_and_unlabelled_at_shutdown(cluster: Cluster) -> None:
    engine = cluster.engine()
    bind(cluster, engine)
    cluster.worker_pod_on("node-1")

    cluster.run("sync", engine)

    labels = cluster.client.find("Node", "node-1")["metadata"]["labels"]
    assert labels["fluid.io/s-jindo-team-demo"] == "true"
    assert labels["fluid.io/s-h-jindo-d-team-demo"] == "10GiB"
    assert cluster.client.find("Node", "node-0")["metadata"]["labels"] == {}

    cluster.exec.reply(REPORT, recorded("report.txt").replace("11.72GB", "0B"))
    cluster.run("shutdown", engine)

    assert cluster.client.find("Node", "node-1")["metadata"]["labels"] == {}
    assert ("Normal", "CacheFreed", "The cache was freed.") in cluster.recorder.events
    assert sorted(written(cluster.client, "delete")) == [
        "ConfigMap/demo-jindofs-client-config",
        "ConfigMap/demo-jindofs-config",
        "DaemonSet/demo-fuse",
        "Service/demo-master",
        "StatefulSet/demo-master",
        "StatefulSet/demo-worker",
    ]


def test_a_cache_that_stays_full_is_retried_then_given_up_with_a_warning(
    cluster: Cluster,
) -> None:
    cluster.runtime["spec"]["cleanCachePolicy"] = {"maxRetryAttempts": 2}
    engine = cluster.engine()
    bind(cluster, engine)

    with pytest.raises(EngineError, match=r"attempt 1 of 2: 11\.72GiB still cached"):
        cluster.run("shutdown", engine)
    cluster.run("shutdown", engine)
    cluster.run("shutdown", engine)

    frees = [c for c in cluster.exec.commands() if "-formatCache" in c]
    assert len(frees) == 2
    warnings = [e for e in cluster.recorder.events if e[1] == "CacheNotFreed"]
    assert len(warnings) == 1
    assert "after 2 attempt(s)" in warnings[0][2]


def test_a_dataset_mount_added_later_is_mounted_and_recounted(cluster: Cluster) -> None:
    engine = cluster.engine()
    bind(cluster, engine)
    synced_until(cluster, engine, lambda s: s.get("fileNum") == "6", "the first file count")
    cluster.dataset["spec"]["mounts"].append({"mountPoint": "oss://bucket-b/", "name": "bucketb"})
    cluster.exec.reply(["jindocache", "-mount", "/bucketb", "oss://bucket-b/"], "")
    cluster.exec.reply(["jindo", "fs", "-count", "jindo:///bucketb"], recorded("count-bucketb.txt"))

    cluster.run("sync", engine)

    assert ("jindocache", "-mount", "/bucketb", "oss://bucket-b/") in cluster.exec.commands()
    assert len(cluster.dataset["status"]["mounts"]) == 2
    assert cluster.dataset["status"]["phase"] == "Bound"
    assert cluster.dataset["status"]["fileNum"] == "[Calculating]"
    synced_until(cluster, engine, lambda s: s.get("fileNum") == "18", "the recount")


def test_two_managers_with_different_mount_roots_in_one_process_each_keep_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOUNT_ROOT", "/from-env")
    roots = ["/mnt/a", "/mnt/b"]
    options = [
        engine_options(build_parser().parse_args(["manager", "--mount-root", root]))
        for root in roots
    ]
    clusters = [new_cluster(replace(o, sync_interval=0)) for o in options]
    engines = [cluster.engine() for cluster in clusters]
    for cluster, engine in zip(clusters, engines, strict=True):
        bind(cluster, engine)
        cluster.run("create_volume", engine)

    for cluster, root in zip(clusters, roots, strict=True):
        pv = cluster.client.find("PersistentVolume", f"{NS}-demo")
        fuse = cluster.client.find("DaemonSet", "demo-fuse", NS)
        host_paths = [
            v["hostPath"]["path"]
            for v in fuse["spec"]["template"]["spec"]["volumes"]
            if "hostPath" in v
        ]
        assert pv["spec"]["csi"]["volumeAttributes"]["fluid_path"] == (
            f"{root}/jindo/{NS}/demo/jindofs-fuse"
        )
        assert f"{root}/jindo/{NS}/demo" in host_paths
    assert os.environ["MOUNT_ROOT"] == "/from-env"


def test_upstreams_image_variables_replace_the_default_images() -> None:
    cluster = new_cluster(
        replace(
            SLOW_STEPS_EVERY_PASS,
            image_variables={
                "JINDO_SMARTDATA_IMAGE_ENV": "mirror.local/smartdata:6.2.0",
                "JINDO_FUSE_IMAGE_ENV": "mirror.local/jindo-fuse:6.2.0",
                "ALLUXIO_RUNTIME_IMAGE_ENV": "mirror.local/alluxio:2.9.0",
            },
        )
    )
    engine = cluster.engine()

    bind(cluster, engine)

    master = cluster.client.find("StatefulSet", "demo-master", NS)
    fuse = cluster.client.find("DaemonSet", "demo-fuse", NS)
    assert master is not None and fuse is not None
    master_images = {c["image"] for c in master["spec"]["template"]["spec"]["containers"]}
    fuse_images = {c["image"] for c in fuse["spec"]["template"]["spec"]["containers"]}
    assert master_images == {"mirror.local/smartdata:6.2.0"}
    assert fuse_images == {"mirror.local/jindo-fuse:6.2.0"}

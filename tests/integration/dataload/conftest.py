"""DataLoads on the local control plane, against runtimes of each kind brought to Bound.

kwok runs no containers: loader pods are finished by the local cluster's loader stages
(fluidpy.testing.loader_stages), so every Job ends through the real Job controller; a DataLoad
labelled `kwok.fluidpy.io/outcome: Failed` (spec.podMetadata) has its pods fail. The Alluxio and
Jindo CLIs the runtimes need are answered by RecordedExec doubles with recorded real outputs.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from fluidpy.client import GVK, Client
from fluidpy.controllers.dataload import DATALOAD, JOB, utc_now
from fluidpy.controllers.kinds import DATASET
from fluidpy.engines import alluxio, jindo
from fluidpy.engines.base.exec import RecordedExec
from fluidpy.engines.cacheruntime.naming import CLASS_GVK
from fluidpy.engines.masterworker.testing import exec_transport
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster, wait_for
from fluidpy.testing.loader_stages import FAILED, OUTCOME_LABEL
from fluidpy.testing.pytest_plugin import temporary_namespace

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "config" / "samples" / "cacheruntime"
UPSTREAM = REPO / "tests" / "fixtures" / "upstream-fluid"
ALLUXIO_OUTPUTS = REPO / "tests" / "unit" / "engines" / "alluxio" / "outputs"
JINDO_OUTPUTS = REPO / "tests" / "unit" / "engines" / "jindo" / "outputs"
EVENT = GVK("", "v1", "Event")
POD = GVK("", "v1", "Pod")
NODE = GVK("", "v1", "Node")
WAIT = 150.0
"""Generous: a loaded 2-core machine runs the control plane, kwok and the manager at once."""


class Clock:
    """The DataLoad controller's clock: real time plus an offset a test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def dataload_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def transports() -> Iterator[None]:
    """The Alluxio and Jindo CLIs, answered from recorded outputs, set before engines exist."""
    alluxio_cli = RecordedExec(
        {
            ("alluxio", "fsadmin", "report"): read(ALLUXIO_OUTPUTS / "report-summary.txt"),
            ("alluxio", "fsadmin", "report", "summary"): read(
                ALLUXIO_OUTPUTS / "report-summary.txt"
            ),
            ("alluxio", "fsadmin", "report", "metrics"): read(
                ALLUXIO_OUTPUTS / "report-metrics.txt"
            ),
            ("alluxio", "fs", "mount"): read(ALLUXIO_OUTPUTS / "mount-root-only.txt"),
            ("alluxio", "fs", "mount", "/spark", "https://downloads.apache.org/spark/"): (
                "Mounted https://downloads.apache.org/spark/ at /spark\n"
            ),
            ("alluxio", "fs", "loadMetadata", "-R", "/"): "",
            ("alluxio", "fs", "count", "/"): read(ALLUXIO_OUTPUTS / "count-zookeeper.txt"),
            ("timeout", "60", "alluxio", "fs", "free", "-f", "/"): "Freed / successfully\n",
        }
    )
    jindo_cli = RecordedExec(
        {
            ("jindocache", "-report"): read(JINDO_OUTPUTS / "report.txt"),
            ("jindocache", "-mount"): "",
            ("jindocache", "-mount", "/bucketa", "oss://bucket-a/"): "",
            ("jindo", "fs", "-count", "jindo:///bucketa"): read(
                JINDO_OUTPUTS / "count-bucketa.txt"
            ),
            ("timeout", "60", "jindocache", "-formatCache"): "format cache successfully\n",
        }
    )
    previous = os.environ.get("FLUID_SYNC_RETRY_DURATION")
    os.environ["FLUID_SYNC_RETRY_DURATION"] = "1"
    with exec_transport(alluxio.PACKAGE, alluxio_cli), exec_transport(jindo.PACKAGE, jindo_cli):
        yield
    if previous is None:
        os.environ.pop("FLUID_SYNC_RETRY_DURATION")
    else:
        os.environ["FLUID_SYNC_RETRY_DURATION"] = previous


@pytest.fixture
def namespace(cluster: LocalCluster) -> Iterator[str]:
    """Short, so `<namespace>-<dataset>` fits the 63 characters of the dataset-id label."""
    with temporary_namespace(cluster, f"dl-{secrets.token_hex(3)}") as name:
        yield name


def read(path: Path) -> str:
    return path.read_text()


class Kube:
    """Reads, writes and waits for one test namespace, through a live client."""

    def __init__(self, cluster: LocalCluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.client = Client(cluster.connection(), qps=0)
        self.classes: list[str] = []
        self.node_labels: list[tuple[str, str]] = []

    def create(self, *objects: dict[str, Any]) -> None:
        for written in objects:
            obj = copy.deepcopy(written)
            if obj["kind"] == "CacheRuntimeClass":
                self.classes.append(obj["metadata"]["name"])
            else:
                obj["metadata"]["namespace"] = self.namespace
            self.client.create(obj)

    def get(self, gvk: GVK, name: str) -> dict[str, Any] | None:
        return self.client.get(gvk, name, None if gvk == CLASS_GVK else self.namespace)

    def load(self, name: str) -> dict[str, Any]:
        load = self.get(DATALOAD, name)
        assert load is not None, f"DataLoad {name} does not exist"
        return load

    def wait_phase(self, name: str, phase: str, timeout: float = WAIT) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            load = self.get(DATALOAD, name)
            return load if load and (load.get("status") or {}).get("phase") == phase else None

        def seen() -> Any:
            return (self.get(DATALOAD, name) or {}).get("status")

        try:
            return wait_for(reached, f"DataLoad {name} {phase}", timeout=timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}; status: {seen()}") from None

    def wait_condition(self, name: str, type_: str, reason: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            load = self.get(DATALOAD, name) or {}
            for item in (load.get("status") or {}).get("conditions") or []:
                if item["type"] == type_ and item.get("reason") == reason:
                    return dict(item)
            return None

        return wait_for(found, f"DataLoad {name} condition {type_}/{reason}", timeout=WAIT)

    def wait_bound(self, name: str) -> dict[str, Any]:
        def bound() -> dict[str, Any] | None:
            dataset = self.get(DATASET, name)
            phase = ((dataset or {}).get("status") or {}).get("phase")
            return dataset if phase == "Bound" else None

        return wait_for(bound, f"Dataset {name} Bound", timeout=WAIT)

    def jobs(self, dataload: str) -> list[dict[str, Any]]:
        uid = self.load(dataload)["metadata"]["uid"]
        return sorted(
            (
                job
                for job in self.client.list(JOB, self.namespace)
                if any(o["uid"] == uid for o in job["metadata"].get("ownerReferences") or [])
            ),
            key=lambda job: job["metadata"]["creationTimestamp"],
        )

    def wait_warning(self, name: str, reason: str) -> dict[str, Any]:
        """The Warning event about `name` (events are recorded asynchronously)."""

        def found() -> dict[str, Any] | None:
            for event in self.client.list(EVENT, self.namespace):
                if (
                    event["type"] == "Warning"
                    and event["reason"] == reason
                    and event["involvedObject"].get("name") == name
                ):
                    return dict(event)
            return None

        return wait_for(found, f"a Warning {reason} about {name}", timeout=WAIT)

    def poke(self, name: str) -> None:
        """Touch a DataLoad so its controller looks at it now (after the test moved the clock)."""
        self.client.patch(
            DATALOAD,
            name,
            self.namespace,
            {"metadata": {"annotations": {"test.fluidpy.io/poke": secrets.token_hex(4)}}},
        )

    def label_node(self, label: str) -> None:
        node = next(n["metadata"]["name"] for n in self.client.list(NODE) if "kwok" in str(n))
        self.client.patch(NODE, node, None, {"metadata": {"labels": {label: "true"}}})
        self.node_labels.append((node, label))

    # Runtimes and DataLoads -----------------------------------------------------------------

    LOADER: ClassVar[dict[str, Any]] = {
        "image": "demofs/loader:1.0",
        "command": ["/bin/sh", "-c"],
        "args": ['demofs-load --config "$FLUID_RUNTIME_CONFIG_PATH" "$FLUID_DATALOAD_DATA_PATH"'],
    }
    """The DataLoad entry of the test classes' dataOperationSpecs."""
    SHARED: ClassVar[str] = "Shared"
    """The Alluxio and Jindo Datasets' placement: with the sample's Shared CacheRuntime workers
    on the cluster's 3 nodes, an Exclusive worker of a test that runs all three runtimes would
    find no node free of other datasets' workers."""
    FAIL_POD: ClassVar[dict[str, Any]] = {"podMetadata": {"labels": {OUTCOME_LABEL: FAILED}}}
    """DataLoad spec fields that make its loader pods fail (the local cluster's kwok stage)."""

    def cache_runtime(self, name: str, *, loader: dict[str, Any] | None = None) -> None:
        """The masterslave sample under `name`, its class (own name) given `loader` as its
        DataLoad entry; None leaves the class without dataOperationSpecs."""
        sample = (SAMPLES / "masterslave.yaml").read_text()
        objects = {d["kind"]: d for d in yaml.safe_load_all(sample)}
        runtime_class = objects["CacheRuntimeClass"]
        runtime_class["metadata"]["name"] = f"{name}-{self.namespace}"
        if loader is not None:
            runtime_class["dataOperationSpecs"] = [{"name": "DataLoad", **loader}]
        objects["Dataset"]["metadata"]["name"] = name
        objects["CacheRuntime"]["metadata"]["name"] = name
        objects["CacheRuntime"]["spec"]["runtimeClassName"] = runtime_class["metadata"]["name"]
        self.create(runtime_class, objects["Dataset"], objects["CacheRuntime"])

    def alluxio_runtime(self, name: str) -> None:
        spark = {"mountPoint": "https://downloads.apache.org/spark/", "name": "spark"}
        memory = {"mediumtype": "MEM", "path": "/dev/shm", "quota": "1Gi"}
        self.create(
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "Dataset",
                "metadata": {"name": name},
                "spec": {"mounts": [spark], "placement": self.SHARED},
            },
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "AlluxioRuntime",
                "metadata": {"name": name},
                "spec": {"replicas": 1, "tieredstore": {"levels": [memory]}},
            },
        )

    def jindo_runtime(self, name: str) -> None:
        """Upstream's e2e JindoRuntime under `name`, with one OSS bucket."""
        upstream = (UPSTREAM / "test-gha-e2e-jindo-dataset.yaml").read_text()
        [runtime] = [d for d in yaml.safe_load_all(upstream) if d and d["kind"] == "JindoRuntime"]
        bucket = {
            "mountPoint": "oss://bucket-a/",
            "name": "bucketa",
            "options": {"fs.oss.endpoint": "oss-cn-hangzhou.aliyuncs.com"},
        }
        self.create(
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "Dataset",
                "metadata": {"name": name},
                "spec": {"mounts": [bucket], "placement": self.SHARED},
            },
            {**runtime, "metadata": {"name": name}},
        )

    def bound_runtime(self, kind: str, name: str) -> None:
        """A Dataset `name` bound to a runtime of `kind` (cache, alluxio or jindo)."""
        if kind == "cache":
            self.cache_runtime(name, loader=self.LOADER)
        elif kind == "alluxio":
            self.alluxio_runtime(name)
        else:
            self.jindo_runtime(name)
        self.wait_bound(name)

    @staticmethod
    def dataload(name: str, dataset: str, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "DataLoad",
            "metadata": {"name": name},
            "spec": {"dataset": {"name": dataset}, **spec},
        }

    def cleanup(self) -> None:
        for name in self.classes:
            self.client.delete(CLASS_GVK, name)
        for node, label in self.node_labels:
            self.client.patch(NODE, node, None, {"metadata": {"labels": {label: None}}})


@pytest.fixture
def kube(
    cluster: LocalCluster, namespace: str, transports: None, manager: Manager
) -> Iterator[Kube]:
    helper = Kube(cluster, namespace)
    try:
        yield helper
    finally:
        helper.cleanup()

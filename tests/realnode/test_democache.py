"""The example cache system (examples/democache), run by the manager pod on the real node.

The engine runs democache's execution entries in the master's pod: mountUFS before binding and
after a change of the Dataset's mounts (democache's master serves nothing it was not told to
mount), reportSummary at binding and every few seconds while bound (the Dataset's cacheStates,
which `kubectl get dataset` shows). An application pod reads through the FUSE mount on the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.engines.base.units import parse_human_bytes
from fluidpy.testing import wait_for
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.realnode import BUSYBOX_IMAGE, NODE_NAME
from fluidpy.testing.realnode_pods import on_real_node

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "democache"
DATA = "/apis/data.fluid.io/v1alpha1/namespaces"


def apply(kubectl: Any, documents: list[dict[str, Any]]) -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": documents}
    applied = kubectl("apply", "-f", "-", input=json.dumps(listed))
    assert applied.returncode == 0, applied.stderr


def example(name: str, ufs: Path, namespace: str) -> list[dict[str, Any]]:
    text = (EXAMPLE / name).read_text().replace("${UFS}", str(ufs))
    documents = [d for d in yaml.safe_load_all(text) if d]
    for document in documents:
        if document["kind"] != "CacheRuntimeClass":
            document["metadata"]["namespace"] = namespace
    return documents


def fuse_mounts(path: Path) -> list[str]:
    return [
        line
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4] == str(path) and "fuse.democache" in line
    ]


def dataset(cluster: LocalCluster, namespace: str) -> dict[str, Any]:
    return cluster.request("GET", f"{DATA}/{namespace}/datasets/demo") or {}


def dataset_phase(cluster: LocalCluster, namespace: str) -> str | None:
    return (dataset(cluster, namespace).get("status") or {}).get("phase")


def runtime_status(cluster: LocalCluster, namespace: str) -> dict[str, Any]:
    runtime = cluster.request("GET", f"{DATA}/{namespace}/cacheruntimes/demo") or {}
    return runtime.get("status") or {}


def mount_time(cluster: LocalCluster, namespace: str) -> str | None:
    """When the engine last ran mountUFS successfully (the CacheRuntime's status.mountTime)."""
    return runtime_status(cluster, namespace).get("mountTime")


def watch_phases(cluster: LocalCluster, namespace: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Every phase the Dataset passes through, as `kubectl get --watch` prints them, gathered
    into the list while the process runs."""
    watch = subprocess.Popen(
        [
            "kubectl",
            f"--kubeconfig={cluster.kubeconfig}",
            *("get", "dataset", "demo", "-n", namespace, "--watch"),
            *("-o", 'jsonpath={.status.phase}{"\\n"}'),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    phases: list[str] = []

    def gather() -> None:
        assert watch.stdout is not None
        for line in watch.stdout:
            phases.append(line.strip())

    threading.Thread(target=gather, daemon=True).start()
    return watch, phases


def what_happened(kubectl: Any, namespace: str, phases: list[str]) -> str:
    """For a failure message: the phases seen, the namespace's events, the master's log."""
    events = kubectl("get", "events", "-n", namespace, "--sort-by=.lastTimestamp").stdout
    master = kubectl("logs", "-n", namespace, "demo-master-0", "--tail=20").stdout
    return f"phases seen: {phases}\nevents:\n{events}\nmaster's log:\n{master}"


def dataset_columns(kubectl: Any, namespace: str) -> dict[str, str]:
    """`kubectl get dataset demo -o wide` as {column: value}: what a person sees."""
    shown = kubectl("get", "dataset", "demo", "-n", namespace, "-o", "wide")
    assert shown.returncode == 0, shown.stderr
    header, row = shown.stdout.splitlines()[:2]
    # Cells start under their column's name (names hold single spaces, gaps are wider); an
    # empty cell is blank.
    starts = [(m.group(), m.start()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    ends = [start for _, start in starts[1:]] + [len(row)]
    return {name: row[start:end].strip() for (name, start), end in zip(starts, ends, strict=True)}


COLUMNS = {
    "cached": "CACHED",
    "cacheCapacity": "CACHE CAPACITY",
    "cachedPercentage": "CACHED PERCENTAGE",
    "cacheHitRatio": "CACHE HIT RATIO",
}
"""reportSummary's fields and the `kubectl get dataset -o wide` columns that show them."""


def shown_figures(kubectl: Any, namespace: str) -> dict[str, str]:
    columns = dataset_columns(kubectl, namespace)
    return {field: columns[column] for field, column in COLUMNS.items()}


def summary(kubectl: Any, namespace: str) -> dict[str, str]:
    """reportSummary run by hand, as the engine runs it: exec in the master's first pod."""
    ran = kubectl("exec", "-n", namespace, "demo-master-0", "--", "democache", "report-summary")
    assert ran.returncode == 0, ran.stderr
    figures: dict[str, str] = json.loads(ran.stdout)
    assert set(figures) == set(COLUMNS), figures
    return figures


def ratio(percentage: str) -> float:
    return float(percentage.rstrip("%"))


def reader_pod(name: str, target: Path, script: str) -> dict[str, Any]:
    """An application pod that reads the cache through the FUSE mount on the host (hostPath,
    HostToContainer: what Fluid's CSI plugin would mount for it)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": on_real_node(
            {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "app",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "Never",
                        "command": ["sh", "-c", script],
                        "volumeMounts": [
                            {
                                "name": "cache",
                                "mountPath": "/cache",
                                "mountPropagation": "HostToContainer",
                                "readOnly": True,
                            }
                        ],
                    }
                ],
                "volumes": [{"name": "cache", "hostPath": {"path": str(target)}}],
            }
        ),
    }


def run_reader(cluster: LocalCluster, kubectl: Any, namespace: str, pod: dict[str, Any]) -> str:
    apply(kubectl, [{**pod, "metadata": {**pod["metadata"], "namespace": namespace}}])
    name = pod["metadata"]["name"]

    def phase() -> str | None:
        found = cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}") or {}
        return (found.get("status") or {}).get("phase")

    finished = wait_for(
        lambda: phase() in ("Succeeded", "Failed") and phase(),
        f"application pod {name} finished",
        timeout=120,
    )
    logs = str(kubectl("logs", "-n", namespace, name).stdout)
    assert finished == "Succeeded", logs
    return logs


def start_democache(
    cluster: LocalCluster, kubectl: Any, namespace: str, ufs: Path
) -> tuple[Path, dict[str, Any]]:
    """The class and the example Dataset over `ufs`, Bound, with the FUSE client mounted on the
    node; returns the client's target path and the bound Dataset."""
    apply(kubectl, example("cacheruntimeclass.yaml", ufs, namespace))
    apply(kubectl, example("dataset.yaml", ufs, namespace))
    wait_for(lambda: dataset_phase(cluster, namespace) == "Bound", "Dataset Bound", timeout=300)

    # What Fluid's CSI plugin does when an application on the node mounts the Dataset.
    client = cluster.request("GET", f"/apis/apps/v1/namespaces/{namespace}/daemonsets/demo-client")
    label = next(
        k for k in client["spec"]["template"]["spec"]["nodeSelector"] if k.startswith("fluid.io/f-")
    )
    labelled = kubectl("label", "node", NODE_NAME, f"{label}=true")
    assert labelled.returncode == 0, labelled.stderr
    assert cluster.node is not None
    target = cluster.node.mount_root / "cache" / namespace / "demo" / "cache-fuse"
    wait_for(lambda: fuse_mounts(target), "the FUSE client's mount on the host", timeout=120)
    return target, dataset(cluster, namespace)


def delete_democache(cluster: LocalCluster, kubectl: Any, namespace: str, target: Path) -> None:
    deleted = kubectl("delete", "dataset", "demo", "-n", namespace, "--wait=false")
    assert deleted.returncode == 0, deleted.stderr
    wait_for(lambda: not fuse_mounts(target), "the FUSE mount gone from the host", timeout=180)

    def cache_pods() -> list[str]:
        pods = cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods")["items"]
        return [p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("demo-")]

    wait_for(lambda: not cache_pods(), "the cache system's pods gone", timeout=180)


@pytest.fixture
def ufs(
    real_cluster: LocalCluster, deployed_manager: Path, democache_image: str, real_namespace: str
) -> Path:
    """An empty directory of the node for the Dataset's under file system, with the manager
    running and democache's image on the node."""
    assert real_cluster.node is not None
    directory = real_cluster.node.dir / "ufs" / real_namespace
    directory.mkdir(parents=True)
    return directory


def test_an_application_reads_a_file_through_the_cache_and_the_dataset_shows_it_cached(
    real_cluster: LocalCluster, real_namespace: str, kubectl: Any, ufs: Path
) -> None:
    (ufs / "sub").mkdir()
    payload = os.urandom(3 * 2**20 + 12345)
    (ufs / "sub" / "blob.bin").write_bytes(payload)
    (ufs / "hello.txt").write_text("hello through the cache\n")
    target, bound = start_democache(real_cluster, kubectl, real_namespace, ufs)
    assert bound["status"]["mounts"] == bound["spec"]["mounts"]
    # A Dataset binds once one worker is ready; the hit counts below assume the client spreads
    # the blocks over both (a worker ready later serves blocks read after that).
    wait_for(
        lambda: (
            runtime_status(real_cluster, real_namespace).get("worker", {}).get("readyReplicas") == 2
        ),
        "both workers ready",
        timeout=120,
    )

    # democache's master serves only what mountUFS mounted: these bytes prove the engine ran it.
    first = run_reader(
        real_cluster,
        kubectl,
        real_namespace,
        reader_pod(
            "first-read", target, "sha256sum /cache/data/sub/blob.bin; cat /cache/data/hello.txt"
        ),
    )
    assert hashlib.sha256(payload).hexdigest() in first
    assert "hello through the cache" in first

    def counting_both_workers() -> dict[str, str] | None:
        figures = summary(kubectl, real_namespace)
        return figures if figures["cacheCapacity"] == "2.00GiB" else None

    after_first = wait_for(
        counting_both_workers,
        "reportSummary counting both workers (the master's runtime.json lists their IPs)",
        timeout=120,
        interval=1,
    )
    assert parse_human_bytes(after_first["cached"]) >= 3 * 2**20
    assert after_first["cachedPercentage"] == "100.0%"
    # The engine runs reportSummary every few seconds while the Dataset is Bound.
    wait_for(
        lambda: shown_figures(kubectl, real_namespace) == after_first,
        "the Dataset's columns showing reportSummary's figures",
        timeout=120,
        interval=1,
    )

    second = run_reader(
        real_cluster,
        kubectl,
        real_namespace,
        reader_pod("second-read", target, "sha256sum /cache/data/sub/blob.bin"),
    )
    assert hashlib.sha256(payload).hexdigest() in second
    # Every block of the second read came from the workers' tiered store: nothing new cached,
    # only hits added.
    after_second = summary(kubectl, real_namespace)
    assert after_second["cached"] == after_first["cached"]
    assert ratio(after_second["cacheHitRatio"]) > ratio(after_first["cacheHitRatio"])
    wait_for(
        lambda: shown_figures(kubectl, real_namespace) == after_second,
        "the Dataset's columns showing the second read's hits",
        timeout=120,
        interval=1,
    )

    delete_democache(real_cluster, kubectl, real_namespace, target)


def test_a_new_mount_goes_through_updating_to_bound_and_is_readable(
    real_cluster: LocalCluster, real_namespace: str, kubectl: Any, ufs: Path
) -> None:
    (ufs / "hello.txt").write_text("the first mount\n")
    target, bound = start_democache(real_cluster, kubectl, real_namespace, ufs)
    bound_at = mount_time(real_cluster, real_namespace)

    # A second mount: a directory the runtime's hostPath volume already brings into the pods.
    (ufs / "extra").mkdir()
    (ufs / "extra" / "new.txt").write_text("the mount added later\n")
    mounts = [*bound["spec"]["mounts"], {"name": "extra", "mountPoint": f"local://{ufs}/extra"}]
    watch, phases = watch_phases(real_cluster, real_namespace)
    try:
        patched = kubectl(
            *("patch", "dataset", "demo", "-n", real_namespace, "--type=merge"),
            *("-p", json.dumps({"spec": {"mounts": mounts}})),
        )
        assert patched.returncode == 0, patched.stderr
        # mountUFS answers with the old mounts until the kubelet refreshes runtime.json in the
        # master's pod (its pod sync, every 10 s here); the engine asks again every sync
        # interval meanwhile.
        try:
            wait_for(
                lambda: "Updating" in phases and phases[-1] == "Bound" and phases,
                "the Dataset Updating, then Bound again",
                timeout=180,
                interval=0.5,
            )
        except AssertionError as error:
            happened = what_happened(kubectl, real_namespace, phases)
            raise AssertionError(f"{error}\n{happened}") from None
    finally:
        watch.terminate()
        watch.wait(timeout=30)
    assert dataset(real_cluster, real_namespace)["status"]["mounts"] == mounts
    assert mount_time(real_cluster, real_namespace) != bound_at

    # The client lists the master's mounts every few seconds: wait for the new name to appear.
    read = run_reader(
        real_cluster,
        kubectl,
        real_namespace,
        reader_pod(
            "new-mount",
            target,
            "for i in $(seq 30); do [ -e /cache/extra/new.txt ] && break; sleep 1; done;"
            " ls /cache; cat /cache/extra/new.txt /cache/data/hello.txt",
        ),
    )
    assert read.split()[:2] == ["data", "extra"], read
    assert "the mount added later" in read
    assert "the first mount" in read

    delete_democache(real_cluster, kubectl, real_namespace, target)

"""The example cache system (examples/democache), run by the manager pod on the real node: the
Dataset binds, an application reads a file's exact bytes through the FUSE mount, the second read
comes from the workers' cache, and deleting the Dataset unmounts the client on the host."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

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


def dataset_phase(cluster: LocalCluster, namespace: str) -> str | None:
    dataset = cluster.request("GET", f"{DATA}/{namespace}/datasets/demo") or {}
    return (dataset.get("status") or {}).get("phase")


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


def run_reader(
    cluster: LocalCluster,
    kubectl: Any,
    namespace: str,
    pod: dict[str, Any],
) -> str:
    apply(kubectl, [{**pod, "metadata": {**pod["metadata"], "namespace": namespace}}])
    name = pod["metadata"]["name"]
    wait_for(
        lambda: (
            (
                (cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}") or {}).get(
                    "status"
                )
                or {}
            ).get("phase")
            in ("Succeeded", "Failed")
        ),
        f"application pod {name} finished",
        timeout=120,
    )
    return str(kubectl("logs", "-n", namespace, name).stdout)


def summary(kubectl: Any, namespace: str) -> dict[str, str]:
    """reportSummary, run the way an execution entry is: exec in the master's first pod."""
    ran = kubectl("exec", "-n", namespace, "demo-master-0", "--", "democache", "report-summary")
    assert ran.returncode == 0, ran.stderr
    result: dict[str, str] = json.loads(ran.stdout)
    return result


def test_an_application_reads_a_file_through_the_cache(
    real_cluster: LocalCluster,
    deployed_manager: Path,
    democache_image: str,
    real_namespace: str,
    kubectl: Any,
) -> None:
    node = real_cluster.node
    assert node is not None
    ufs = node.dir / "ufs" / real_namespace
    (ufs / "sub").mkdir(parents=True)
    payload = os.urandom(3 * 2**20 + 12345)
    (ufs / "sub" / "blob.bin").write_bytes(payload)
    (ufs / "hello.txt").write_text("hello through the cache\n")
    apply(kubectl, example("cacheruntimeclass.yaml", ufs, real_namespace))
    apply(kubectl, example("dataset.yaml", ufs, real_namespace))

    wait_for(
        lambda: dataset_phase(real_cluster, real_namespace) == "Bound", "Dataset Bound", timeout=300
    )
    mounted = kubectl("exec", "-n", real_namespace, "demo-master-0", "--", "democache", "mount-ufs")
    assert json.loads(mounted.stdout) == {"mounted": ["/data"]}, mounted.stderr

    # What Fluid's CSI plugin does when an application on the node mounts the Dataset.
    client = real_cluster.request(
        "GET", f"/apis/apps/v1/namespaces/{real_namespace}/daemonsets/demo-client"
    )
    label = next(
        k for k in client["spec"]["template"]["spec"]["nodeSelector"] if k.startswith("fluid.io/f-")
    )
    labelled = kubectl("label", "node", NODE_NAME, f"{label}=true")
    assert labelled.returncode == 0, labelled.stderr
    target = node.mount_root / "cache" / real_namespace / "demo" / "cache-fuse"
    wait_for(lambda: fuse_mounts(target), "the FUSE client's mount on the host", timeout=120)

    first = run_reader(
        real_cluster,
        kubectl,
        real_namespace,
        reader_pod(
            "first-read",
            target,
            "sha256sum /cache/data/sub/blob.bin; cat /cache/data/hello.txt",
        ),
    )
    assert hashlib.sha256(payload).hexdigest() in first
    assert "hello through the cache" in first
    # The master finds the workers in its runtime.json, which follows their pods' IPs.
    after_first = wait_for(
        lambda: (
            (figures := summary(kubectl, real_namespace))
            and int(figures["cached"]) >= len(payload)
            and figures
        ),
        "the workers' cached bytes in reportSummary",
    )

    second = run_reader(
        real_cluster,
        kubectl,
        real_namespace,
        reader_pod("second-read", target, "sha256sum /cache/data/sub/blob.bin"),
    )
    assert hashlib.sha256(payload).hexdigest() in second
    after_second = summary(kubectl, real_namespace)
    # Every block came from the workers' tiered store: nothing new cached, only hits added.
    assert after_second["cached"] == after_first["cached"]
    hit_ratio = [float(s["cacheHitRatio"].rstrip("%")) for s in (after_first, after_second)]
    assert hit_ratio[1] > hit_ratio[0]

    deleted = kubectl("delete", "dataset", "demo", "-n", real_namespace, "--wait=false")
    assert deleted.returncode == 0, deleted.stderr
    wait_for(lambda: not fuse_mounts(target), "the FUSE mount gone from the host", timeout=180)
    wait_for(
        lambda: (
            not [
                p
                for p in real_cluster.request("GET", f"/api/v1/namespaces/{real_namespace}/pods")[
                    "items"
                ]
                if p["metadata"]["name"].startswith("demo-")
            ]
        ),
        "the cache system's pods gone",
        timeout=180,
    )

"""`make dev REAL_NODE=1`: the whole story on a real node, for a person to watch.

A local control plane with a real node; the manager's image built from the Dockerfile and
deployed with `kubectl apply -k` over config/ (the real node's overlay); the example cache system
(examples/democache) serving a directory of the node; an application pod that prints the
first lines of a file it reads through the cache's FUSE mount; and the Dataset's cache figures,
which the engine gets from democache's reportSummary. The cluster stays up for kubectl until
`fluidpy cluster delete --name <name>`.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from fluidpy.testing.realnode import (
    NODE_DIRECTORY,
    NODE_NAME,
    containerd_binaries,
    import_image,
)
from fluidpy.testing.realnode_pods import MANAGER_IMAGE, on_real_node, write_manager_overlay
from fluidpy_cli import cluster

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "democache"
DEMOCACHE_IMAGE = "localhost/democache:dev"
NAMESPACE = "default"
STEPS = 7


def step(number: int, text: str) -> None:
    print(f"\n[{number}/{STEPS}] {text}", flush=True)


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"error: kubectl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def wait(what: str, probe: Callable[[], Any], timeout: float = 300) -> Any:
    started = time.monotonic()
    while not (found := probe()):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"error: {what}: nothing after {timeout:.0f} s")
        time.sleep(1)
    print(f"  {what} ({time.monotonic() - started:.0f} s)", flush=True)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cluster(name: str) -> Path:
    step(1, f'local control plane "{name}" with a real node')
    try:
        kubeconfig = cluster.kubeconfig(name)
        print("  already running", flush=True)
    except cluster.ClusterCommandError:
        kubeconfig = cluster.create(
            name, nodes=1, crds=[REPO / "config" / "crd" / "bases"], real_node=True
        )
    return kubeconfig


def build_and_import(node: Path) -> None:
    step(2, "images: buildah on a local Debian base, imported into the node's containerd")
    for context, reference in ((REPO, MANAGER_IMAGE), (EXAMPLE, DEMOCACHE_IMAGE)):
        built = subprocess.run(
            [str(REPO / "hack/realnode/image.sh"), sys.executable, str(context), reference],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            raise SystemExit(f"error: building {reference} failed (see above)")
        import_image(containerd_binaries() / "ctr", node, Path(built.stdout.split()[-1]))
        print(f"  {reference} imported", flush=True)


def deploy_manager(kubeconfig: Path, node: Path) -> None:
    step(3, "the manager: kubectl apply -k over config/")
    overlay = write_manager_overlay(
        node.parent / "manager-overlay",
        REPO / "config",
        mount_root=node / "mnt",
        api_server_port=int(
            json.loads((node.parent / "ready").read_text())["server"].rsplit(":", 1)[1]
        ),
        metrics_port=free_port(),
        probe_port=free_port(),
    )
    kubectl(kubeconfig, "apply", "-k", str(overlay))
    wait(
        "a manager pod Ready",
        lambda: (
            "True"
            in kubectl(
                kubeconfig,
                "get",
                "pods",
                "-n",
                "fluid-system",
                "-o",
                "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}",
            )
        ),
    )


def apply_example(kubeconfig: Path, node: Path) -> Path:
    step(4, "democache: a CacheRuntimeClass, a Dataset of a node directory, its CacheRuntime")
    ufs = node / "ufs"
    ufs.mkdir(exist_ok=True)
    lines = [f"line {n}: read through democache's workers and its FUSE client" for n in range(100)]
    (ufs / "story.txt").write_text("\n".join(lines) + "\n")
    documents = []
    for name in ("cacheruntimeclass.yaml", "dataset.yaml"):
        text = (EXAMPLE / name).read_text().replace("${UFS}", str(ufs))
        documents += [d for d in yaml.safe_load_all(text) if d]
    kubectl(
        kubeconfig,
        "apply",
        "-n",
        NAMESPACE,
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": documents}),
    )
    wait(
        "Dataset demo Bound",
        lambda: (
            kubectl(
                kubeconfig,
                "get",
                "dataset",
                "demo",
                "-n",
                NAMESPACE,
                "-o",
                "jsonpath={.status.phase}",
            )
            == "Bound"
        ),
    )
    return ufs


def read_through_the_cache(kubeconfig: Path, node: Path) -> None:
    step(5, "the FUSE client, on the node where an application mounts the Dataset")
    selector = json.loads(
        kubectl(
            kubeconfig,
            "get",
            "daemonset",
            "demo-client",
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.spec.template.spec.nodeSelector}",
        )
    )
    label = next(key for key in selector if key.startswith("fluid.io/f-"))
    # What Fluid's CSI plugin does when an application on the node mounts the Dataset.
    kubectl(kubeconfig, "label", "node", NODE_NAME, f"{label}=true", "--overwrite")
    target = node / "mnt" / "cache" / NAMESPACE / "demo" / "cache-fuse"
    wait(
        f"FUSE mount at {target}",
        lambda: any(
            line.split()[4] == str(target)
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
        ),
    )
    step(6, "an application pod reads the file through the mount")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "reader", "namespace": NAMESPACE},
        "spec": on_real_node(
            {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "reader",
                        "image": "localhost/busybox:local",
                        "imagePullPolicy": "Never",
                        "command": ["head", "-n", "5", "/cache/data/story.txt"],
                        "volumeMounts": [
                            {
                                "name": "cache",
                                "mountPath": "/cache",
                                "mountPropagation": "HostToContainer",
                            }
                        ],
                    }
                ],
                "volumes": [{"name": "cache", "hostPath": {"path": str(target)}}],
            }
        ),
    }
    kubectl(kubeconfig, "delete", "pod", "reader", "-n", NAMESPACE, "--ignore-not-found")
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(pod))
    wait(
        "pod reader finished",
        lambda: (
            kubectl(
                kubeconfig,
                "get",
                "pod",
                "reader",
                "-n",
                NAMESPACE,
                "-o",
                "jsonpath={.status.phase}",
            )
            in ("Succeeded", "Failed")
        ),
    )
    print(kubectl(kubeconfig, "logs", "reader", "-n", NAMESPACE), flush=True)


def show_cache_figures(kubeconfig: Path) -> None:
    step(7, "the Dataset's cache figures: the engine runs democache's reportSummary while bound")

    def cached() -> str:
        return kubectl(
            kubeconfig,
            *("get", "dataset", "demo", "-n", NAMESPACE),
            *("-o", "jsonpath={.status.cacheStates.cached}"),
        )

    wait("the read's blocks in the Dataset's cacheStates", lambda: cached() not in ("", "0.00B"))
    print(kubectl(kubeconfig, "get", "dataset", "demo", "-n", NAMESPACE, "-o", "wide"), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cluster", default="fluidpy-dev-real", help="default: fluidpy-dev-real")
    args = parser.parse_args(argv)
    try:
        kubeconfig = start_cluster(args.cluster)
    except cluster.ClusterCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    node = cluster.cluster_dir(args.cluster) / NODE_DIRECTORY
    build_and_import(node)
    deploy_manager(kubeconfig, node)
    apply_example(kubeconfig, node)
    read_through_the_cache(kubeconfig, node)
    show_cache_figures(kubeconfig)
    print(
        f"Try:\n  export KUBECONFIG={kubeconfig}\n"
        f"  kubectl get datasets,cacheruntimes,pods -n {NAMESPACE} -o wide\n"
        f"  kubectl exec -n {NAMESPACE} demo-master-0 -- democache report-summary\n"
        f"Delete everything with: fluidpy cluster delete --name {args.cluster}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

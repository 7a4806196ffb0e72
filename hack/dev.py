"""`make dev`: the local control plane, the CRDs, the manager and a sample, coming up live.

Each step says what it does; the fifth follows the sample's Dataset and runtime until the
Dataset is Bound, the last warms its cache with a DataLoad and follows it until Complete, then
the manager keeps running (Ctrl-C stops it; the cluster stays up for
kubectl until `make clean-cluster`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from fluidpy.api.install import install_crds
from fluidpy.client import Client
from fluidpy.controllers.dataload import DATALOAD
from fluidpy.controllers.kinds import CACHE_RUNTIME, DATASET
from fluidpy_cli import cluster

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "config" / "samples" / "cacheruntime" / "demofs.yaml"
CRDS = REPO / "config" / "crd" / "bases"
DATALOAD_SAMPLE = REPO / "config" / "samples" / "cacheruntime" / "demofs-dataload.yaml"
STEPS = 6


def step(number: int, text: str) -> None:
    print(f"\n[{number}/{STEPS}] {text}", flush=True)


def start_cluster(name: str) -> Path:
    step(1, f'local control plane "{name}"')
    try:
        kubeconfig = cluster.kubeconfig(name)
        print("  already running", flush=True)
    except cluster.ClusterCommandError:
        kubeconfig = cluster.create(name, nodes=3, crds=[CRDS])
    return kubeconfig


def start_manager(args: argparse.Namespace, kubeconfig: Path) -> subprocess.Popen[bytes]:
    log_path = cluster.cluster_dir(args.cluster) / "manager.log"
    step(3, f"manager (logs: {log_path})")
    log = log_path.open("ab")
    manager = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fluidpy_cli.main",
            "manager",
            f"--kubeconfig={kubeconfig}",
            f"--metrics-bind-address=127.0.0.1:{args.metrics_port}",
            f"--health-probe-bind-address=127.0.0.1:{args.probe_port}",
            "--log-format=json",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _ready(args.probe_port):
        if manager.poll() is not None or time.monotonic() > deadline:
            manager.kill()
            raise SystemExit(f"error: the manager did not become ready; see {log_path}")
        time.sleep(0.2)
    print(f"  ready: /metrics on :{args.metrics_port}, /readyz on :{args.probe_port}", flush=True)
    return manager


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def apply_sample(client: Client) -> tuple[str, str]:
    step(4, f"sample {SAMPLE.relative_to(REPO)}")
    dataset = ("", "")
    for document in yaml.safe_load_all(SAMPLE.read_text()):
        if not document:
            continue
        document.setdefault("metadata", {}).setdefault("namespace", "default")
        if document["kind"] == "CacheRuntimeClass":
            document["metadata"].pop("namespace")
        client.apply(document)
        print(f"  applied {document['kind']} {document['metadata']['name']}", flush=True)
        if document["kind"] == "Dataset":
            dataset = (document["metadata"]["namespace"], document["metadata"]["name"])
    return dataset


def describe(client: Client, namespace: str, name: str) -> str:
    dataset = client.get(DATASET, name, namespace) or {}
    runtime = client.get(CACHE_RUNTIME.gvk, name, namespace) or {}
    status = runtime.get("status") or {}
    parts = [f"Dataset {(dataset.get('status') or {}).get('phase') or '-':9}"]
    for component in ("master", "worker", "client"):
        state = status.get(component)
        if state:
            parts.append(
                f"{component} {state.get('phase', '-')} "
                f"{state.get('readyReplicas', 0)}/{state.get('desiredReplicas', 0)}"
            )
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready and ready.get("status") != "True":
        parts.append(f"({ready.get('reason')}: {ready.get('message')})")
    return "  ".join(parts)


def follow(
    client: Client,
    namespace: str,
    name: str,
    *,
    kubeconfig: Path,
    exit_when_bound: bool,
    manager: subprocess.Popen[bytes],
) -> int:
    step(5, f"runtime {namespace}/{name} coming up")
    started = time.monotonic()
    last = ""
    bound = False
    while manager.poll() is None:
        line = describe(client, namespace, name)
        if line != last:
            print(f"  {time.monotonic() - started:5.1f}s  {line}", flush=True)
            last = line
        if not bound and line.startswith("Dataset Bound"):
            bound = True
            print(
                f"\nDataset {namespace}/{name} is Bound. Try:\n"
                f"  export KUBECONFIG={kubeconfig}\n"
                f"  kubectl get datasets,cacheruntimes,statefulsets,daemonsets,pvc -n {namespace}"
                f"\n  kubectl get configmap fluid-runtime-config-{name} -n {namespace} "
                "-o jsonpath='{.data.runtime\\.json}'",
                flush=True,
            )
            if not warm_cache(client, manager):
                return 1
            if exit_when_bound:
                return 0
            print(
                "\nThe manager keeps running; Ctrl-C stops it (the cluster stays up: "
                "make clean-cluster removes it).",
                flush=True,
            )
        time.sleep(0.5)
    print("error: the manager exited; see its log", file=sys.stderr)
    return 1


def warm_cache(client: Client, manager: subprocess.Popen[bytes], timeout: float = 120) -> bool:
    """The last step: a DataLoad on the sample, followed until it is Complete."""
    [load] = [d for d in yaml.safe_load_all(DATALOAD_SAMPLE.read_text()) if d]
    namespace, name = load["metadata"]["namespace"], load["metadata"]["name"]
    step(6, f"DataLoad {namespace}/{name} ({DATALOAD_SAMPLE.relative_to(REPO)})")
    client.apply(load)
    started = time.monotonic()
    last = ""
    while manager.poll() is None and time.monotonic() - started < timeout:
        status = (client.get(DATALOAD, name, namespace) or {}).get("status") or {}
        conditions = status.get("conditions") or [{}]
        line = f"{status.get('phase') or '-':9} {status.get('duration') or ''}"
        if status.get("phase") in ("Failed", "Pending") and conditions[-1].get("message"):
            line += f"  ({conditions[-1].get('reason')}: {conditions[-1].get('message')})"
        if line != last:
            print(f"  {time.monotonic() - started:5.1f}s  {line}", flush=True)
            last = line
        if status.get("phase") in ("Complete", "Failed"):
            print(f"  kubectl get dataload {name} -n {namespace}", flush=True)
            return bool(status["phase"] == "Complete")
        time.sleep(0.5)
    print(f"error: DataLoad {namespace}/{name} did not finish", file=sys.stderr)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--exit-when-bound",
        action="store_true",
        help="stop the manager and exit once the sample's Dataset is Bound",
    )
    parser.add_argument("--cluster", default="fluidpy-dev", help="default: fluidpy-dev")
    parser.add_argument("--metrics-port", type=int, default=18080, help="default: 18080")
    parser.add_argument("--probe-port", type=int, default=18081, help="default: 18081")
    args = parser.parse_args(argv)
    try:
        kubeconfig = start_cluster(args.cluster)
    except cluster.ClusterCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    from kubernetes import config

    api_client: Any = config.new_client_from_config(config_file=str(kubeconfig))
    step(2, "CustomResourceDefinitions")
    print(f"  established: {', '.join(install_crds(api_client))}", flush=True)
    manager = start_manager(args, kubeconfig)
    try:
        namespace, name = apply_sample(Client(api_client, qps=0))
        return follow(
            Client(api_client, qps=0),
            namespace,
            name,
            kubeconfig=kubeconfig,
            exit_when_bound=args.exit_when_bound,
            manager=manager,
        )
    except KeyboardInterrupt:
        print("\nstopping the manager", flush=True)
        return 0
    finally:
        manager.terminate()
        manager.wait(timeout=40)


if __name__ == "__main__":
    sys.exit(main())

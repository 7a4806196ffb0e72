"""`make dev`: the local control plane, the CRDs, the manager and a sample, coming up live.

Each step says what it does; the last one follows the sample's Dataset and runtime until the
Dataset is Bound, then keeps the manager running (Ctrl-C stops it; the cluster stays up for
kubectl until `make clean-cluster`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from fluidpy.api.install import install_crds
from fluidpy.client import Client
from fluidpy_cli import cluster, status

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "config" / "samples" / "cacheruntime" / "demofs.yaml"
CRDS = REPO / "config" / "crd" / "bases"
STEPS = 5


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
        view = status.gather(client, namespace, name)
        screen = status.render(view)
        if screen != last:
            print(f"\n  {time.monotonic() - started:5.1f}s", flush=True)
            print(textwrap.indent(screen, "  "), flush=True)
            last = screen
        if not bound and view.phase == "Bound":
            bound = True
            print(
                f"\nDataset {namespace}/{name} is Bound. Try:\n"
                f"  export KUBECONFIG={kubeconfig}\n"
                f"  kubectl get datasets,cacheruntimes,statefulsets,daemonsets,pvc -n {namespace}"
                f"\n  kubectl get configmap fluid-runtime-config-{name} -n {namespace} "
                "-o jsonpath='{.data.runtime\\.json}'",
                flush=True,
            )
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

"""`make dev`: the local control plane, the CRDs, the manager and a sample, coming up live.

Each step prints one numbered line (STEPS lists them; a new step is a title there and a call to
`step`). The fifth follows the sample's Dataset and runtime until the Dataset is Bound; the last
warms its cache with a DataLoad and follows it until Complete; then the manager keeps running.
Ctrl-C stops the manager the way a pod is stopped: one SIGTERM, then it drains its queues. The
manager runs in a session of its own, so the terminal's SIGINT reaches only this script, which
forwards exactly one signal; a second Ctrl-C stops it at once. The cluster stays up for kubectl
until `make clean-cluster`.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import yaml

from fluidpy.api.install import install_crds
from fluidpy.client import ApiServerConnection, Client
from fluidpy.client.config import load_connection
from fluidpy.controllers.dataload import DATALOAD
from fluidpy.log import configure as configure_logging
from fluidpy_cli import cluster, status

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "config" / "samples" / "cacheruntime" / "demofs.yaml"
DATALOAD_SAMPLE = REPO / "config" / "samples" / "cacheruntime" / "demofs-dataload.yaml"
CRDS = REPO / "config" / "crd"
STEPS = (
    "local control plane",
    "CustomResourceDefinitions",
    "manager",
    "sample",
    "runtime",
    "DataLoad",
)
READY_TIMEOUT = 120.0
"""Seconds the manager may take to serve /readyz: 3 to 6 s measured on this 2-core machine
under load; generous, because the wait ends as soon as it is ready."""
STOP_TIMEOUT = 45.0
"""Seconds the manager gets to drain after SIGTERM: its graceful shutdown timeout (30 s) plus
room to flush events and close; after that it is killed."""


def step(title: str, detail: str) -> None:
    print(f"\n[{STEPS.index(title) + 1}/{len(STEPS)}] {title}: {detail}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cluster(name: str) -> tuple[Path, bool]:
    """The cluster's kubeconfig, and whether it was created now (with the CRDs installed)."""
    step("local control plane", f'"{name}"')
    try:
        kubeconfig = cluster.kubeconfig(name)
    except cluster.ClusterCommandError:
        return cluster.create(name, nodes=cluster.DEFAULT_NODES, crds=[CRDS]), True
    print(f"  already running: {kubeconfig}", flush=True)
    return kubeconfig, False


def apply_crds(connection: ApiServerConnection, created: bool) -> None:
    """A new cluster got the CRDs before its controller manager started; a reused one may hold
    older ones, so they are applied again (server-side apply converges)."""
    if created:
        step(
            "CustomResourceDefinitions", f"installed with the cluster from {CRDS.relative_to(REPO)}"
        )
        return
    step("CustomResourceDefinitions", "applying to the running cluster")
    print(f"  established: {', '.join(install_crds(connection))}", flush=True)


def start_manager(
    args: argparse.Namespace, kubeconfig: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    step("manager", f"log in {log_path}")
    parent_death = [shutil.which("setpriv") or "", "--pdeathsig", "TERM"]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [
                *(parent_death if parent_death[0] else []),
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
            start_new_session=True,
        )


def wait_ready(manager: subprocess.Popen[bytes], args: argparse.Namespace, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not _ready(args.probe_port):
        if manager.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"error: the manager did not become ready; see {log}")
        time.sleep(0.2)
    print(f"  ready: /metrics on :{args.metrics_port}, /readyz on :{args.probe_port}", flush=True)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def stop_manager(manager: subprocess.Popen[bytes]) -> None:
    """One SIGTERM and a wait for the drain; a second Ctrl-C sends the second signal that makes
    the manager exit at once."""
    if manager.poll() is not None:
        return
    print("\nstopping the manager: it finishes its queued work (Ctrl-C again: at once)", flush=True)
    manager.send_signal(signal.SIGTERM)
    try:
        manager.wait(timeout=STOP_TIMEOUT)
    except KeyboardInterrupt:
        manager.send_signal(signal.SIGTERM)
        manager.wait()
    except subprocess.TimeoutExpired:
        manager.kill()
        manager.wait()
    print(f"manager stopped (exit status {manager.returncode})", flush=True)


def apply_sample(client: Client) -> tuple[str, str]:
    step("sample", str(SAMPLE.relative_to(REPO)))
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
    manager: subprocess.Popen[bytes],
) -> int:
    step("runtime", f"{namespace}/{name} coming up")
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
            if not warm_cache(client, manager):
                return 1
            print(
                "\nThe manager keeps running; Ctrl-C stops it (the cluster stays up: "
                "make clean-cluster removes it).",
                flush=True,
            )
        time.sleep(0.5)
    print("error: the manager exited; see its log", file=sys.stderr)
    return 1


def warm_cache(client: Client, manager: subprocess.Popen[bytes], timeout: float = 120) -> bool:
    """A DataLoad on the sample, followed until it is Complete."""
    [load] = [d for d in yaml.safe_load_all(DATALOAD_SAMPLE.read_text()) if d]
    namespace, name = load["metadata"]["namespace"], load["metadata"]["name"]
    step("DataLoad", f"{namespace}/{name} ({DATALOAD_SAMPLE.relative_to(REPO)})")
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


def run(args: argparse.Namespace) -> int:
    try:
        kubeconfig, created = start_cluster(args.cluster)
    except cluster.ClusterCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    connection = load_connection(kubeconfig)
    apply_crds(connection, created)
    log_path = cluster.cluster_dir(args.cluster) / "manager.log"
    manager = start_manager(args, kubeconfig, log_path)
    try:
        wait_ready(manager, args, log_path)
        namespace, name = apply_sample(Client(connection, qps=0))
        return follow(
            Client(connection, qps=0),
            namespace,
            name,
            kubeconfig=kubeconfig,
            manager=manager,
        )
    finally:
        stop_manager(manager)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cluster",
        required=True,
        help="the local cluster to use, created when missing (the Makefile names it after "
        "the checkout: DEV_CLUSTER)",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=0, help="manager's /metrics port (default: a free one)"
    )
    parser.add_argument(
        "--probe-port", type=int, default=0, help="manager's /readyz port (default: a free one)"
    )
    args = parser.parse_args(argv)
    args.metrics_port = args.metrics_port or free_port()
    args.probe_port = args.probe_port or free_port()
    # This script's own client logs only what goes wrong; the manager's log is in its file.
    configure_logging("console", "warning", stream=sys.stderr)
    # `make` passes SIGTERM on to its recipe; it gets the same orderly stop as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return run(args)
    except KeyboardInterrupt:
        # A stop the user asked for, done in order: status 0, or make reports "Error 130".
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""`fluidpy cluster create|kubeconfig|delete`: a local control plane that outlives the command.

The conventions are kind's: clusters have names (default "fluidpy"), `create` returns once the
cluster is ready, and `delete` stops every process and removes every file. The kubeconfig path
goes to stdout, progress to stderr, so `export KUBECONFIG=$(fluidpy cluster create)` works.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DEFAULT_NAME = "fluidpy"
START_TIMEOUT = 300.0
STOP_TIMEOUT = 30.0


class ClusterCommandError(Exception):
    """A failure to report as one line, without a traceback."""


def cluster_dir(name: str) -> Path:
    # The testing kit needs the `testing` extra, which the manager's image lacks: imported on use.
    from fluidpy.testing._binaries import cache_root

    return cache_root() / "clusters" / name


def _supervisor_pid(directory: Path) -> int | None:
    try:
        pid = int((directory / "supervisor.pid").read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def create(name: str, nodes: int, crds: Sequence[Path] = (), real_node: bool = False) -> Path:
    directory = cluster_dir(name)
    if _supervisor_pid(directory) is not None:
        raise ClusterCommandError(
            f'cluster "{name}" already exists; delete it first: '
            f"fluidpy cluster delete --name {name}"
        )
    from fluidpy.testing import BinariesNotFound, find_binaries
    from fluidpy.testing.realnode import RealNodeUnavailable, find_realnode_binaries

    try:
        binaries = find_binaries()
        if real_node:
            find_realnode_binaries(binaries.directory)
    except (BinariesNotFound, RealNodeUnavailable) as error:
        raise ClusterCommandError(str(error)) from None
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    log_path = directory / "cluster.log"
    with log_path.open("wb") as log:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fluidpy.testing._serve",
                "--name",
                name,
                "--nodes",
                str(nodes),
                "--dir",
                str(directory),
                *[f"--crds={path.resolve()}" for path in crds],
                *(["--real-node"] if real_node else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (directory / "supervisor.pid").write_text(str(supervisor.pid))
    real = " and a real node" if real_node else ""
    print(f'Creating cluster "{name}" with {nodes} fake nodes{real} ...', file=sys.stderr)
    shown = 0
    deadline = time.monotonic() + START_TIMEOUT
    while not (directory / "ready").exists():
        lines = log_path.read_text(errors="replace").splitlines()
        for line in lines[shown:]:
            print(f" • {line}", file=sys.stderr)
        shown = len(lines)
        if supervisor.poll() is not None or time.monotonic() > deadline:
            supervisor.kill()
            raise ClusterCommandError(
                f'cluster "{name}" did not start; its log is {log_path}, component logs are '
                f"in {directory}"
            )
        time.sleep(0.2)
    kubeconfig = Path(json.loads((directory / "ready").read_text())["kubeconfig"])
    print(
        f'Cluster "{name}" is ready. Use it with:\n  export KUBECONFIG={kubeconfig}',
        file=sys.stderr,
    )
    return kubeconfig


def kubeconfig(name: str) -> Path:
    directory = cluster_dir(name)
    if _supervisor_pid(directory) is None or not (directory / "ready").exists():
        raise ClusterCommandError(
            f'no running cluster "{name}"; create one with: fluidpy cluster create --name {name}'
        )
    return Path(json.loads((directory / "ready").read_text())["kubeconfig"])


def delete(name: str) -> None:
    directory = cluster_dir(name)
    pid = _supervisor_pid(directory)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _supervisor_pid(directory) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if _supervisor_pid(directory) is not None:
            os.killpg(pid, signal.SIGKILL)
    from fluidpy.testing.realnode import sweep_cluster

    # A real node whose supervisor had to be killed leaves containers, mounts and cgroups.
    sweep_cluster(directory)
    if directory.exists():
        shutil.rmtree(directory)
        print(f'Deleted cluster "{name}".', file=sys.stderr)
    else:
        print(f'No cluster "{name}" to delete.', file=sys.stderr)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("cluster", help="run a local control plane (kind-style)")
    actions = parser.add_subparsers(dest="action", required=True)
    for action, help_text in (
        ("create", "start a cluster in the background and print its kubeconfig path"),
        ("kubeconfig", "print the kubeconfig path of a running cluster"),
        ("delete", "stop a cluster and remove its files"),
    ):
        sub = actions.add_parser(action, help=help_text)
        sub.add_argument("--name", default=DEFAULT_NAME, help=f"default: {DEFAULT_NAME}")
        if action == "create":
            sub.add_argument("--nodes", type=int, default=3, help="fake nodes (default: 3)")
            sub.add_argument(
                "--crds",
                type=Path,
                action="append",
                default=[],
                metavar="PATH",
                help="CRD manifests (a file, or a directory of *.yaml) to install before the "
                "controller manager starts, so garbage collection knows their kinds at once",
            )
            sub.add_argument(
                "--real-node",
                action="store_true",
                help="also run a real node (kubelet, containerd, runc) for hostNetwork pods; "
                "Linux and root only, after `make realnode` (default: off)",
            )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "create":
            print(create(args.name, args.nodes, args.crds, args.real_node))
        elif args.action == "kubeconfig":
            print(kubeconfig(args.name))
        else:
            delete(args.name)
    except ClusterCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0

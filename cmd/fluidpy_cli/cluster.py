"""`fluidpy cluster create|list|kubeconfig|delete`: local control planes that outlive the command.

The conventions are kind's: clusters have names (default "fluidpy"), `create` returns once the
cluster is ready, `list` shows them all, and `delete` stops every process and removes every file.
The kubeconfig path goes to stdout, progress to stderr, so `export KUBECONFIG=$(fluidpy cluster
create)` works.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import yaml

from fluidpy_cli.crds import ManifestError, read_crds

DEFAULT_NAME = "fluidpy"
START_TIMEOUT = 300.0
STOP_TIMEOUT = 30.0
DEFAULT_NODES = 3
"""Enough fake nodes for a master, workers and clients to land on different nodes."""


class ClusterCommandError(Exception):
    """A failure to report as one line, without a traceback."""


def testing_kit() -> ModuleType:
    """Where fluidpy.testing keeps and finds its binaries, imported on use: the kit needs the
    `testing` extra, which a plain install (the one `fluidpy manager` runs from) lacks."""
    try:
        from fluidpy.testing import _binaries
    except ModuleNotFoundError as error:
        raise ClusterCommandError(
            f"the local control plane needs fluidpy's testing extra ({error.name} is not "
            "installed): pip install 'fluidpy[testing]'"
        ) from None
    return _binaries


def clusters_root() -> Path:
    root: Path = testing_kit().cache_root() / "clusters"
    return root


def cluster_dir(name: str) -> Path:
    return clusters_root() / name


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


def create(
    name: str,
    nodes: int,
    crds: Sequence[Path] = (),
    real_node: bool = False,
    exec_path: Sequence[Path] = (),
) -> Path:
    directory = cluster_dir(name)
    if _supervisor_pid(directory) is not None:
        raise ClusterCommandError(
            f'cluster "{name}" already exists; delete it first: '
            f"fluidpy cluster delete --name {name}"
        )
    kit = testing_kit()
    try:
        binaries = kit.find_binaries()
        found = read_crds(crds)
    except (kit.BinariesNotFound, ManifestError) as error:
        raise ClusterCommandError(str(error)) from None
    if real_node:
        from fluidpy.testing.realnode import RealNodeUnavailable, find_realnode_binaries

        try:
            find_realnode_binaries(binaries.directory)
        except RealNodeUnavailable as error:
            raise ClusterCommandError(str(error)) from None
    for folder in exec_path:
        if not folder.is_dir():
            raise ClusterCommandError(f"--exec-path {folder}: not a directory")
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    crd_arguments = []
    if found.documents:
        crd_file = directory / "crds.yaml"
        crd_file.write_text(yaml.safe_dump_all(found.documents, sort_keys=False))
        crd_arguments.append(f"--crds={crd_file}")
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
                *crd_arguments,
                *(["--real-node"] if real_node else []),
                *(f"--exec-path={folder.resolve()}" for folder in exec_path),
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


@dataclass(frozen=True)
class ClusterInfo:
    """One cluster as `fluidpy cluster list` shows it."""

    name: str
    state: str
    """running (its API server accepts connections), starting, unreachable (its supervisor
    runs but the API server does not answer), or stopped (files left behind)."""
    server: str
    kubeconfig: str


def describe(name: str) -> ClusterInfo:
    directory = cluster_dir(name)
    try:
        ready = json.loads((directory / "ready").read_text())
    except (OSError, ValueError):
        ready = {}
    server, kubeconfig_path = str(ready.get("server", "")), str(ready.get("kubeconfig", ""))
    if _supervisor_pid(directory) is None:
        state = "stopped"
    elif not ready:
        state = "starting"
    else:
        state = "running" if _listening(server) else "unreachable"
    return ClusterInfo(name, state, server, kubeconfig_path)


def _listening(server: str) -> bool:
    address = urlsplit(server)
    try:
        with socket.create_connection((address.hostname or "", address.port or 443), timeout=2):
            return True
    except OSError:
        return False


def list_clusters() -> list[ClusterInfo]:
    root = clusters_root()
    names = sorted(path.name for path in root.iterdir() if path.is_dir()) if root.is_dir() else []
    return [describe(name) for name in names]


def kubeconfig(name: str) -> Path:
    info = describe(name)
    if info.state == "running":
        return Path(info.kubeconfig)
    running = [other.name for other in list_clusters() if other.state == "running"]
    known = (
        f"running clusters: {', '.join(running)} (pick one with --name)"
        if running
        else "no cluster is running"
    )
    raise ClusterCommandError(
        f'no running cluster "{name}"; {known}; create it with: '
        f"fluidpy cluster create --name {name}"
    )


def print_table(infos: Sequence[ClusterInfo]) -> None:
    """kubectl-style columns: NAME, STATUS, API SERVER, KUBECONFIG."""
    rows = [("NAME", "STATUS", "API SERVER", "KUBECONFIG")]
    rows += [(i.name, i.state, i.server or "-", i.kubeconfig or "-") for i in infos]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


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
    parser = subparsers.add_parser("cluster", help="run local control planes (kind-style)")
    actions = parser.add_subparsers(dest="action", required=True)
    for action, help_text in (
        ("create", "start a cluster in the background and print its kubeconfig path"),
        ("list", "show every cluster: name, status, API server address, kubeconfig path"),
        ("kubeconfig", "print the kubeconfig path of a running cluster"),
        ("delete", "stop a cluster and remove its files"),
    ):
        sub = actions.add_parser(action, help=help_text)
        if action == "list":
            continue
        sub.add_argument(
            "--name", default=DEFAULT_NAME, help=f"the cluster's name (default: {DEFAULT_NAME})"
        )
        if action == "create":
            sub.add_argument(
                "--nodes",
                type=int,
                default=DEFAULT_NODES,
                help=f"how many fake (kwok) nodes to register (default: {DEFAULT_NODES})",
            )
            sub.add_argument(
                "--crds",
                type=Path,
                action="append",
                default=[],
                metavar="PATH",
                help="CRDs to install before the controller manager starts, so garbage "
                "collection knows their kinds at once: a manifest file, a kustomize folder "
                "(its resources are followed) or a folder of *.yaml; anything that is not a "
                "CRD is skipped with a note (repeatable; default: none)",
            )
            sub.add_argument(
                "--real-node",
                action="store_true",
                help="also run a real node (kubelet, containerd, runc) for hostNetwork pods; "
                "Linux and root only, after `make realnode` (default: off)",
            )
            sub.add_argument(
                "--exec-path",
                type=Path,
                action="append",
                default=[],
                metavar="DIR",
                help="run exec into pods on fake nodes as host commands, looking bare names up "
                "in DIR (repeatable; default: none, so such an exec fails and nothing runs on "
                "the host)",
            )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "create":
            print(create(args.name, args.nodes, args.crds, args.real_node, args.exec_path))
        elif args.action == "list":
            infos = list_clusters()
            if infos:
                print_table(infos)
            else:
                print("No clusters.", file=sys.stderr)
        elif args.action == "kubeconfig":
            print(kubeconfig(args.name))
        else:
            delete(args.name)
    except ClusterCommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0

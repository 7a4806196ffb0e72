"""`fluidpy cluster list` tells a running cluster from one still starting and from the files a
stopped one left behind, and `kubeconfig` for a missing name names the running ones."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluidpy_cli import cluster


@pytest.fixture
def clusters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLUIDPY_CACHE_DIR", str(tmp_path))
    return tmp_path / "clusters"


@pytest.fixture
def api_server() -> Iterator[str]:
    """Something listening on loopback where a cluster's API server would be."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"https://127.0.0.1:{sock.getsockname()[1]}"


def dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def closed_port_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{sock.getsockname()[1]}"


def make_cluster(root: Path, name: str, pid: int, server: str | None) -> None:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "supervisor.pid").write_text(str(pid))
    if server is not None:
        kubeconfig = directory / "admin.kubeconfig"
        (directory / "ready").write_text(
            json.dumps({"server": server, "kubeconfig": str(kubeconfig)})
        )


def test_each_cluster_is_listed_with_its_state(clusters: Path, api_server: str) -> None:
    make_cluster(clusters, "up", os.getpid(), api_server)
    make_cluster(clusters, "booting", os.getpid(), None)
    make_cluster(clusters, "gone", dead_pid(), api_server)
    make_cluster(clusters, "silent", os.getpid(), closed_port_address())

    listed = {info.name: info for info in cluster.list_clusters()}

    assert {name: info.state for name, info in listed.items()} == {
        "booting": "starting",
        "gone": "stopped",
        "silent": "unreachable",
        "up": "running",
    }
    assert listed["up"].server == api_server
    assert listed["up"].kubeconfig == str(clusters / "up" / "admin.kubeconfig")


def test_no_clusters_at_all_is_an_empty_list(clusters: Path) -> None:
    assert cluster.list_clusters() == []


def test_kubeconfig_of_a_missing_cluster_names_the_running_ones(
    clusters: Path, api_server: str
) -> None:
    make_cluster(clusters, "alpha", os.getpid(), api_server)
    make_cluster(clusters, "booting", os.getpid(), None)

    with pytest.raises(cluster.ClusterCommandError) as error:
        cluster.kubeconfig("fluidpy")

    assert str(error.value) == (
        'no running cluster "fluidpy"; running clusters: alpha (pick one with --name); '
        "create it with: fluidpy cluster create --name fluidpy"
    )


def test_kubeconfig_when_nothing_runs_says_so(clusters: Path) -> None:
    with pytest.raises(cluster.ClusterCommandError, match='"fluidpy"; no cluster is running;'):
        cluster.kubeconfig("fluidpy")

"""`fluidpy cluster create|list|kubeconfig|delete` and `fluidpy --version` work as kind's do."""

from __future__ import annotations

import json
import os
import secrets
import socket
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kubernetes import client, config

from fluidpy.client.config import load_connection
from fluidpy.context import Context
from fluidpy.engines.base.exec import KubernetesExec
from fluidpy.testing import wait_for
from fluidpy_cli.cluster import cluster_dir

REPO = Path(__file__).resolve().parents[2]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    )


def exec_in_a_fake_pod(api: client.ApiClient, kubeconfig: str, command: list[str]) -> str:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(
        "default",
        {"metadata": {"name": "cli"}, "spec": {"containers": [{"name": "main", "image": "x"}]}},
    )
    wait_for(
        lambda: core.read_namespaced_pod("cli", "default").status.phase == "Running",
        "the pod running on a fake node",
    )
    return KubernetesExec(load_connection(Path(kubeconfig))).run(
        Context.background(), "default", "cli", "main", command, timeout=60
    )


def test_create_use_and_delete_a_cluster(fluidpy_cli: Any) -> None:
    name = f"cli-{secrets.token_hex(3)}"
    created = fluidpy_cli(
        "cluster",
        "create",
        "--name",
        name,
        "--nodes",
        "2",
        "--crds",
        str(REPO / "config/crd"),
        "--exec-path",
        str(REPO / "tests/exec-scripts"),
    )
    assert created.returncode == 0, created.stderr
    kubeconfig = created.stdout.strip()
    try:
        assert Path(kubeconfig).is_file()
        assert fluidpy_cli("cluster", "kubeconfig", "--name", name).stdout.strip() == kubeconfig
        listed = fluidpy_cli("cluster", "list")
        assert listed.returncode == 0, listed.stderr
        header, *rows = [line.split() for line in listed.stdout.splitlines()]
        assert header == ["NAME", "STATUS", "API", "SERVER", "KUBECONFIG"]
        (row,) = [row for row in rows if row[0] == name]
        assert row[1] == "running"
        assert row[2].startswith("https://127.0.0.1:")
        assert row[3] == kubeconfig
        api = config.new_client_from_config(config_file=kubeconfig)
        nodes = client.CoreV1Api(api).list_node().items
        assert sorted(n.metadata.name for n in nodes) == [f"{name}-node-0", f"{name}-node-1"]
        crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
        assert {crd.metadata.name for crd in crds} >= {
            "datasets.data.fluid.io",
            "cacheruntimes.data.fluid.io",
            "cacheruntimeclasses.data.fluid.io",
            "alluxioruntimes.data.fluid.io",
            "jindoruntimes.data.fluid.io",
        }
        missing = fluidpy_cli("cluster", "kubeconfig", "--name", "no-such-cluster")
        assert missing.returncode == 1
        assert "running clusters: " in missing.stderr
        assert name in missing.stderr.split("running clusters: ")[1].split(" (")[0].split(", ")
        echoed = exec_in_a_fake_pod(api, kubeconfig, ["echo-args", "from", "the", "exec", "path"])
        assert echoed == "from the exec path\n"
        ready = json.loads((cluster_dir(name) / "ready").read_text())
        assert set(ready["processes"]) == {
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
        }
    finally:
        deleted = fluidpy_cli("cluster", "delete", "--name", name)

    assert deleted.returncode == 0, deleted.stderr
    assert not cluster_dir(name).exists()
    assert name not in fluidpy_cli("cluster", "list").stdout
    assert not [pid for pid in ready["processes"].values() if process_alive(pid)]
    assert not [port for port in ready["ports"] if port_open(port)]


def test_a_second_create_with_the_same_name_is_refused(fluidpy_cli: Any) -> None:
    name = f"cli-{secrets.token_hex(3)}"
    assert fluidpy_cli("cluster", "create", "--name", name, "--nodes", "1").returncode == 0
    try:
        again = fluidpy_cli("cluster", "create", "--name", name)
        assert again.returncode == 1
        assert f"fluidpy cluster delete --name {name}" in again.stderr
        assert "Traceback" not in again.stderr
    finally:
        fluidpy_cli("cluster", "delete", "--name", name)


def test_kubeconfig_of_a_missing_cluster_says_how_to_create_one(fluidpy_cli: Any) -> None:
    result = fluidpy_cli("cluster", "kubeconfig", "--name", "no-such-cluster")
    assert result.returncode == 1
    assert "fluidpy cluster create --name no-such-cluster" in result.stderr


def test_version_is_the_installed_distributions(fluidpy_cli: Any) -> None:
    result = fluidpy_cli("--version")

    assert result.returncode == 0
    assert result.stdout == f"fluidpy {version('fluidpy')}\n"


def test_crds_from_a_folder_without_any_is_one_clear_line(fluidpy_cli: Any) -> None:
    rbac = REPO / "config" / "rbac"
    result = fluidpy_cli(
        "cluster", "create", "--name", f"cli-{secrets.token_hex(3)}", "--crds", str(rbac)
    )

    assert result.returncode == 1
    assert result.stderr == f"error: no CustomResourceDefinition found in {rbac}\n"
    assert "Traceback" not in result.stderr

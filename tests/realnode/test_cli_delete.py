"""`fluidpy cluster delete` after a real-node run leaves nothing of the cluster on the host: no
process, no mount, no cgroup, no shim socket."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

from fluidpy.testing import wait_for
from fluidpy.testing.realnode import (
    BUSYBOX_IMAGE,
    NODE_DIRECTORY,
    NODE_LABEL,
    SHIM_SOCKETS,
    cgroup_root_of,
)
from fluidpy_cli.cluster import cluster_dir


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in argv:
                found.append(f"{entry.name}: {argv}")
    return found


def mounts_under(directory: Path) -> list[str]:
    return [
        line
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if str(directory) in line
    ]


def cgroups_left(names: list[str]) -> list[Path]:
    base = Path("/sys/fs/cgroup")
    return [p for name in names for p in [*base.glob(f"*/{name}"), *base.glob(name)]]


def shim_sockets(directory: Path) -> list[Path]:
    """The sockets of this cluster's shims, from their command lines (-id, -address)."""
    sockets = []
    for line in processes_mentioning(f"-address {directory}"):
        argv = line.split()
        shim_id = argv[argv.index("-id") + 1]
        address = argv[argv.index("-address") + 1]
        digest = hashlib.sha256(f"{address}/k8s.io/{shim_id}".encode()).hexdigest()
        sockets.append(SHIM_SOCKETS / digest)
    return sockets


def test_delete_after_a_real_node_run_leaves_nothing_behind(fluidpy_cli: Any) -> None:
    name = f"rn-cli-{secrets.token_hex(3)}"
    created = fluidpy_cli("cluster", "create", "--name", name, "--nodes", "1", "--real-node")
    assert created.returncode == 0, created.stderr
    directory = cluster_dir(name)
    kubeconfig = created.stdout.strip()
    try:
        ready = json.loads((directory / "ready").read_text())
        assert {"containerd", "kubelet"} <= set(ready["processes"])
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "sleeper", "namespace": "default"},
            "spec": {
                "hostNetwork": True,
                "nodeSelector": {NODE_LABEL: "true"},
                "tolerations": [{"key": NODE_LABEL, "operator": "Exists"}],
                "containers": [
                    {
                        "name": "sleeper",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "Never",
                        "command": ["sleep", "3600"],
                        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                    }
                ],
                "volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory"}}],
            },
        }
        applied = subprocess.run(
            ["kubectl", f"--kubeconfig={kubeconfig}", "apply", "-f", "-"],
            input=json.dumps(pod),
            capture_output=True,
            text=True,
            check=False,
        )
        assert applied.returncode == 0, applied.stderr
        wait_for(
            lambda: (
                subprocess.run(
                    [
                        "kubectl",
                        f"--kubeconfig={kubeconfig}",
                        "get",
                        "pod",
                        "sleeper",
                        "-o",
                        "jsonpath={.status.phase}",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                == "Running"
            ),
            "pod sleeper Running",
        )
        sockets = wait_for(lambda: shim_sockets(directory), "the pod's shim")
        assert all(s.exists() for s in sockets)
        cgroup_root = cgroup_root_of(directory / NODE_DIRECTORY)
        assert list(Path("/sys/fs/cgroup").glob(f"*/{cgroup_root}/kubepods*"))
        assert mounts_under(directory)
    finally:
        deleted = fluidpy_cli("cluster", "delete", "--name", name)

    assert deleted.returncode == 0, deleted.stderr
    assert processes_mentioning(str(directory)) == []
    assert not [pid for pid in ready["processes"].values() if Path(f"/proc/{pid}").exists()]
    assert mounts_under(directory) == []
    assert [s for s in sockets if s.exists()] == []
    assert cgroups_left([cgroup_root]) == []
    assert not list(Path("/sys/fs/cgroup").glob("*/kubepods*"))
    assert not directory.exists()

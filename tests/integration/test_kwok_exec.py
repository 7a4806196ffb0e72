"""Exec into a pod on a fake node takes the real path and runs a script of tests/exec-scripts.

The exec goes through the local API server's pods/exec upgrade to kwok's server, which runs the
command on the host (fluidpy.testing.kwok_exec); stdout, stderr and the exit status come back the
way they do from a kubelet. The scripts play a cache system's CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines.base.exec import ExecError, ExecTimeout, KubernetesExec
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

POD = GVK("", "v1", "Pod")
CONTAINER = "cache"


@pytest.fixture
def client(cluster: LocalCluster) -> Client:
    return Client(cluster.connection(), qps=0)


@pytest.fixture
def transport(cluster: LocalCluster) -> KubernetesExec:
    return KubernetesExec(cluster.connection())


def pod_spec(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": CONTAINER, "image": "cache:1"}], **spec},
    }


@pytest.fixture
def master(client: Client, namespace: str) -> str:
    """A pod Running on a fake node."""
    client.create(pod_spec("master-0", namespace))

    def running() -> dict[str, Any] | None:
        pod = client.get(POD, "master-0", namespace)
        return pod if (pod or {}).get("status", {}).get("phase") == "Running" else None

    wait_for(running, "the pod running on a fake node")
    return "master-0"


def run(transport: KubernetesExec, namespace: str, pod: str, command: list[str]) -> str:
    return transport.run(Context.background(), namespace, pod, CONTAINER, command, timeout=60)


def test_a_command_in_the_exec_path_returns_its_stdout(
    transport: KubernetesExec, namespace: str, master: str
) -> None:
    output = run(transport, namespace, master, ["mount-ufs", "/imagenet", "/coco data"])

    assert json.loads(output) == {"mounted": ["/imagenet", "/coco data"]}


def test_a_command_runs_by_absolute_path_too(
    transport: KubernetesExec, namespace: str, master: str, exec_scripts: Path
) -> None:
    command = [str(exec_scripts / "report-summary"), "1.00GiB", "50.0%", "2.00GiB", "0.9"]

    assert json.loads(run(transport, namespace, master, command)) == {
        "cached": "1.00GiB",
        "cachedPercentage": "50.0%",
        "cacheCapacity": "2.00GiB",
        "cacheHitRatio": "0.9",
    }


def test_a_test_chooses_the_answer_through_a_file(
    transport: KubernetesExec, namespace: str, master: str, tmp_path: Path
) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text('{"mounted": ["/first"]}\n')
    assert run(transport, namespace, master, ["print-file", str(answer)]) == answer.read_text()

    answer.write_text('{"mounted": ["/first", "/second"]}\n')
    assert run(transport, namespace, master, ["print-file", str(answer)]) == answer.read_text()


def test_a_non_zero_exit_is_an_exec_error_with_the_code_and_stderr(
    transport: KubernetesExec, namespace: str, master: str
) -> None:
    with pytest.raises(ExecError) as raised:
        run(transport, namespace, master, ["fail-with", "3", "bucket s3://missing not found"])

    assert raised.value.exit_code == 3
    assert str(raised.value) == (
        f"`fail-with 3 'bucket s3://missing not found'` in pod {namespace}/{master} "
        "exited with code 3: bucket s3://missing not found"
    )


def test_a_command_past_its_timeout_is_an_exec_timeout(
    transport: KubernetesExec, namespace: str, master: str
) -> None:
    with pytest.raises(ExecTimeout, match=f"`sleep-for 30` in pod {namespace}/{master} did not"):
        transport.run(
            Context.background(), namespace, master, CONTAINER, ["sleep-for", "30"], timeout=2
        )


def test_a_command_outside_the_exec_path_is_not_found_and_no_host_program_runs(
    transport: KubernetesExec, namespace: str, master: str
) -> None:
    with pytest.raises(ExecError) as raised:
        run(transport, namespace, master, ["true"])

    assert raised.value.exit_code is None
    assert str(raised.value).startswith(f"`true` in pod {namespace}/{master} failed: ")
    assert 'exec: "true": executable file not found' in str(raised.value)


def test_a_pod_on_a_node_no_kubelet_serves_is_an_exec_error(
    cluster: LocalCluster, client: Client, transport: KubernetesExec, namespace: str
) -> None:
    client.create(pod_spec("stranded-0", namespace, nodeName=f"{namespace}-absent"))
    try:
        with pytest.raises(ExecError, match=f"in pod {namespace}/stranded-0 could not start"):
            run(transport, namespace, "stranded-0", ["echo-args", "hello"])
    finally:
        # No kubelet will ever confirm this pod's deletion.
        cluster.request(
            "DELETE", f"/api/v1/namespaces/{namespace}/pods/stranded-0?gracePeriodSeconds=0"
        )


def test_without_an_exec_path_no_exec_into_a_fake_pod_runs_anything(tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    with LocalCluster(name="no-exec", nodes=1) as bare:
        client = Client(bare.connection(), qps=0)
        client.create(pod_spec("master-0", "default"))
        wait_for(
            lambda: (
                (client.get(POD, "master-0", "default") or {}).get("status", {}).get("phase")
                == "Running"
            ),
            "the pod running on a fake node",
        )

        with pytest.raises(ExecError) as raised:
            KubernetesExec(bare.connection()).run(
                Context.background(),
                "default",
                "master-0",
                CONTAINER,
                ["/bin/touch", str(witness)],
                timeout=60,
            )

    assert "no exec found" in str(raised.value)
    assert not witness.exists()

"""A DataLoad on a bound Dataset runs its runtime's loader in a Job and ends with the Job."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client import CustomObjectsApi
from kubernetes.config import new_client_from_config

from fluidpy.controllers.kinds import DATASET

pytestmark = pytest.mark.integration

Kube = Any
RUNTIME_KINDS = ("cache", "alluxio", "jindo")

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
TARGETS = [{"path": "/spark", "replicas": 2}, {"path": "/data/one"}]


def only_container(job: dict[str, Any]) -> dict[str, Any]:
    [container] = job["spec"]["template"]["spec"]["containers"]
    return dict(container)


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


def expect_cache_loader(kube: Kube, job: dict[str, Any]) -> None:
    container = only_container(job)
    loader = kube.LOADER
    assert container["image"] == loader["image"]
    assert (container["command"], container["args"]) == (loader["command"], loader["args"])
    assert env_of(container) == {
        "FLUID_DATALOAD_METADATA": "true",
        "FLUID_DATALOAD_DATA_PATH": "/spark:/data/one",
        "FLUID_DATALOAD_PATH_REPLICAS": "2:1",
        "FLUID_RUNTIME_CONFIG_PATH": "/etc/fluid/config/runtime.json",
    }
    assert container["volumeMounts"] == [
        {"name": "fluid-runtime-config", "mountPath": "/etc/fluid/config", "readOnly": True}
    ]
    assert job["spec"]["template"]["spec"]["volumes"] == [
        {
            "name": "fluid-runtime-config",
            "configMap": {
                "name": "fluid-runtime-config-warm",
                "items": [{"key": "runtime.json", "path": "runtime.json"}],
                "defaultMode": 420,
            },
        }
    ]


def expect_alluxio_loader(kube: Kube, job: dict[str, Any]) -> None:
    container = only_container(job)
    assert container["image"] == "alluxio/alluxio:2.9.3"
    assert container["command"] == [
        "/bin/sh",
        "-c",
        "set -ex\n"
        "alluxio fs ls -Dalluxio.user.file.metadata.sync.interval=0 -R /spark >/dev/null\n"
        "alluxio fs distributedLoad --replication 2 /spark\n"
        "alluxio fs ls -Dalluxio.user.file.metadata.sync.interval=0 -R /data/one >/dev/null\n"
        "alluxio fs distributedLoad --replication 1 /data/one",
    ]
    assert container["envFrom"] == [{"configMapRef": {"name": "warm-config"}}]
    assert env_of(container)["ALLUXIO_CLIENT_JAVA_OPTS"] == (
        "-Dalluxio.user.hostname=$(ALLUXIO_CLIENT_HOSTNAME)"
    )


def expect_jindo_loader(kube: Kube, job: dict[str, Any]) -> None:
    container = only_container(job)
    assert container["image"].startswith("registry.cn-shanghai.aliyuncs.com/jindofs/smartdata:")
    assert container["command"] == [
        "/bin/sh",
        "-c",
        "set -ex\n"
        "jindocache -load -meta -data -s -R -replica 2 jindo:///spark\n"
        "jindocache -load -meta -data -s -R -replica 1 jindo:///data/one",
    ]
    assert [(m["name"], m["mountPath"]) for m in container["volumeMounts"]] == [
        ("jindo-config", "/etc/jindocache"),
        ("jindo-client-config", "/etc/jindosdk"),
    ]
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert [(v["name"], v["configMap"]["name"]) for v in volumes] == [
        ("jindo-config", "warm-jindofs-config"),
        ("jindo-client-config", "warm-jindofs-client-config"),
    ]


EXPECT_LOADER = {
    "cache": expect_cache_loader,
    "alluxio": expect_alluxio_loader,
    "jindo": expect_jindo_loader,
}


@pytest.mark.parametrize("kind", RUNTIME_KINDS)
def test_a_dataload_runs_its_runtimes_loader_in_a_job_and_completes_with_it(
    kube: Kube, kind: str
) -> None:
    kube.bound_runtime(kind, "warm")
    kube.create(kube.dataload("warm-up", "warm", loadMetadata=True, target=TARGETS))

    load = kube.wait_phase("warm-up", "Complete")

    [job] = kube.jobs("warm-up")
    assert job["metadata"]["name"] == "warm-up-loader-job"
    assert job["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "DataLoad",
            "name": "warm-up",
            "uid": load["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert job["spec"]["backoffLimit"] == 3
    pod = job["spec"]["template"]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"]["role"] == "dataload-pod"
    assert pod["metadata"]["labels"]["targetDataset"] == "warm"
    EXPECT_LOADER[kind](kube, job)
    assert job["status"]["succeeded"] == 1
    status = load["status"]
    assert status["duration"].endswith("s")
    [complete] = status["conditions"]
    assert (complete["type"], complete["status"]) == ("Complete", "True")
    dataset = kube.get(DATASET, "warm")
    assert dataset is not None
    assert not (dataset["status"].get("operationRef") or {}).get("DataLoad")


def test_failing_loader_pods_make_the_dataload_failed_for_every_runtime(kube: Kube) -> None:
    """All three at once: the Job controller retries a failed pod three times, 10 s, 20 s and
    40 s apart, before it gives up."""
    for kind in RUNTIME_KINDS:
        kube.bound_runtime(kind, f"{kind}-data")
        kube.create(kube.dataload(f"{kind}-load", f"{kind}-data", **kube.FAIL_POD))

    for kind in RUNTIME_KINDS:
        load = kube.wait_phase(f"{kind}-load", "Failed", timeout=300)
        [failed] = load["status"]["conditions"]
        assert (failed["type"], failed["status"], failed["reason"]) == (
            "Failed",
            "True",
            "BackoffLimitExceeded",
        )
        [job] = kube.jobs(f"{kind}-load")
        assert job["status"]["failed"] == 4
        kube.wait_warning(f"{kind}-load", "DataOperationFailed")


def test_kubectl_get_dataload_shows_dataset_phase_age_and_duration(kube: Kube) -> None:
    kube.bound_runtime("cache", "shown")
    kube.create(kube.dataload("shown-load", "shown"))
    load = kube.wait_phase("shown-load", "Complete")

    # The official Python client, as kubectl's stand-in.
    with new_client_from_config(config_file=str(kube.cluster.kubeconfig)) as official:
        reply = CustomObjectsApi(official).list_namespaced_custom_object(
            "data.fluid.io",
            "v1alpha1",
            kube.namespace,
            "dataloads",
            _headers={"Accept": TABLE},
            _preload_content=False,
        )

    table = json.loads(reply.data)
    columns = [c["name"] for c in table["columnDefinitions"]]
    assert columns == ["Name", "Dataset", "Phase", "Age", "Duration"]
    [row] = table["rows"]
    name, dataset, phase, _age, duration = row["cells"]
    assert (name, dataset, phase, duration) == (
        "shown-load",
        "shown",
        "Complete",
        load["status"]["duration"],
    )

"""The loader Job every engine's DataLoad runs in, and the Alluxio and Jindo load commands."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.api.v1alpha1 import AlluxioRuntime, DataLoadSpec, JindoRuntime
from fluidpy.engines.alluxio import dataload as alluxio_loader
from fluidpy.engines.alluxio.render import IMAGES as ALLUXIO_IMAGES
from fluidpy.engines.base.dataoperation import DataOperation, DataOperationError, loader_job
from fluidpy.engines.jindo import dataload as jindo_loader

OWNER = {"apiVersion": "data.fluid.io/v1alpha1", "kind": "DataLoad", "name": "warm", "uid": "u1"}


def operation(**spec: Any) -> DataOperation:
    return DataOperation(
        "DataLoad",
        "warm",
        "ns",
        DataLoadSpec.model_validate({"dataset": {"name": "data"}, **spec}),
        "warm-loader-job",
    )


def test_the_job_runs_the_engines_pod_once_owned_by_the_dataload() -> None:
    pod = {"containers": [{"name": "dataloader", "image": "loader:1"}]}

    job = loader_job(operation(), pod, OWNER)

    assert job["metadata"] == {
        "name": "warm-loader-job",
        "namespace": "ns",
        "labels": {
            "release": "warm-loader-job",
            "role": "dataload-job",
            "targetDataset": "data",
            "data.fluid.io/operation": "ns-warm",
        },
        "ownerReferences": [OWNER],
    }
    assert job["spec"]["backoffLimit"] == 3
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (1, 1)
    template = job["spec"]["template"]
    assert template["metadata"]["labels"]["role"] == "dataload-pod"
    assert template["spec"] == {"restartPolicy": "Never", **pod}


def test_the_dataloads_pod_fields_reach_the_pod_and_the_engines_own_win() -> None:
    load = operation(
        podMetadata={"labels": {"team": "ml", "role": "ignored"}, "annotations": {"a": "b"}},
        nodeSelector={"disk": "ssd"},
        tolerations=[{"key": "gpu", "operator": "Exists"}],
        schedulerName="volcano",
        resources={"limits": {"cpu": "1"}},
    )
    pod = {
        "containers": [
            {"name": "dataloader", "image": "loader:1"},
            {"name": "sidecar", "image": "s:1", "resources": {"limits": {"cpu": "100m"}}},
        ]
    }

    template = loader_job(load, pod, OWNER)["spec"]["template"]

    assert template["metadata"]["labels"]["team"] == "ml"
    assert template["metadata"]["labels"]["role"] == "dataload-pod"
    assert template["metadata"]["annotations"] == {"a": "b"}
    spec = template["spec"]
    assert spec["nodeSelector"] == {"disk": "ssd"}
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert spec["schedulerName"] == "volcano"
    assert [c["resources"] for c in spec["containers"]] == [
        {"limits": {"cpu": "1"}},
        {"limits": {"cpu": "100m"}},
    ]
    assert "resources" not in pod["containers"][0]


def test_no_target_loads_the_whole_dataset_once() -> None:
    assert [(t.path, t.replicas) for t in operation().targets()] == [("/", 1)]


def alluxio_pod(**spec: Any) -> dict[str, Any]:
    runtime = AlluxioRuntime.from_dict({"metadata": {"name": "data"}, "spec": {}})
    return alluxio_loader.loader_pod_spec(runtime, operation(**spec), ALLUXIO_IMAGES)


def test_alluxio_loads_each_target_with_distributed_load_and_its_replication() -> None:
    [container] = alluxio_pod(target=[{"path": "/a b", "replicas": 3}])["containers"]

    assert container["command"] == [
        "/bin/sh",
        "-c",
        "set -ex\nalluxio fs distributedLoad --replication 3 '/a b'",
    ]
    assert container["image"] == "alluxio/alluxio:2.9.3"
    assert container["envFrom"] == [{"configMapRef": {"name": "data-config"}}]


def test_alluxio_refreshes_metadata_first_when_asked() -> None:
    [container] = alluxio_pod(loadMetadata=True)["containers"]

    assert container["command"][2].splitlines() == [
        "set -ex",
        "alluxio fs ls -Dalluxio.user.file.metadata.sync.interval=0 -R / >/dev/null",
        "alluxio fs distributedLoad --replication 1 /",
    ]


def jindo_script(**spec: Any) -> str:
    runtime = JindoRuntime.from_dict({"metadata": {"name": "data"}, "spec": {}})
    pod = jindo_loader.loader_pod_spec(runtime, operation(**spec), jindo_loader.jindo.IMAGES)
    return str(pod["containers"][0]["command"][2])


@pytest.mark.parametrize(
    ("spec", "command"),
    [
        ({}, "jindocache -load -data -s -R -replica 1 jindo:///"),
        ({"loadMetadata": True}, "jindocache -load -meta -data -s -R -replica 1 jindo:///"),
        (
            {"loadMetadata": True, "options": {"loadMetadataOnly": "true"}},
            "jindocache -load -meta -s -R -replica 1 jindo:///",
        ),
        (
            {"target": [{"path": "/oss", "replicas": 2}], "options": {"atomicCache": "true"}},
            "jindocache -load -data -atomic -s -R -replica 2 jindo:///oss",
        ),
    ],
)
def test_jindo_loads_with_its_metadata_and_replica_flags(
    spec: dict[str, Any], command: str
) -> None:
    assert jindo_script(**spec).splitlines() == ["set -ex", command]


@pytest.mark.parametrize(
    ("load", "words"),
    [
        (
            lambda: jindo_script(options={"threads": "4"}),
            "spec.options threads are not understood by the jindo loader",
        ),
        (lambda: alluxio_pod(options={"threads": "4"}), "(it understands: none); remove them"),
    ],
)
def test_options_a_loader_does_not_understand_are_refused(load: Any, words: str) -> None:
    with pytest.raises(
        DataOperationError, match=words.replace("(", r"\(").replace(")", r"\)")
    ) as error:
        load()
    assert error.value.reason == "DataOperationNotValid"

"""An ordinary rollout is not an outage: a workload catching up with its newest spec is
"updating", and while its ready pods meet the readiness rule the Dataset stays Bound and Ready.

Every version of the Dataset and of the runtime the API server stores during the changes is
recorded from a watch, so a single Failed write in between cannot go unseen.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK, RUNTIME_GVK, STATEFULSET

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"
EVENT = GVK("", "v1", "Event")


@contextlib.contextmanager
def every_version(kube: Any, gvk: GVK) -> Iterator[list[dict[str, Any]]]:
    """Every version of object NAME of `gvk` written while the block runs."""
    current = kube.must(gvk, NAME)
    versions: list[dict[str, Any]] = []
    stream = kube.client.watch(
        gvk,
        kube.namespace,
        resource_version=current["metadata"]["resourceVersion"],
        timeout_seconds=600,
        field_selector=f"metadata.name={NAME}",
    )

    def record() -> None:
        with contextlib.suppress(Exception):  # the stream ends when it is closed
            for _, obj in stream:
                versions.append(obj)

    thread = threading.Thread(target=record, daemon=True)
    thread.start()
    try:
        yield versions
    finally:
        stream.close()
        thread.join(timeout=10)


def ready_condition(dataset: dict[str, Any]) -> tuple[str, str]:
    for condition in (dataset.get("status") or {}).get("conditions") or []:
        if condition["type"] == "Ready":
            return condition["status"], condition["reason"]
    return "", ""


def rolled_out(kube: Any, replicas: int) -> bool:
    workers = kube.must(STATEFULSET, f"{NAME}-worker")
    status = workers.get("status") or {}
    return (
        workers["spec"]["replicas"] == replicas
        and status.get("observedGeneration") == workers["metadata"]["generation"]
        and status.get("updatedReplicas") == replicas
        and status.get("readyReplicas") == replicas
        and status.get("currentRevision") == status.get("updateRevision")
        and kube.must(RUNTIME_GVK, NAME)["status"]["worker"]
        == {"phase": "Ready", "desiredReplicas": replicas, "readyReplicas": replicas}
    )


def warnings_on_runtime(kube: Any) -> list[dict[str, Any]]:
    return [
        event
        for event in kube.client.list(EVENT, kube.namespace)
        if (event.get("involvedObject") or {}).get("name") == NAME and event["type"] == "Warning"
    ]


def test_a_class_env_change_and_a_scale_up_keep_the_dataset_bound_and_ready(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())
    kube.wait_bound(NAME)
    kube.eventually(lambda: rolled_out(kube, 2), "the first rollout to finish")
    class_name = objects["CacheRuntimeClass"]["metadata"]["name"]
    container = objects["CacheRuntimeClass"]["topology"]["worker"]["podTemplateSpec"]["spec"][
        "containers"
    ][0]
    changed_container = {**container, "env": [{"name": "CACHE_LOG_LEVEL", "value": "debug"}]}

    with (
        every_version(kube, DATASET_GVK) as dataset_versions,
        every_version(kube, RUNTIME_GVK) as runtime_versions,
    ):
        kube.patch(
            CLASS_GVK,
            class_name,
            {
                "topology": {
                    "worker": {"podTemplateSpec": {"spec": {"containers": [changed_container]}}}
                }
            },
        )
        kube.eventually(
            lambda: (
                kube.must(STATEFULSET, f"{NAME}-worker")["spec"]["template"]["spec"]["containers"][
                    0
                ].get("env", [])[-1:]
                == [{"name": "CACHE_LOG_LEVEL", "value": "debug"}]
            ),
            "the class's env in the worker template",
        )
        kube.eventually(lambda: rolled_out(kube, 2), "the env rollout to finish")
        kube.patch(RUNTIME_GVK, NAME, {"spec": {"worker": {"replicas": 4}}})
        kube.eventually(lambda: rolled_out(kube, 4), "the scale-up to finish")

    assert all(
        (d["status"]["phase"], ready_condition(d)) == ("Bound", ("True", "DatasetReady"))
        for d in dataset_versions
    ), [(d["status"]["phase"], ready_condition(d)) for d in dataset_versions]
    worker_states = [(r.get("status") or {}).get("worker") or {} for r in runtime_versions]
    assert any(state.get("reason") == "Updating" for state in worker_states), worker_states
    assert all(state.get("phase") in ("Ready", "PartialReady") for state in worker_states)
    runtime_phases = {(r.get("status") or {}).get("phase") for r in runtime_versions}
    assert runtime_phases <= {"Ready", "PartialReady"}, runtime_phases
    assert warnings_on_runtime(kube) == []

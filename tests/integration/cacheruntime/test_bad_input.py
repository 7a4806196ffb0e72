"""Bad input gets a clear condition and event, and nothing else breaks.

Cases the CRDs already refuse (a workload kind other than the three, a headless Service on a
non-StatefulSet) are refused by the API server with the field named; the engine refuses them
too for classes stored under an older CRD (tests/unit/engines/cacheruntime/test_validation.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import Invalid
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIGMAP,
    DATASET_GVK,
    RUNTIME_GVK,
    STATEFULSET,
)

pytestmark = pytest.mark.integration


def expect_condition_and_event(kube: Any, name: str, reason: str, message: str) -> None:
    condition = kube.wait_condition(name, reason)
    assert condition["status"] == "False"
    assert condition["message"] == message
    event = kube.wait_event(name, reason)
    assert event["type"] == "Warning"
    assert event["message"] == message


def test_class_not_found(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    class_name = objects["CacheRuntimeClass"]["metadata"]["name"]
    kube.create(objects["Dataset"], objects["CacheRuntime"])

    expect_condition_and_event(
        kube,
        "masterslave-demo",
        "RuntimeClassNotFound",
        f"waiting for CacheRuntimeClass {class_name!r} (spec.runtimeClassName), which does not "
        "exist: create the class (it is cluster-scoped) and the runtime proceeds by itself",
    )
    assert kube.get(STATEFULSET, "masterslave-demo-master") is None

    kube.create(objects["CacheRuntimeClass"])
    kube.wait_bound("masterslave-demo")


def test_broken_spares_others(kube: Any) -> None:
    broken = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(broken["Dataset"], broken["CacheRuntime"])
    good = kube.sample("clientonly.yaml", class_suffix=True)
    kube.create(*good.values())

    kube.wait_bound("clientonly-demo")
    kube.wait_condition("masterslave-demo", "RuntimeClassNotFound")


@pytest.mark.parametrize(
    ("workload", "field"),
    [
        ({"apiVersion": "apps/v1", "kind": "ReplicaSet"}, "topology.master.workloadType.kind"),
        (
            {"apiVersion": "batch/v1", "kind": "StatefulSet"},
            "topology.master.workloadType.apiVersion",
        ),
    ],
)
def test_bad_workload_type(kube: Any, workload: dict[str, str], field: str) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    objects["CacheRuntimeClass"]["topology"]["master"]["workloadType"] = workload

    with pytest.raises(Invalid) as refused:
        kube.create(objects["CacheRuntimeClass"])

    assert field in str(refused.value)


def test_headless_needs_statefulset(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    objects["CacheRuntimeClass"]["topology"]["worker"]["workloadType"]["kind"] = "DaemonSet"

    with pytest.raises(Invalid) as refused:
        kube.create(objects["CacheRuntimeClass"])

    assert "topology.worker" in str(refused.value)
    assert "service.headless needs workloadType.kind StatefulSet" in str(refused.value)


def test_component_class_lacks(kube: Any) -> None:
    objects = kube.sample("clientonly.yaml", class_suffix=True)
    class_name = objects["CacheRuntimeClass"]["metadata"]["name"]
    objects["CacheRuntime"]["spec"]["worker"] = {"replicas": 2}
    kube.create(*objects.values())

    expect_condition_and_event(
        kube,
        "clientonly-demo",
        "ErrorValidateSpecFields",
        f"spec.worker: configures the worker, but CacheRuntimeClass {class_name} defines no "
        "worker (it defines client); remove spec.worker, set spec.worker.disabled: true, or use "
        "a class with a worker",
    )

    kube.patch(RUNTIME_GVK, "clientonly-demo", {"spec": {"worker": None}})
    kube.wait_bound("clientonly-demo")


def test_replicas_on_daemonset(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    class_name = objects["CacheRuntimeClass"]["metadata"]["name"]
    worker = objects["CacheRuntimeClass"]["topology"]["worker"]
    worker["workloadType"]["kind"] = "DaemonSet"
    del worker["service"]
    objects["CacheRuntime"]["spec"]["worker"]["replicas"] = 3
    kube.create(*objects.values())

    expect_condition_and_event(
        kube,
        "masterslave-demo",
        "ErrorValidateSpecFields",
        f"spec.worker.replicas: is 3, but CacheRuntimeClass {class_name} runs the worker as a "
        "DaemonSet, which runs one pod per eligible node; remove spec.worker.replicas and choose "
        "the nodes with spec.worker.nodeSelector",
    )


def test_missing_secret(kube: Any) -> None:
    objects = kube.sample("p2p.yaml", class_suffix=True)
    kube.create(objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"])

    expect_condition_and_event(
        kube,
        "p2p-demo",
        "SecretNotFound",
        f"waiting for Secret {kube.namespace}/p2p-demo-credentials, which Dataset "
        f"{kube.namespace}/p2p-demo names in encryptOptions (access-key, secret-key) and which "
        f"does not exist: create it in namespace {kube.namespace} and the runtime proceeds by "
        "itself",
    )

    kube.create(objects["Secret"])
    kube.wait_bound("p2p-demo")


def test_name_too_long(kube: Any) -> None:
    name = "a-cache-whose-name-is-longer-than-a-pod-allows"  # 46: "<name>-master" has 53
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    for kind in ("Dataset", "CacheRuntime"):
        objects[kind]["metadata"]["name"] = name
    kube.create(*objects.values())

    expect_condition_and_event(
        kube,
        name,
        "ErrorValidateSpecFields",
        f"metadata.name: {name!r} makes the StatefulSet name '{name}-master' 53 characters long, "
        "over Kubernetes' limit of 52 characters for a StatefulSet name (its pods carry the "
        "label controller-revision-hash=<name>-<hash of up to 10 characters>, which must fit "
        "63); use a runtime (and Dataset) name of at most 45 characters",
    )
    assert kube.get(STATEFULSET, f"{name}-master") is None
    assert (kube.get(DATASET_GVK, name) or {}).get("status", {}).get("phase") != "Bound"
    assert kube.get(CLASS_GVK, objects["CacheRuntimeClass"]["metadata"]["name"])


def _master_template(objects: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = objects["CacheRuntimeClass"]["topology"]["master"]["podTemplateSpec"]
    return template


def _set_spec_string(objects: dict[str, Any]) -> None:
    _master_template(objects)["spec"] = "containers"


def _set_containers_map(objects: dict[str, Any]) -> None:
    _master_template(objects)["spec"]["containers"] = {"name": "master"}


def _set_container_string(objects: dict[str, Any]) -> None:
    _master_template(objects)["spec"]["containers"] = ["busybox:1.36"]


def _set_quota(value: str) -> Any:
    def change(objects: dict[str, Any]) -> None:
        objects["CacheRuntime"]["spec"]["worker"]["tieredStore"]["levels"][0]["quota"] = value

    return change


def _disable_everything(objects: dict[str, Any]) -> None:
    for component in ("master", "worker", "client"):
        objects["CacheRuntime"]["spec"].setdefault(component, {})["disabled"] = True


def _unprivileged_client(objects: dict[str, Any]) -> None:
    client = objects["CacheRuntimeClass"]["topology"]["client"]["podTemplateSpec"]["spec"]
    for container in client["containers"]:
        container.pop("securityContext", None)


def _no_mounts(objects: dict[str, Any]) -> None:
    del objects["Dataset"]["spec"]["mounts"]


MASTER = "topology.master.podTemplateSpec.spec"
BAD_SHAPES = [
    pytest.param(_set_spec_string, MASTER, "is a string, not an object", id="spec a string"),
    pytest.param(
        _set_containers_map,
        f"{MASTER}.containers",
        "is an object, not a list",
        id="containers a map",
    ),
    pytest.param(
        _set_container_string,
        f"{MASTER}.containers[0]",
        "is a string without a name, not a container",
        id="container a string",
    ),
    pytest.param(
        _set_quota("0"),
        "spec.worker.tieredStore.levels[0].quota",
        "'0' is not a positive size",
        id="zero quota",
    ),
    pytest.param(
        _set_quota("-1Gi"),
        "spec.worker.tieredStore.levels[0].quota",
        "'-1Gi' is not a positive size",
        id="negative quota",
    ),
    pytest.param(
        _disable_everything, "spec", "disables every component", id="every component disabled"
    ),
    pytest.param(
        _unprivileged_client,
        "topology.client.podTemplateSpec.spec.containers",
        "no container of the FUSE client can mount FUSE",
        id="client that cannot mount FUSE",
    ),
    pytest.param(
        _no_mounts, "spec.mounts", "is empty, so there is nothing to cache", id="no mounts"
    ),
]


@pytest.mark.parametrize(("change", "field", "problem"), BAD_SHAPES)
def test_a_bad_shape_gets_a_condition_naming_its_field_and_nothing_is_made(
    kube: Any, change: Any, field: str, problem: str
) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    change(objects)
    kube.create(*objects.values())

    condition = kube.wait_condition("masterslave-demo", "ErrorValidateSpecFields")

    assert f"{field}: {problem}" in condition["message"]
    assert "object has no attribute" not in condition["message"]
    assert kube.wait_event("masterslave-demo", "ErrorValidateSpecFields")["type"] == "Warning"
    assert kube.get(STATEFULSET, "masterslave-demo-master") is None
    assert kube.get(CONFIGMAP, "fluid-runtime-config-masterslave-demo") is None


def test_a_quota_that_is_not_a_quantity_is_refused_by_the_api_server(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    _set_quota("lots")(objects)

    with pytest.raises(Invalid) as refused:
        kube.create(objects["CacheRuntime"])

    assert "spec.worker.tieredStore.levels[0].quota" in str(refused.value)

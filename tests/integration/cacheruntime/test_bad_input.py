"""Bad input gets a clear condition and event, and nothing else breaks.

Cases the CRDs already refuse (a workload kind other than the three, a headless Service on a
non-StatefulSet) are refused by the API server with the field named; the engine refuses them
too for classes stored under an older CRD (tests/unit/engines/cacheruntime/test_validation.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import Invalid
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK, RUNTIME_GVK, STATEFULSET

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

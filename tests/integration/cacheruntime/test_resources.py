"""What a runtime adds to its components' resources and config, as upstream Fluid does: memory
tiers counted in the memory request and limit, spec.options, and the class's extra ConfigMaps
(created, owned, mounted; a user's ConfigMap of the same name is never touched)."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.cacheruntime.naming import CONFIGMAP, RUNTIME_GVK, STATEFULSET

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"
SCRIPTS = "demo-scripts"
EXTRA_VOLUME = f"fluid-extra-{NAME}-{SCRIPTS}"


def template_spec(kube: Any, workload: str) -> dict[str, Any]:
    spec: dict[str, Any] = kube.must(STATEFULSET, workload)["spec"]["template"]["spec"]
    return spec


def test_a_memory_tier_is_added_to_the_workers_memory_request_and_limit(kube: Any) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    worker = objects["CacheRuntimeClass"]["topology"]["worker"]["podTemplateSpec"]["spec"]
    worker["containers"][0]["resources"] = {
        "requests": {"memory": "1Gi"},
        "limits": {"memory": "8Gi"},
    }
    runtime = objects["CacheRuntime"]["spec"]["worker"]
    runtime["resources"] = {"limits": {"memory": "1Gi"}}  # replaces the class's 8Gi
    runtime["tieredStore"] = {
        "levels": [{"path": "/cache", "quota": "2Gi", "medium": {"emptyDir": {"medium": "Memory"}}}]
    }
    kube.create(*objects.values())

    kube.eventually(lambda: kube.get(STATEFULSET, f"{NAME}-worker"), "the worker StatefulSet")

    container = template_spec(kube, f"{NAME}-worker")["containers"][0]
    assert container["resources"] == {"requests": {"memory": "3Gi"}, "limits": {"memory": "3Gi"}}
    tmpfs = next(v for v in template_spec(kube, f"{NAME}-worker")["volumes"] if "emptyDir" in v)
    assert tmpfs["emptyDir"] == {"medium": "Memory", "sizeLimit": "2Gi"}


def test_runtime_options_sit_between_the_class_options_and_the_component_options(
    kube: Any,
) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    objects["CacheRuntimeClass"]["topology"]["worker"]["options"] = {
        "port": "9001",
        "eviction": "lru",
    }
    spec = objects["CacheRuntime"]["spec"]
    spec["options"] = {"eviction": "arc", "log": "debug"}
    spec["worker"]["options"] = {"log": "info"}
    kube.create(*objects.values())
    kube.wait_bound(NAME)

    config = kube.runtime_config(NAME)

    assert config["master"]["options"] == {"eviction": "arc", "log": "debug", "port": "9000"}
    assert config["worker"]["options"] == {"eviction": "arc", "log": "info", "port": "9001"}
    assert config["client"]["options"] == {"eviction": "arc", "log": "debug"}


def with_scripts(kube: Any) -> dict[str, dict[str, Any]]:
    """The sample with a class that ships ConfigMap demo-scripts, mounted in the worker."""
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    runtime_class = objects["CacheRuntimeClass"]
    runtime_class["extraResources"] = {
        "configMaps": [{"name": SCRIPTS, "data": {"start.sh": "echo from the class"}}]
    }
    runtime_class["topology"]["worker"]["dependencies"] = {
        "extraResources": {"configMaps": [{"name": SCRIPTS, "mountPath": "/scripts"}]}
    }
    return objects


def extra_condition(kube: Any) -> dict[str, Any] | None:
    status = kube.must(RUNTIME_GVK, NAME).get("status") or {}
    for condition in status.get("conditions") or []:
        if condition["type"] == "ExtraConfigMapsReady":
            return dict(condition)
    return None


def test_the_classes_extra_config_map_is_created_owned_mounted_and_collected(
    kube: Any,
) -> None:
    kube.create(*with_scripts(kube).values())
    kube.wait_bound(NAME)

    config_map = kube.must(CONFIGMAP, SCRIPTS)
    assert config_map["data"] == {"start.sh": "echo from the class"}
    runtime = kube.must(RUNTIME_GVK, NAME)
    [owner] = config_map["metadata"]["ownerReferences"]
    assert (owner["uid"], owner["controller"]) == (runtime["metadata"]["uid"], True)
    spec = template_spec(kube, f"{NAME}-worker")
    assert {"name": EXTRA_VOLUME, "configMap": {"name": SCRIPTS, "defaultMode": 420}} in (
        spec["volumes"]
    )
    assert {"name": EXTRA_VOLUME, "mountPath": "/scripts", "readOnly": True} in (
        spec["containers"][0]["volumeMounts"]
    )
    assert EXTRA_VOLUME not in [v["name"] for v in template_spec(kube, f"{NAME}-master")["volumes"]]
    condition = kube.eventually(lambda: extra_condition(kube), "the ExtraConfigMapsReady condition")
    assert (condition["status"], condition["reason"]) == ("True", "Created")

    kube.delete(RUNTIME_GVK, NAME)

    kube.eventually(lambda: kube.get(CONFIGMAP, SCRIPTS) is None, "the extra config map collected")


def test_a_users_config_map_of_that_name_is_never_written_nor_deleted(kube: Any) -> None:
    users = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": SCRIPTS, "namespace": kube.namespace, "labels": {"team": "data"}},
        "data": {"start.sh": "echo mine"},
    }
    kube.create(users)
    kube.create(*with_scripts(kube).values())
    kube.wait_bound(NAME)

    condition = kube.eventually(lambda: extra_condition(kube), "the ExtraConfigMapsReady condition")
    assert (condition["status"], condition["reason"]) == ("False", "NotOwned")
    assert f"{kube.namespace}/{SCRIPTS}" in condition["message"]
    event = kube.wait_event(NAME, "ExtraConfigMapNotOwned")
    assert (event["type"], event["message"]) == ("Warning", condition["message"])
    kept = kube.must(CONFIGMAP, SCRIPTS)
    assert kept["data"] == users["data"]
    assert kept["metadata"]["labels"] == {"team": "data"}
    assert not kept["metadata"].get("ownerReferences")
    assert {"name": EXTRA_VOLUME, "mountPath": "/scripts", "readOnly": True} in (
        template_spec(kube, f"{NAME}-worker")["containers"][0]["volumeMounts"]
    )
    version = kept["metadata"]["resourceVersion"]

    kube.delete(RUNTIME_GVK, NAME)
    kube.eventually(lambda: kube.get(RUNTIME_GVK, NAME) is None, "the runtime gone")
    kube.eventually(
        lambda: kube.get(STATEFULSET, f"{NAME}-worker") is None, "the worker StatefulSet collected"
    )

    left = kube.must(CONFIGMAP, SCRIPTS)
    assert (left["data"], left["metadata"]["resourceVersion"]) == (users["data"], version)

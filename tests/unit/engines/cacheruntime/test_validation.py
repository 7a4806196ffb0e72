"""Bad input is refused with the field, the problem and the fix; good input passes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from fluidpy.api.v1alpha1 import CacheRuntime, CacheRuntimeClass
from fluidpy.engines.base import ValidationError
from fluidpy.engines.cacheruntime.validation import (
    check_class,
    check_plan,
    check_runtime_against_class,
    parse,
)

Change = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]


def refused(seed: dict[str, Any], plans: Any, change: Change) -> ValidationError:
    objects = copy.deepcopy(seed)
    runtime_class, dataset, runtime = (
        objects["CacheRuntimeClass"],
        objects["Dataset"],
        objects["CacheRuntime"],
    )
    change(runtime_class, dataset, runtime)
    with pytest.raises(ValidationError) as raised:
        check_class("demofs", runtime_class)
        check_runtime_against_class(
            CacheRuntime.model_validate(runtime), CacheRuntimeClass.model_validate(runtime_class)
        )
        check_plan(plans(runtime_class, dataset, runtime))
    return raised.value


def test_the_seed_example_is_valid(seed: dict[str, Any], seed_plan: Any) -> None:
    check_class("demofs", seed["CacheRuntimeClass"])
    check_runtime_against_class(
        CacheRuntime.model_validate(seed["CacheRuntime"]),
        CacheRuntimeClass.model_validate(seed["CacheRuntimeClass"]),
    )
    check_plan(seed_plan)


@pytest.mark.parametrize(
    ("workload", "shown"),
    [
        ({"apiVersion": "apps/v1", "kind": "ReplicaSet"}, "apps/v1 ReplicaSet"),
        ({"apiVersion": "batch/v1", "kind": "Job"}, "batch/v1 Job"),
        ({"apiVersion": "apps/v1beta1", "kind": "StatefulSet"}, "apps/v1beta1 StatefulSet"),
    ],
)
def test_a_workload_type_other_than_the_three_is_refused_naming_the_field(
    seed: dict[str, Any], plans: Any, workload: dict[str, str], shown: str
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["topology"]["worker"]["workloadType"] = workload
        del runtime_class["topology"]["worker"]["service"]

    error = refused(seed, plans, change)

    assert error.field == "CacheRuntimeClass demofs topology.worker.workloadType"
    assert error.message == (
        f"CacheRuntimeClass demofs topology.worker.workloadType: {shown} is not a workload "
        "CacheRuntime can run; use apiVersion apps/v1 with kind StatefulSet, DaemonSet or "
        "Deployment"
    )


@pytest.mark.parametrize("kind", ["DaemonSet", "Deployment"])
def test_a_headless_service_on_a_non_statefulset_is_refused(
    seed: dict[str, Any], plans: Any, kind: str
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["topology"]["master"]["workloadType"]["kind"] = kind

    error = refused(seed, plans, change)

    assert error.field == "CacheRuntimeClass demofs topology.master.service.headless"
    assert f"needs a StatefulSet, but the master is a {kind}" in error.message
    assert "remove service.headless or set workloadType.kind to StatefulSet" in error.message


def test_a_class_without_components_is_refused(seed: dict[str, Any], plans: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["topology"] = {}

    error = refused(seed, plans, change)

    assert error.field == "CacheRuntimeClass demofs topology"
    assert "defines no component" in error.message


def test_a_component_without_containers_is_refused(seed: dict[str, Any], plans: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["topology"]["client"]["podTemplateSpec"]["spec"]["containers"] = []

    error = refused(seed, plans, change)

    assert error.field == "CacheRuntimeClass demofs topology.client.podTemplateSpec.spec.containers"


def test_a_runtime_configuring_a_component_its_class_lacks_is_refused(
    seed: dict[str, Any], plans: Any
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        del runtime_class["topology"]["master"]

    error = refused(seed, plans, change)

    assert error.field == "spec.master"
    assert error.message == (
        "spec.master: configures the master, but CacheRuntimeClass demofs defines no master "
        "(it defines worker, client); remove spec.master, set spec.master.disabled: true, or "
        "use a class with a master"
    )


def test_a_disabled_component_the_class_lacks_is_fine(seed: dict[str, Any], plans: Any) -> None:
    runtime_class, runtime = seed["CacheRuntimeClass"], seed["CacheRuntime"]
    del runtime_class["topology"]["master"]
    runtime["spec"]["master"] = {"disabled": True}

    check_runtime_against_class(
        CacheRuntime.model_validate(runtime), CacheRuntimeClass.model_validate(runtime_class)
    )
    check_plan(plans(runtime_class, seed["Dataset"], runtime))


def test_replicas_on_a_daemonset_component_are_refused(seed: dict[str, Any], plans: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        runtime_class["topology"]["worker"]["workloadType"]["kind"] = "DaemonSet"
        del runtime_class["topology"]["worker"]["service"]
        runtime["spec"]["worker"]["replicas"] = 3

    error = refused(seed, plans, change)

    assert error.field == "spec.worker.replicas"
    assert error.message == (
        "spec.worker.replicas: is 3, but CacheRuntimeClass demofs runs the worker as a "
        "DaemonSet, which runs one pod per eligible node; remove spec.worker.replicas and "
        "choose the nodes with spec.worker.nodeSelector"
    )


def test_the_crd_default_of_one_replica_on_a_daemonset_is_accepted(
    seed: dict[str, Any], plans: Any
) -> None:
    runtime_class, runtime = seed["CacheRuntimeClass"], seed["CacheRuntime"]
    runtime_class["topology"]["worker"]["workloadType"]["kind"] = "DaemonSet"
    del runtime_class["topology"]["worker"]["service"]
    runtime["spec"]["worker"]["replicas"] = 1

    check_plan(plans(runtime_class, seed["Dataset"], runtime))


@pytest.mark.parametrize(
    ("name", "limit", "longest"),
    [("a" * 46, 52, 45), ("b" * 57, 63, 56)],
)
def test_a_name_whose_derived_names_pass_the_limit_is_refused_saying_the_limit(
    seed: dict[str, Any], plans: Any, name: str, limit: int, longest: int
) -> None:
    def change(
        runtime_class: dict[str, Any], dataset: dict[str, Any], runtime: dict[str, Any]
    ) -> None:
        dataset["metadata"]["name"] = runtime["metadata"]["name"] = name
        if limit == 63:  # no StatefulSet left: every component a DaemonSet or Deployment
            runtime_class["topology"] = {"client": runtime_class["topology"]["client"]}
            del runtime["spec"]["master"], runtime["spec"]["worker"]

    error = refused(seed, plans, change)

    assert error.field == "metadata.name"
    assert f"over Kubernetes' limit of {limit} characters" in error.message
    assert f"use a runtime (and Dataset) name of at most {longest} characters" in error.message


def test_the_longest_allowed_name_passes(seed: dict[str, Any], plans: Any) -> None:
    name = "a" * 45
    seed["Dataset"]["metadata"]["name"] = seed["CacheRuntime"]["metadata"]["name"] = name

    check_plan(plans(seed["CacheRuntimeClass"], seed["Dataset"], seed["CacheRuntime"]))


def test_a_volume_mount_of_an_unknown_volume_is_refused(seed: dict[str, Any], plans: Any) -> None:
    def change(_: Any, __: Any, runtime: dict[str, Any]) -> None:
        runtime["spec"]["client"]["volumeMounts"].append({"name": "nope", "mountPath": "/x"})

    error = refused(seed, plans, change)

    assert error.field == "spec.client.volumeMounts[1].name"


def test_an_encrypt_option_without_a_key_is_refused(seed: dict[str, Any], plans: Any) -> None:
    def change(_: Any, dataset: dict[str, Any], __: Any) -> None:
        del dataset["spec"]["mounts"][0]["encryptOptions"][0]["valueFrom"]["secretKeyRef"]["key"]

    error = refused(seed, plans, change)

    assert error.field == "Dataset default/demofs encryptOptions 'token'"


def test_a_tiered_level_with_no_medium_is_refused(seed: dict[str, Any], plans: Any) -> None:
    def change(_: Any, __: Any, runtime: dict[str, Any]) -> None:
        runtime["spec"]["worker"]["tieredStore"]["levels"][0]["medium"] = {}

    error = refused(seed, plans, change)

    assert error.field == "spec.worker.tieredStore.levels[0].medium"


def test_schema_violations_become_errors_on_their_field() -> None:
    with pytest.raises(ValidationError) as raised:
        parse(CacheRuntime, {"metadata": {"name": "x"}, "spec": {}}, "CacheRuntime ns/x")

    assert raised.value.field == "CacheRuntime ns/x spec.runtimeClassName"


def test_a_component_may_mount_only_extra_config_maps_its_class_declares(
    seed: dict[str, Any], plans: Any
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["extraResources"] = {"configMaps": [{"name": "scripts"}]}
        runtime_class["topology"]["client"]["dependencies"]["extraResources"] = {
            "configMaps": [
                {"name": "scripts", "mountPath": "/scripts"},
                {"name": "conf", "mountPath": "/conf"},
            ]
        }

    error = refused(seed, plans, change)

    assert error.field == (
        "CacheRuntimeClass demofs topology.client.dependencies.extraResources.configMaps[1].name"
    )
    assert (
        "names config map 'conf', which the class's extraResources.configMaps does not declare "
        "(it declares 'scripts')"
    ) in error.message
    assert "add 'conf' to extraResources.configMaps of the class or fix the name" in error.message


def test_a_class_without_extra_config_maps_says_it_declares_none(
    seed: dict[str, Any], plans: Any
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["topology"]["master"]["dependencies"]["extraResources"] = {
            "configMaps": [{"name": "conf", "mountPath": "/conf"}]
        }

    assert "(it declares none)" in refused(seed, plans, change).message

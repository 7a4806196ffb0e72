"""Workloads, pod templates and headless Services rendered from a Plan."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.cacheruntime.plan import Plan
from fluidpy.engines.cacheruntime.render.podtemplate import merge_by, render_pod_template
from fluidpy.engines.cacheruntime.render.services import render_headless_service
from fluidpy.engines.cacheruntime.render.workloads import render_workload

FIVE = [
    "FLUID_DATASET_NAME",
    "FLUID_DATASET_NAMESPACE",
    "FLUID_RUNTIME_CONFIG_PATH",
    "FLUID_RUNTIME_MOUNT_PATH",
    "FLUID_RUNTIME_COMPONENT_TYPE",
]
CONFIG_MOUNT = {"name": "fluid-runtime-config", "mountPath": "/etc/fluid/config", "readOnly": True}
SECRET_MOUNT = {
    "name": "fluid-secret-jfs-secret",
    "mountPath": "/etc/fluid/secrets/jfs-secret",
    "readOnly": True,
}


def labels(component: str) -> dict[str, str]:
    return {
        "cacheruntime.fluid.io/name": "demofs",
        "cacheruntime.fluid.io/component-name": component,
    }


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


# Workloads ---------------------------------------------------------------------------------


def test_the_seed_master_is_a_parallel_statefulset_behind_its_headless_service(
    seed_plan: Plan, owner: dict[str, Any]
) -> None:
    master = render_workload(seed_plan, seed_plan.component("master"))

    assert master["apiVersion"] == "apps/v1"
    assert master["kind"] == "StatefulSet"
    assert master["metadata"] == {
        "name": "demofs-master",
        "namespace": "default",
        "labels": labels("master"),
        "ownerReferences": [owner],
    }
    assert master["spec"]["replicas"] == 2
    assert master["spec"]["podManagementPolicy"] == "Parallel"
    assert master["spec"]["serviceName"] == "demofs-master"
    assert master["spec"]["selector"] == {"matchLabels": labels("master")}
    assert master["spec"]["template"]["metadata"]["labels"] == labels("master")


def test_a_statefulset_without_a_headless_service_names_none(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        del runtime_class["topology"]["worker"]["service"]

    plan = make(change)

    assert "serviceName" not in render_workload(plan, plan.component("worker"))["spec"]


def test_the_seed_client_is_an_on_delete_daemonset_on_the_nodes_that_mount_the_dataset(
    seed_plan: Plan,
) -> None:
    client = render_workload(seed_plan, seed_plan.component("client"))

    assert client["kind"] == "DaemonSet"
    assert client["metadata"]["name"] == "demofs-client"
    assert client["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert "replicas" not in client["spec"]
    assert pod_spec(client)["nodeSelector"] == {"fluid.io/f-default-demofs": "true"}


def test_a_deployment_client_runs_one_replica_with_no_node_selection_or_fuse_mount(
    make: Any,
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["topology"]["client"]["workloadType"]["kind"] = "Deployment"

    plan = make(change)
    client = render_workload(plan, plan.component("client"))

    assert client["kind"] == "Deployment"
    assert client["spec"]["replicas"] == 1
    assert "updateStrategy" not in client["spec"]
    assert "nodeSelector" not in pod_spec(client)
    assert "fluid-cache-fuse" not in [v["name"] for v in pod_spec(client)["volumes"]]


def test_a_daemonset_worker_keeps_the_default_rolling_update_and_has_no_replicas(
    make: Any,
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        runtime_class["topology"]["worker"]["workloadType"]["kind"] = "DaemonSet"
        del runtime_class["topology"]["worker"]["service"]
        del runtime["spec"]["worker"]["replicas"]

    plan = make(change)
    worker = render_workload(plan, plan.component("worker"))

    assert worker["kind"] == "DaemonSet"
    assert "updateStrategy" not in worker["spec"]
    assert "replicas" not in worker["spec"]
    assert "nodeSelector" not in pod_spec(worker)


# Environment -------------------------------------------------------------------------------


@pytest.mark.parametrize("component", ["master", "worker", "client"])
def test_every_container_starts_with_the_five_fluid_variables(
    seed_plan: Plan, component: str
) -> None:
    template = render_pod_template(seed_plan, seed_plan.component(component))  # type: ignore[arg-type]
    [container] = template["spec"]["containers"]

    assert container["env"] == [
        {"name": "FLUID_DATASET_NAME", "value": "demofs"},
        {"name": "FLUID_DATASET_NAMESPACE", "value": "default"},
        {"name": "FLUID_RUNTIME_CONFIG_PATH", "value": "/etc/fluid/config/runtime.json"},
        {
            "name": "FLUID_RUNTIME_MOUNT_PATH",
            "value": "/runtime-mnt/cache/default/demofs/cache-fuse",
        },
        {"name": "FLUID_RUNTIME_COMPONENT_TYPE", "value": component},
    ]


def test_template_env_then_runtime_env_follow_in_every_container_and_init_container(
    make: Any,
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        spec = runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]
        spec["containers"][0]["env"] = [{"name": "FROM_CLASS", "value": "c"}]
        spec["containers"].append({"name": "sidecar", "image": "sidecar"})
        spec["initContainers"] = [{"name": "render-config", "image": "gomplate"}]
        runtime["spec"]["worker"]["env"] = [{"name": "FROM_RUNTIME", "value": "r"}]

    plan = make(change)
    spec = render_pod_template(plan, plan.component("worker"))["spec"]

    main, sidecar = spec["containers"]
    [init] = spec["initContainers"]
    assert [e["name"] for e in main["env"]] == [*FIVE, "FROM_CLASS", "FROM_RUNTIME"]
    assert [e["name"] for e in sidecar["env"]] == [*FIVE, "FROM_RUNTIME"]
    assert [e["name"] for e in init["env"]] == [*FIVE, "FROM_RUNTIME"]


def test_a_repeated_variable_keeps_its_first_place_and_takes_its_last_value(make: Any) -> None:
    def change(_: Any, __: Any, runtime: dict[str, Any]) -> None:
        runtime["spec"]["worker"]["env"] = [
            {"name": "FLUID_RUNTIME_CONFIG_PATH", "value": "/custom.json"},
            {"name": "X", "value": "1"},
            {"name": "X", "value": "2"},
        ]

    plan = make(change)
    [container] = render_pod_template(plan, plan.component("worker"))["spec"]["containers"]

    assert [e["name"] for e in container["env"]] == [*FIVE, "X"]
    assert container["env"][2] == {"name": "FLUID_RUNTIME_CONFIG_PATH", "value": "/custom.json"}
    assert container["env"][5] == {"name": "X", "value": "2"}


def test_merge_by_keeps_first_positions_and_last_values() -> None:
    merged = merge_by([{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}], "k")

    assert merged == [{"k": "a", "v": 3}, {"k": "b", "v": 2}]


# Volumes -----------------------------------------------------------------------------------


def test_the_master_mounts_the_config_and_the_datasets_secret_read_only(seed_plan: Plan) -> None:
    spec = render_pod_template(seed_plan, seed_plan.component("master"))["spec"]

    assert spec["containers"][0]["volumeMounts"] == [CONFIG_MOUNT, SECRET_MOUNT]
    assert spec["volumes"] == [
        {"name": "fluid-runtime-config", "configMap": {"name": "fluid-runtime-config-demofs"}},
        {"name": "fluid-secret-jfs-secret", "secret": {"secretName": "jfs-secret"}},
    ]


def test_the_worker_gets_no_secret_but_its_tiered_store_as_a_memory_empty_dir(
    seed_plan: Plan,
) -> None:
    spec = render_pod_template(seed_plan, seed_plan.component("worker"))["spec"]

    assert spec["containers"][0]["volumeMounts"] == [
        CONFIG_MOUNT,
        {"name": "fluid-tiered-store-0", "mountPath": "/cache-data"},
    ]
    assert spec["volumes"][1] == {
        "name": "fluid-tiered-store-0",
        "emptyDir": {"medium": "Memory", "sizeLimit": "40Gi"},
    }
    assert len(spec["volumes"]) == 2


def test_a_host_path_level_becomes_a_host_path_volume(make: Any) -> None:
    def change(_: Any, __: Any, runtime: dict[str, Any]) -> None:
        runtime["spec"]["worker"]["tieredStore"]["levels"][0]["medium"] = {
            "hostPath": {"path": "/mnt/ssd", "type": "DirectoryOrCreate"}
        }

    plan = make(change)
    volumes = render_pod_template(plan, plan.component("worker"))["spec"]["volumes"]

    assert volumes[1] == {
        "name": "fluid-tiered-store-0",
        "hostPath": {"path": "/mnt/ssd", "type": "DirectoryOrCreate"},
    }


def test_the_seed_client_mounts_its_runtime_volume_and_the_fuse_directory_bidirectionally(
    seed_plan: Plan,
) -> None:
    spec = render_pod_template(seed_plan, seed_plan.component("client"))["spec"]
    target = "/runtime-mnt/cache/default/demofs/cache-fuse"

    assert spec["containers"][0]["volumeMounts"] == [
        CONFIG_MOUNT,
        SECRET_MOUNT,
        {"name": "demo", "mountPath": "/mnt"},
        {"name": "fluid-cache-fuse", "mountPath": target, "mountPropagation": "Bidirectional"},
    ]
    assert [v["name"] for v in spec["volumes"]] == [
        "demo",
        "fluid-runtime-config",
        "fluid-secret-jfs-secret",
        "fluid-cache-fuse",
    ]
    assert spec["volumes"][0] == {"name": "demo", "persistentVolumeClaim": {"claimName": "test"}}
    assert spec["volumes"][3]["hostPath"] == {"path": target, "type": "DirectoryOrCreate"}


def test_runtime_volumes_reach_only_the_components_that_mount_them(seed_plan: Plan) -> None:
    for component in ("master", "worker"):
        volumes = render_pod_template(seed_plan, seed_plan.component(component))["spec"]["volumes"]
        assert "demo" not in [volume["name"] for volume in volumes]


def test_an_unprivileged_daemonset_client_gets_no_fuse_mount(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        container = runtime_class["topology"]["client"]["podTemplateSpec"]["spec"]["containers"][0]
        del container["securityContext"]

    plan = make(change)
    spec = render_pod_template(plan, plan.component("client"))["spec"]

    assert "fluid-cache-fuse" not in [v["name"] for v in spec["volumes"]]
    assert spec["nodeSelector"] == {"fluid.io/f-default-demofs": "true"}


def test_init_containers_get_the_config_and_secrets_but_not_the_cache_levels(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        spec = runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]
        spec["initContainers"] = [{"name": "prepare", "image": "busybox"}]
        runtime_class["topology"]["worker"]["dependencies"] = {"encryptOption": {}}

    plan = make(change)
    [init] = render_pod_template(plan, plan.component("worker"))["spec"]["initContainers"]

    assert init["volumeMounts"] == [CONFIG_MOUNT, SECRET_MOUNT]


# Template, node selector, resources --------------------------------------------------------


def test_the_class_template_is_kept_whole_with_its_labels_and_annotations(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        template = runtime_class["topology"]["master"]["podTemplateSpec"]
        template["metadata"] = {"labels": {"app": "demofs"}, "annotations": {"note": "kept"}}
        template["spec"]["hostNetwork"] = True

    plan = make(change)
    template = render_pod_template(plan, plan.component("master"))

    assert template["metadata"] == {
        "labels": {"app": "demofs", **labels("master")},
        "annotations": {"note": "kept"},
    }
    assert template["spec"]["hostNetwork"] is True
    assert template["spec"]["restartPolicy"] == "Always"
    assert template["spec"]["containers"][0]["args"] == ["/bin/sh", "-c", "custom-endpoint.sh"]


def test_the_runtimes_node_selector_overlays_the_templates(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        spec = runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]
        spec["nodeSelector"] = {"disk": "hdd", "zone": "a"}
        runtime["spec"]["worker"]["nodeSelector"] = {"disk": "ssd"}

    plan = make(change)

    assert render_pod_template(plan, plan.component("worker"))["spec"]["nodeSelector"] == {
        "disk": "ssd",
        "zone": "a",
    }


def test_the_runtimes_resources_overlay_the_first_containers_per_resource(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        container = runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]["containers"][0]
        container["resources"] = {"requests": {"cpu": "1", "memory": "1Gi"}}
        del runtime["spec"]["worker"]["tieredStore"]
        runtime["spec"]["worker"]["resources"] = {
            "requests": {"memory": "4Gi"},
            "limits": {"memory": "8Gi"},
        }

    plan = make(change)
    [container] = render_pod_template(plan, plan.component("worker"))["spec"]["containers"]

    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "4Gi"},
        "limits": {"memory": "8Gi"},
    }


def memory_tier(quota: str, medium: str = "Memory") -> dict[str, Any]:
    return {"quota": quota, "path": f"/cache-{quota}", "medium": {"emptyDir": {"medium": medium}}}


def worker_resources(
    make: Any,
    template: dict[str, Any] | None,
    runtime: dict[str, Any] | None,
    levels: list[dict[str, Any]],
) -> Any:
    """The worker's first container's resources, rendered from the class template's and the
    runtime's resources and the worker's tiered-store levels."""

    def change(runtime_class: dict[str, Any], _: Any, spec: dict[str, Any]) -> None:
        container = runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]["containers"][0]
        if template is not None:
            container["resources"] = template
        if runtime is not None:
            spec["spec"]["worker"]["resources"] = runtime
        spec["spec"]["worker"]["tieredStore"] = {"levels": levels}

    plan = make(change)
    [first, *_] = render_pod_template(plan, plan.component("worker"))["spec"]["containers"]
    return first.get("resources")


def test_a_memory_tier_is_added_to_the_memory_request_and_limit(make: Any) -> None:
    resources = worker_resources(
        make,
        {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
        None,
        [memory_tier("2Gi")],
    )

    assert resources == {"requests": {"cpu": "1", "memory": "3Gi"}, "limits": {"memory": "3Gi"}}


def test_the_memory_tiers_are_added_after_the_runtimes_resources_replace_the_templates(
    make: Any,
) -> None:
    resources = worker_resources(
        make,
        {"requests": {"memory": "8Gi"}},
        {"requests": {"memory": "1Gi"}, "limits": {"memory": "1500M"}},
        [memory_tier("2Gi"), memory_tier("512Mi"), memory_tier("10Gi", medium="")],
    )

    assert resources == {
        "requests": {"memory": "3584Mi"},
        "limits": {"memory": str(1_500_000_000 + 2 * 2**30 + 512 * 2**20)},
    }


@pytest.mark.parametrize(
    "resources",
    [None, {"requests": {"cpu": "1"}}, {"requests": {"memory": "0"}, "limits": {"cpu": "2"}}],
)
def test_an_unset_or_zero_memory_stays_as_it_is(make: Any, resources: Any) -> None:
    rendered = worker_resources(make, resources, None, [memory_tier("2Gi")])

    assert rendered == resources


def test_a_host_path_or_disk_tier_adds_no_memory(make: Any) -> None:
    host_path = {"quota": "5Gi", "path": "/ssd", "medium": {"hostPath": {"path": "/mnt/ssd"}}}
    resources = worker_resources(
        make, {"limits": {"memory": "1Gi"}}, None, [host_path, memory_tier("5Gi", medium="")]
    )

    assert resources == {"limits": {"memory": "1Gi"}}


def test_extra_config_maps_are_mounted_read_only_on_the_first_container_and_init_container(
    make: Any,
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["extraResources"] = {"configMaps": [{"name": "scripts"}, {"name": "conf"}]}
        worker = runtime_class["topology"]["worker"]
        worker["dependencies"] = {
            "extraResources": {"configMaps": [{"name": "conf", "mountPath": "/etc/demofs"}]}
        }
        spec = worker["podTemplateSpec"]["spec"]
        spec["containers"].append({"name": "sidecar", "image": "busybox"})
        spec["initContainers"] = [
            {"name": "prepare", "image": "busybox"},
            {"name": "later", "image": "busybox"},
        ]

    plan = make(change)
    spec = render_pod_template(plan, plan.component("worker"))["spec"]
    mount = {"name": "fluid-extra-demofs-conf", "mountPath": "/etc/demofs", "readOnly": True}

    assert {"name": "fluid-extra-demofs-conf", "configMap": {"name": "conf"}} in spec["volumes"]
    assert mount in spec["containers"][0]["volumeMounts"]
    assert mount in spec["initContainers"][0]["volumeMounts"]
    assert mount not in spec["containers"][1]["volumeMounts"]
    assert mount not in spec["initContainers"][1]["volumeMounts"]
    master = render_pod_template(plan, plan.component("master"))["spec"]
    assert "fluid-extra-demofs-conf" not in [v["name"] for v in master["volumes"]]


def test_rendering_leaves_the_class_untouched(seed_plan: Plan) -> None:
    before = seed_plan.component("master").pod_template

    render_pod_template(seed_plan, seed_plan.component("master"))

    assert seed_plan.component("master").pod_template == before


# Services ----------------------------------------------------------------------------------


def test_the_headless_service_selects_the_components_pods_and_publishes_unready_ones(
    seed_plan: Plan, owner: dict[str, Any]
) -> None:
    service = render_headless_service(seed_plan, seed_plan.component("worker"))

    assert service == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "demofs-worker",
            "namespace": "default",
            "labels": labels("worker"),
            "ownerReferences": [owner],
        },
        "spec": {
            "clusterIP": "None",
            "selector": labels("worker"),
            "publishNotReadyAddresses": True,
        },
    }

"""The runtime config JSON: the seed's schema, every key, from the runtime, class and Dataset."""

from __future__ import annotations

import json
from typing import Any

from fluidpy.engines.cacheruntime.plan import Plan
from fluidpy.engines.cacheruntime.render.config import (
    config_text,
    render_config_map,
    render_extra_config_maps,
    runtime_config,
)

SECRET_FILES = {
    "access-key": "/etc/fluid/secrets/jfs-secret/access-key",
    "secret-key": "/etc/fluid/secrets/jfs-secret/secret-key",
    "token": "/etc/fluid/secrets/jfs-secret/token",
}
OPTIONS = {"key1": "value1", "key2": "value2"}
TOPOLOGY = {
    "master": [
        {"podName": "demofs-master-0", "podIP": "10.0.0.1"},
        {"podName": "demofs-master-1", "podIP": "10.0.0.2"},
    ],
    "worker": [
        {"podName": "demofs-worker-0", "podIP": "10.0.1.1"},
        {"podName": "demofs-worker-1", "podIP": ""},
    ],
    "client": [{"podName": "demofs-client-x7k2p", "podIP": "10.0.2.1"}],
}


def test_the_seed_example_renders_the_guides_schema_with_every_key(seed_plan: Plan) -> None:
    assert runtime_config(seed_plan, TOPOLOGY) == {
        "mounts": [{"mountPoint": "demofs:///", "options": OPTIONS, "name": "demo"}],
        "targetPath": "/runtime-mnt/cache/default/demofs/cache-fuse",
        "accessModes": ["ReadWriteMany"],
        "master": {"enabled": True, "options": OPTIONS, "encryptOption": SECRET_FILES},
        "worker": {
            "enabled": True,
            "options": OPTIONS,
            "tieredStore": {
                "levels": [{"path": "/cache-data", "high": "0.8", "low": "0.5", "quota": "40Gi"}]
            },
        },
        "client": {"enabled": True, "options": OPTIONS, "encryptOption": SECRET_FILES},
        "topology": {
            "master": {"podConfigs": TOPOLOGY["master"], "service": {"name": "demofs-master"}},
            "worker": {"podConfigs": TOPOLOGY["worker"], "service": {"name": "demofs-worker"}},
            "client": {"podConfigs": TOPOLOGY["client"], "service": {"name": ""}},
        },
    }


def test_keys_come_in_the_guides_order(seed_plan: Plan) -> None:
    document = runtime_config(seed_plan, TOPOLOGY)

    assert list(document) == [
        "mounts",
        "targetPath",
        "accessModes",
        "master",
        "worker",
        "client",
        "topology",
    ]


def test_component_options_are_the_class_options_overlaid_by_the_runtimes(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        runtime_class["topology"]["worker"]["options"] = {"key1": "class", "only-class": "c"}
        runtime["spec"]["worker"]["options"] = {"key1": "runtime", "only-runtime": "r"}

    worker = runtime_config(make(change), {})["worker"]

    assert worker["options"] == {"key1": "runtime", "only-class": "c", "only-runtime": "r"}


def test_the_runtimes_top_level_options_sit_between_the_class_and_the_component(
    make: Any,
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        runtime_class["topology"]["worker"]["options"] = {"a": "class", "b": "class", "c": "class"}
        runtime_class["topology"]["master"]["options"] = {"a": "class"}
        runtime["spec"]["options"] = {"b": "runtime", "c": "runtime"}
        runtime["spec"]["worker"]["options"] = {"c": "worker"}
        runtime["spec"]["master"]["options"] = {}

    document = runtime_config(make(change), {})

    assert document["worker"]["options"] == {"a": "class", "b": "runtime", "c": "worker"}
    assert document["master"]["options"] == {"a": "class", "b": "runtime", "c": "runtime"}
    assert document["client"]["options"] == {
        "b": "runtime",
        "c": "runtime",
        "key1": "value1",
        "key2": "value2",
    }


def test_mount_options_are_the_shared_options_overlaid_by_the_mounts(make: Any) -> None:
    def change(_: Any, dataset: dict[str, Any], __: Any) -> None:
        dataset["spec"]["sharedOptions"] = {"key1": "shared", "region": "eu"}

    mounts = runtime_config(make(change), {})["mounts"]

    assert mounts[0]["options"] == {"key1": "value1", "key2": "value2", "region": "eu"}


def test_access_modes_default_to_read_only_many(make: Any) -> None:
    def change(_: Any, dataset: dict[str, Any], __: Any) -> None:
        del dataset["spec"]["accessModes"]

    assert runtime_config(make(change), {})["accessModes"] == ["ReadOnlyMany"]


def test_the_target_path_follows_the_mount_root(seed: dict[str, Any], plans: Any) -> None:
    plan = plans(
        seed["CacheRuntimeClass"], seed["Dataset"], seed["CacheRuntime"], mount_root="/mnt/fluid/"
    )

    assert runtime_config(plan, {})["targetPath"] == "/mnt/fluid/cache/default/demofs/cache-fuse"


def test_a_component_the_class_lacks_is_disabled_with_an_empty_topology(make: Any) -> None:
    def change(runtime_class: dict[str, Any], _: Any, runtime: dict[str, Any]) -> None:
        del runtime_class["topology"]["master"]
        del runtime["spec"]["master"]

    document = runtime_config(make(change), {"master": [{"podName": "stray", "podIP": ""}]})

    assert document["master"] == {"enabled": False, "options": {}}
    assert document["topology"]["master"] == {"podConfigs": [], "service": {"name": ""}}


def test_a_component_the_runtime_disables_is_disabled_too(make: Any) -> None:
    def change(_: Any, __: Any, runtime: dict[str, Any]) -> None:
        runtime["spec"]["client"]["disabled"] = True

    document = runtime_config(make(change), TOPOLOGY)

    assert document["client"] == {"enabled": False, "options": {}}
    assert document["topology"]["client"]["podConfigs"] == []


def test_encrypt_options_list_shared_ones_first_and_hold_paths_never_values(make: Any) -> None:
    def change(_: Any, dataset: dict[str, Any], __: Any) -> None:
        dataset["spec"]["sharedEncryptOptions"] = [
            {"name": "region-token", "valueFrom": {"secretKeyRef": {"name": "shared", "key": "t"}}}
        ]

    document = runtime_config(make(change), {})

    assert document["master"]["encryptOption"] == {
        **SECRET_FILES,
        "region-token": "/etc/fluid/secrets/shared/t",
    }
    assert "demo-token" not in config_text(document)


def test_the_text_is_the_same_for_the_same_input(seed_plan: Plan) -> None:
    first = config_text(runtime_config(seed_plan, TOPOLOGY))
    second = config_text(runtime_config(seed_plan, {k: list(v) for k, v in TOPOLOGY.items()}))

    assert first == second
    assert json.loads(first) == runtime_config(seed_plan, TOPOLOGY)


def test_the_config_map_is_named_after_the_runtime_owned_by_it_under_key_runtime_json(
    seed_plan: Plan, owner: dict[str, Any]
) -> None:
    config_map = render_config_map(seed_plan, "{}")

    assert config_map == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "fluid-runtime-config-demofs",
            "namespace": "default",
            "labels": {"cacheruntime.fluid.io/name": "demofs"},
            "ownerReferences": [owner],
        },
        "data": {"runtime.json": "{}"},
    }


def test_the_classes_extra_config_maps_keep_their_names_and_data(
    make: Any, owner: dict[str, Any]
) -> None:
    def change(runtime_class: dict[str, Any], _: Any, __: Any) -> None:
        runtime_class["extraResources"] = {
            "configMaps": [{"name": "demofs-scripts", "data": {"b.sh": "b", "a.sh": "a"}}]
        }

    [config_map] = render_extra_config_maps(make(change))

    assert config_map["metadata"]["name"] == "demofs-scripts"
    assert config_map["metadata"]["ownerReferences"] == [owner]
    assert config_map["data"] == {"a.sh": "a", "b.sh": "b"}

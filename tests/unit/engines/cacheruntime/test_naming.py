"""Derived names and paths."""

from __future__ import annotations

import re

from fluidpy.engines.cacheruntime.naming import (
    extra_volume_name,
    name_limit,
    secret_volume_name,
    target_path,
    workload_name,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_workloads_are_named_after_the_runtime_and_component() -> None:
    assert workload_name("demofs", "master") == "demofs-master"


def test_the_target_path_is_under_the_mount_root_by_runtime_type_namespace_and_name() -> None:
    assert target_path("/runtime-mnt", "default", "demofs") == (
        "/runtime-mnt/cache/default/demofs/cache-fuse"
    )
    assert target_path("/", "ns", "x") == "/cache/ns/x/cache-fuse"


def test_secret_volume_names_are_valid_volume_names_for_any_secret_name() -> None:
    assert secret_volume_name("jfs-secret") == "fluid-secret-jfs-secret"
    for secret in ("tls.example.com", "s" * 253, "a." * 40 + "b"):
        name = secret_volume_name(secret)
        assert len(name) <= 63 and DNS_LABEL.match(name), name
    assert secret_volume_name("s" * 100) != secret_volume_name("s" * 101)


def test_extra_config_map_volumes_are_named_after_runtime_and_config_map_and_always_valid() -> None:
    assert extra_volume_name("demofs", "scripts") == "fluid-extra-demofs-scripts"
    for runtime, config_map in (("r" * 40, "c" * 40), ("demofs", "app.config"), ("a", "b" * 253)):
        name = extra_volume_name(runtime, config_map)
        assert len(name) <= 63 and DNS_LABEL.match(name), name
    assert extra_volume_name("r" * 40, "c" * 40) != extra_volume_name("r" * 40, "c" * 41)


def test_statefulset_names_have_less_room_than_other_workloads() -> None:
    assert name_limit("StatefulSet") == 52
    assert name_limit("DaemonSet") == name_limit("Deployment") == 63

"""config/sharded: the sharded Deployment variant and the Lease rights its ring needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SHARDED = Path(__file__).resolve().parents[2] / "config" / "sharded"


def load(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((SHARDED / name).read_text()) if d]


def test_the_variant_builds_on_the_base_and_every_file_it_names_exists() -> None:
    (kustomization,) = load("kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (SHARDED / resource).exists(), resource
    for patch in kustomization["patches"]:
        assert (SHARDED / patch["path"]).exists(), patch


def test_three_replicas_each_a_shard() -> None:
    (deployment,) = load("manager_patch.yaml")
    assert deployment["spec"]["replicas"] == 3
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "--shards" in container["args"]
    assert "--leader-elect" not in container["args"]


def test_leases_are_granted_exactly_the_verbs_the_ring_uses() -> None:
    role = next(d for d in load("sharding_role.yaml") if d["kind"] == "Role")
    assert role["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "list", "create", "update", "delete"],
        }
    ]

"""The manager's RBAC grants named verbs on named resources, never wildcards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

RBAC = Path(__file__).resolve().parents[2] / "config" / "rbac"


def rules() -> list[dict[str, Any]]:
    found = []
    for path in sorted(RBAC.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") in ("ClusterRole", "Role"):
                found.extend(document["rules"])
    return found


def test_no_rule_uses_a_wildcard() -> None:
    assert rules()
    for rule in rules():
        for key in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[key], rule
            assert all("*" not in item for item in rule[key]), rule


def test_secrets_are_only_read() -> None:
    secret_rules = [r for r in rules() if "secrets" in r["resources"]]
    assert secret_rules
    assert all(set(r["verbs"]) <= {"get", "list", "watch"} for r in secret_rules)


def test_every_binding_names_the_managers_service_account() -> None:
    for path in sorted(RBAC.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") in ("ClusterRoleBinding", "RoleBinding"):
                assert document["subjects"] == [
                    {
                        "kind": "ServiceAccount",
                        "name": "fluidpy-controller-manager",
                        "namespace": "fluid-system",
                    }
                ]

"""The default transform: what controllers read is unchanged, only bookkeeping goes."""

import copy
import json
from typing import Any

from fluidpy.informer import (
    default_transform,
    keeping,
    share_strings,
    strip_managed_fields,
    without_secret_values,
)
from fluidpy.informer.transform import SHARED_VALUE_MAX

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-0",
        "namespace": "prod",
        "labels": {"app": "web"},
        "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}],
    },
    "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


def test_managed_fields_are_stripped_and_nothing_else() -> None:
    stripped = strip_managed_fields(copy.deepcopy(POD))
    expected = copy.deepcopy(POD)
    del expected["metadata"]["managedFields"]
    assert stripped == expected


def test_object_without_metadata_passes_through() -> None:
    assert strip_managed_fields({"kind": "Status"}) == {"kind": "Status"}


def test_shared_strings_keep_the_content_and_are_one_object_across_documents() -> None:
    first = share_strings(json.loads(json.dumps(POD)))
    second = share_strings(json.loads(json.dumps(POD)))
    assert first == second == POD
    first_port, second_port = (
        first["spec"]["containers"][0]["ports"][0],
        second["spec"]["containers"][0]["ports"][0],
    )
    assert next(iter(first_port)) is next(iter(second_port))
    assert first["status"]["conditions"][0]["status"] is second["status"]["conditions"][0]["status"]


def test_long_values_are_not_interned() -> None:
    long_value = "x" * (SHARED_VALUE_MAX + 1)
    first = share_strings(json.loads(json.dumps({"data": long_value})))
    second = share_strings(json.loads(json.dumps({"data": long_value})))
    assert first["data"] == second["data"]
    assert first["data"] is not second["data"]


def test_default_transform_strips_and_shares() -> None:
    result = default_transform(json.loads(json.dumps(POD)))
    assert "managedFields" not in result["metadata"]
    assert result["spec"] == POD["spec"]


def test_secrets_are_cached_without_their_values() -> None:
    secret = {
        "metadata": {"name": "creds", "namespace": "ns", "managedFields": [{"manager": "x"}]},
        "type": "Opaque",
        "data": {"token": "c2VjcmV0"},
        "stringData": {"token": "secret"},
    }

    cached = without_secret_values(secret)

    assert cached == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "ns"},
        "type": "Opaque",
    }


def test_keeping_keeps_the_named_paths_and_metadata_and_drops_the_rest() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["nodeName"] = "node-1"
    pod["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})

    kept = keeping("spec.containers.name", "spec.nodeName", "status")(pod)

    assert kept == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "prod", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c"}, {"name": "sidecar"}], "nodeName": "node-1"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_keeping_leaves_out_what_the_object_lacks_and_keeps_a_whole_value_over_a_part() -> None:
    transform = keeping("spec.template.spec.affinity", "status.phase", "status")

    kept = transform({"kind": "StatefulSet", "spec": {"replicas": 2}, "status": {"x": 1}})

    assert kept == {"kind": "StatefulSet", "spec": {}, "status": {"x": 1}}


def test_keeping_shares_strings_as_the_default_transform_does() -> None:
    transform = keeping("spec.containers.name")
    first = transform(json.loads(json.dumps(POD)))
    second = transform(json.loads(json.dumps(POD)))

    assert first["spec"]["containers"][0]["name"] is second["spec"]["containers"][0]["name"]

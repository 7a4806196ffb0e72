"""The default transform: what controllers read is unchanged, only bookkeeping goes."""

import copy
import json
from typing import Any

from fluidpy.informer import default_transform, share_keys, strip_managed_fields

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


def test_shared_keys_keep_the_content_and_are_one_object_across_documents() -> None:
    first = share_keys(json.loads(json.dumps(POD)))
    second = share_keys(json.loads(json.dumps(POD)))
    assert first == second == POD
    key_of_first = next(k for k in first["spec"]["containers"][0]["ports"][0])
    key_of_second = next(k for k in second["spec"]["containers"][0]["ports"][0])
    assert key_of_first is key_of_second


def test_default_transform_strips_and_shares() -> None:
    result = default_transform(json.loads(json.dumps(POD)))
    assert "managedFields" not in result["metadata"]
    assert result["spec"] == POD["spec"]

"""A runtime touches only what it controls (docs/runtimes.md, "What belongs to a runtime").

A user's objects under the names a runtime needs are never written, adopted or deleted: the
runtime reports NameConflict, naming the object and the fix, and carries on by itself once the
name is free. A runtime refused a Dataset that serves another runtime leaves no trace, and its
deletion touches nothing of the other runtime's.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.engines.base.volume import PV, PVC
from fluidpy.engines.cacheruntime.naming import (
    CONFIGMAP,
    DAEMONSET,
    DATASET_GVK,
    NODE,
    RUNTIME_GVK,
    SERVICE,
    STATEFULSET,
)
from fluidpy.testing import LocalCluster

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"
ALLUXIO_GVK = GVK("data.fluid.io", "v1alpha1", "AlluxioRuntime")


def users_object(gvk: GVK, name: str) -> dict[str, Any]:
    """An object a person made under `name`, before any runtime existed."""
    mine = {"app": f"mine-{gvk.kind.lower()}"}
    template = {
        "metadata": {"labels": mine},
        "spec": {
            "nodeSelector": {"example.com/no-such-node": "true"},
            "containers": [{"name": "app", "image": "busybox:1.36"}],
        },
    }
    bodies: dict[str, dict[str, Any]] = {
        "ConfigMap": {"data": {"settings": "the user's own"}},
        "Service": {"spec": {"selector": mine, "ports": [{"port": 80}]}},
        "StatefulSet": {
            "spec": {"replicas": 0, "selector": {"matchLabels": mine}, "template": template}
        },
        "DaemonSet": {"spec": {"selector": {"matchLabels": mine}, "template": template}},
    }
    return {
        "apiVersion": gvk.api_version,
        "kind": gvk.kind,
        "metadata": {"name": name, "labels": {"owner": "a-person"}},
        **bodies[gvk.kind],
    }


def create_users_object(kube: Any, gvk: GVK, name: str) -> None:
    obj = users_object(gvk, name)
    obj["metadata"]["namespace"] = kube.namespace
    kube.create(obj)


def unchanged_part(obj: dict[str, Any]) -> dict[str, Any]:
    """What no one but its author may change: everything (managed fields included, so an apply
    by anyone shows) but the status Kubernetes' own controllers keep, and the resourceVersion
    their status writes move."""
    kept = copy.deepcopy(obj)
    kept.pop("status", None)
    kept["metadata"].pop("resourceVersion", None)
    fields = kept["metadata"].get("managedFields") or []
    kept["metadata"]["managedFields"] = [f for f in fields if not f.get("subresource")]
    return kept


USERS_OBJECTS = [
    (CONFIGMAP, f"fluid-runtime-config-{NAME}"),
    (SERVICE, f"{NAME}-master"),
    (STATEFULSET, f"{NAME}-worker"),
    (DAEMONSET, f"{NAME}-client"),
]


@pytest.mark.parametrize(("gvk", "name"), USERS_OBJECTS, ids=[g.kind for g, _ in USERS_OBJECTS])
def test_a_users_object_under_a_needed_name_is_reported_then_the_runtime_proceeds(
    kube: Any, gvk: GVK, name: str
) -> None:
    create_users_object(kube, gvk, name)
    before = unchanged_part(kube.must(gvk, name))
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())

    condition = kube.wait_condition(NAME, "NameConflict")

    what = f"{gvk.kind} {kube.namespace}/{name}"
    assert condition["message"].startswith(f"{what} already exists and is not this runtime's")
    assert "Rename or delete" in condition["message"]
    event = kube.wait_event(NAME, "NameConflict")
    assert event["type"] == "Warning"
    assert event["message"] == condition["message"]
    # The Dataset's status is written after the runtime's, and retried when the Dataset
    # controller's first patch moved it meanwhile: the conflict may be told before it shows.
    kube.eventually(
        lambda: (kube.must(DATASET_GVK, NAME).get("status") or {}).get("phase") == "NotBound",
        "the Dataset NotBound",
    )
    live = kube.must(gvk, name)
    assert unchanged_part(live) == before

    kube.delete(gvk, name)

    kube.wait_bound(NAME)
    owners = kube.must(gvk, name)["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o["controller"]) for o in owners] == [
        ("CacheRuntime", NAME, True)
    ]


def test_users_objects_survive_the_deletion_of_the_runtime_they_blocked(kube: Any) -> None:
    for gvk, name in USERS_OBJECTS:
        create_users_object(kube, gvk, name)
    before = {name: unchanged_part(kube.must(gvk, name)) for gvk, name in USERS_OBJECTS}
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())
    kube.wait_condition(NAME, "NameConflict")

    kube.delete(RUNTIME_GVK, NAME)
    kube.eventually(lambda: kube.get(RUNTIME_GVK, NAME) is None, "the runtime gone")
    # The finalizer's clean-up runs before the runtime goes, and garbage collection follows
    # owner references, which the objects never got: anything that would change them has run.

    for gvk, name in USERS_OBJECTS:
        live = kube.must(gvk, name)
        assert unchanged_part(live) == before[name], f"{gvk.kind} {name} changed"


def test_a_users_claim_named_like_the_dataset_keeps_the_dataset_unbound(kube: Any) -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": NAME, "namespace": kube.namespace},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "someone-elses",
        },
    }
    kube.create(claim)
    before = unchanged_part(kube.must(PVC, NAME))
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())

    condition = kube.wait_condition(NAME, "NameConflict")

    assert condition["message"].startswith(
        f"PersistentVolumeClaim {kube.namespace}/{NAME} already exists and is not this runtime's"
    )

    def not_bound() -> dict[str, Any] | None:
        status = kube.must(DATASET_GVK, NAME).get("status") or {}
        return status if status.get("phase") == "NotBound" else None

    # The Dataset's status is written after the runtime's (see the test above).
    status = kube.eventually(not_bound, "the Dataset NotBound")
    assert status.get("runtimes") in (None, [])
    assert unchanged_part(kube.must(PVC, NAME)) == before
    assert kube.get(PV, f"{kube.namespace}-{NAME}") is None

    kube.delete(PVC, NAME)

    kube.wait_bound(NAME)
    kube.eventually(lambda: kube.get(PVC, NAME), "the runtime's own claim")


def test_a_runtime_refused_a_bound_dataset_leaves_the_other_runtimes_things_alone(
    kube: Any, cluster: LocalCluster
) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())
    dataset = kube.wait_bound(NAME)
    kube.eventually(
        lambda: (kube.get(PVC, NAME) or {}).get("status", {}).get("phase") == "Bound",
        "the claim bound to its volume (Kubernetes' own volume controller writes both)",
    )
    label = kube.fuse_label(dataset)
    node = cluster.node_names()[1]
    kube.label_node(node, label)
    theirs = [(PVC, NAME), (PV, f"{kube.namespace}-{NAME}")]
    before = {name: unchanged_part(kube.must(gvk, name)) for gvk, name in theirs}
    # The bound runtime keeps rewriting its own config (the FUSE pod the label brings gets an
    # IP): what must not change is whose it is.
    config_map = f"fluid-runtime-config-{NAME}"
    config_owners = kube.must(CONFIGMAP, config_map)["metadata"]["ownerReferences"]
    refused = {
        "apiVersion": ALLUXIO_GVK.api_version,
        "kind": "AlluxioRuntime",
        "metadata": {"name": NAME, "namespace": kube.namespace},
        "spec": {},
    }
    kube.create(refused)

    condition = kube.wait_condition(NAME, "DatasetBoundToOtherRuntime", ALLUXIO_GVK)

    assert f"cache runtime {kube.namespace}/{NAME}" in condition["message"]
    metadata = kube.must(ALLUXIO_GVK, NAME)["metadata"]
    assert not metadata.get("finalizers")
    assert not metadata.get("ownerReferences")
    assert "fluid.io/dataset-id" not in (metadata.get("labels") or {})

    kube.delete(ALLUXIO_GVK, NAME)

    kube.eventually(lambda: kube.get(ALLUXIO_GVK, NAME) is None, "the refused runtime gone")
    # A refused runtime never gets a finalizer: nothing runs on its deletion at all.
    for gvk, name in theirs:
        assert unchanged_part(kube.must(gvk, name)) == before[name], f"{gvk.kind} {name} changed"
    assert kube.must(CONFIGMAP, config_map)["metadata"]["ownerReferences"] == config_owners
    assert kube.must(NODE, node)["metadata"]["labels"].get(label) == "true"
    assert kube.must(DATASET_GVK, NAME)["status"]["phase"] == "Bound"


def test_a_cache_runtime_is_refused_a_dataset_bound_to_an_alluxio_runtime_of_its_name(
    kube: Any,
) -> None:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(objects["Dataset"])
    kube.eventually(
        lambda: (kube.must(DATASET_GVK, NAME).get("status") or {}).get("phase") == "NotBound",
        "the Dataset NotBound",
    )
    entry = {"name": NAME, "namespace": kube.namespace, "category": "Accelerate", "type": "alluxio"}
    kube.client.patch_status(
        DATASET_GVK, NAME, kube.namespace, {"status": {"phase": "Bound", "runtimes": [entry]}}
    )
    kube.create(objects["CacheRuntimeClass"], objects["CacheRuntime"])

    condition = kube.wait_condition(NAME, "DatasetBoundToOtherRuntime")

    assert f"alluxio runtime {kube.namespace}/{NAME}" in condition["message"]
    assert not kube.must(RUNTIME_GVK, NAME)["metadata"].get("finalizers")
    assert kube.get(CONFIGMAP, f"fluid-runtime-config-{NAME}") is None
    assert kube.get(STATEFULSET, f"{NAME}-master") is None
    assert kube.must(DATASET_GVK, NAME)["status"]["runtimes"] == [entry]

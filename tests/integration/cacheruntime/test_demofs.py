"""The integration guide's demofs example, applied as written with its Secret, on a real control
plane: it reaches Bound, and every object it produces is checked field by field."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import SECRET
from fluidpy.engines.base.volume import PV, PVC
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIGMAP,
    DAEMONSET,
    DATASET_GVK,
    RUNTIME_GVK,
    SERVICE,
    STATEFULSET,
)

pytestmark = pytest.mark.integration

NAME = "demofs"
OPTIONS = {"key1": "value1", "key2": "value2"}
SECRET_FILES = {
    "access-key": "/etc/fluid/secrets/jfs-secret/access-key",
    "secret-key": "/etc/fluid/secrets/jfs-secret/secret-key",
    "token": "/etc/fluid/secrets/jfs-secret/token",
}
CONFIG_MOUNT = {"name": "fluid-runtime-config", "mountPath": "/etc/fluid/config", "readOnly": True}
SECRET_MOUNT = {
    "name": "fluid-secret-jfs-secret",
    "mountPath": "/etc/fluid/secrets/jfs-secret",
    "readOnly": True,
}


@pytest.fixture
def seed(kube: Any) -> dict[str, Any]:
    """The example applied as written; returns what the cluster made of it once Bound."""
    objects = kube.sample("demofs.yaml")
    kube.create(
        objects["Secret"], objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"]
    )
    dataset = kube.wait_bound(NAME)
    # The Dataset binds once the readiness rule is met, which may be before the last worker is up.
    runtime = kube.eventually(
        lambda: fully_ready(kube.must(RUNTIME_GVK, NAME)), "every pod of the runtime ready"
    )
    ns = kube.namespace
    fuse_label = f"fluid.io/f-{ns}-{NAME}"
    if len(fuse_label) >= 63:  # label names have 63 characters; longer keys use the Dataset UID
        fuse_label = f"fluid.io/f-{dataset['metadata']['uid']}"
    return {
        "kube": kube,
        "ns": ns,
        "dataset": dataset,
        "runtime": runtime,
        "target": f"/runtime-mnt/cache/{ns}/{NAME}/cache-fuse",
        "fuse_label": fuse_label,
        "owner": {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "CacheRuntime",
            "name": NAME,
            "uid": runtime["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        },
    }


def fully_ready(runtime: dict[str, Any]) -> dict[str, Any] | None:
    status = runtime.get("status") or {}
    components = [status.get(name) or {} for name in ("master", "worker", "client")]
    every_pod = all(c.get("readyReplicas") == c.get("desiredReplicas") for c in components)
    return runtime if status.get("phase") == "Ready" and every_pod else None


def labels(component: str) -> dict[str, str]:
    return {"cacheruntime.fluid.io/name": NAME, "cacheruntime.fluid.io/component-name": component}


def env(seed: dict[str, Any], component: str) -> list[dict[str, str]]:
    return [
        {"name": "FLUID_DATASET_NAME", "value": NAME},
        {"name": "FLUID_DATASET_NAMESPACE", "value": seed["ns"]},
        {"name": "FLUID_RUNTIME_CONFIG_PATH", "value": "/etc/fluid/config/runtime.json"},
        {"name": "FLUID_RUNTIME_MOUNT_PATH", "value": seed["target"]},
        {"name": "FLUID_RUNTIME_COMPONENT_TYPE", "value": component},
    ]


def volume(volumes: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(v for v in volumes if v["name"] == name)


def test_the_dataset_is_bound_to_the_cache_runtime(seed: dict[str, Any]) -> None:
    status = seed["dataset"]["status"]

    assert status["phase"] == "Bound"
    assert status["runtimes"] == [
        {
            "name": NAME,
            "namespace": seed["ns"],
            "category": "Accelerate",
            "type": "cache",
            "masterReplicas": 2,
        }
    ]
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "DatasetReady")


def test_the_runtime_status_shows_each_component(seed: dict[str, Any]) -> None:
    status = seed["runtime"]["status"]

    assert status["phase"] == "Ready"
    assert status["master"] == {"phase": "Ready", "desiredReplicas": 2, "readyReplicas": 2}
    assert status["worker"] == {"phase": "Ready", "desiredReplicas": 2, "readyReplicas": 2}
    # No node mounts the Dataset yet, so no client pod is wanted: NotReady, which gates nothing.
    assert status["client"] == {"phase": "NotReady", "desiredReplicas": 0, "readyReplicas": 0}
    assert status["valueFile"] == "fluid-runtime-config-demofs"
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {
        "MasterReady": ("True", "Ready"),
        "WorkersReady": ("True", "Ready"),
        "ClientReady": ("False", "NotReady"),
        "Ready": ("True", "Ready"),
    }
    assert seed["runtime"]["metadata"]["finalizers"] == ["cache-runtime-controller-finalizer"]


def test_the_master_statefulset(seed: dict[str, Any]) -> None:
    master = seed["kube"].must(STATEFULSET, "demofs-master")

    assert master["metadata"]["labels"] == labels("master")
    assert master["metadata"]["ownerReferences"] == [seed["owner"]]
    spec = master["spec"]
    assert spec["replicas"] == 2
    assert spec["serviceName"] == "demofs-master"
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["selector"] == {"matchLabels": labels("master")}
    template = spec["template"]
    assert template["metadata"]["labels"] == labels("master")
    assert template["spec"]["restartPolicy"] == "Always"
    [container] = template["spec"]["containers"]
    assert container["name"] == "master"
    assert container["image"] == "$image"
    assert container["args"] == ["/bin/sh", "-c", "custom-endpoint.sh"]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["env"] == env(seed, "master")
    assert container["volumeMounts"] == [CONFIG_MOUNT, SECRET_MOUNT]
    volumes = template["spec"]["volumes"]
    assert [v["name"] for v in volumes] == ["fluid-runtime-config", "fluid-secret-jfs-secret"]
    assert volume(volumes, "fluid-runtime-config")["configMap"]["name"] == (
        "fluid-runtime-config-demofs"
    )
    assert volume(volumes, "fluid-secret-jfs-secret")["secret"]["secretName"] == "jfs-secret"


def test_the_worker_statefulset_with_its_memory_cache(seed: dict[str, Any]) -> None:
    worker = seed["kube"].must(STATEFULSET, "demofs-worker")

    assert worker["metadata"]["labels"] == labels("worker")
    assert worker["metadata"]["ownerReferences"] == [seed["owner"]]
    assert worker["spec"]["replicas"] == 2
    assert worker["spec"]["serviceName"] == "demofs-worker"
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["env"] == env(seed, "worker")
    assert container["volumeMounts"] == [
        CONFIG_MOUNT,
        {"name": "fluid-tiered-store-0", "mountPath": "/cache-data"},
    ]
    volumes = worker["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in volumes] == ["fluid-runtime-config", "fluid-tiered-store-0"]
    assert volume(volumes, "fluid-tiered-store-0")["emptyDir"] == {
        "medium": "Memory",
        "sizeLimit": "40Gi",
    }


def test_the_client_daemonset(seed: dict[str, Any]) -> None:
    client = seed["kube"].must(DAEMONSET, "demofs-client")

    assert client["metadata"]["labels"] == labels("client")
    assert client["metadata"]["ownerReferences"] == [seed["owner"]]
    assert client["spec"]["updateStrategy"] == {"type": "OnDelete"}
    pod = client["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {seed["fuse_label"]: "true"}
    [container] = pod["containers"]
    assert container["securityContext"] == {"privileged": True, "runAsUser": 0}
    assert container["env"] == env(seed, "client")
    assert container["volumeMounts"] == [
        CONFIG_MOUNT,
        SECRET_MOUNT,
        {"name": "demo", "mountPath": "/mnt"},
        {
            "name": "fluid-cache-fuse",
            "mountPath": seed["target"],
            "mountPropagation": "Bidirectional",
        },
    ]
    assert [v["name"] for v in pod["volumes"]] == [
        "demo",
        "fluid-runtime-config",
        "fluid-secret-jfs-secret",
        "fluid-cache-fuse",
    ]
    assert volume(pod["volumes"], "demo")["persistentVolumeClaim"] == {"claimName": "test"}
    assert volume(pod["volumes"], "fluid-cache-fuse")["hostPath"] == {
        "path": seed["target"],
        "type": "DirectoryOrCreate",
    }


def test_the_headless_services(seed: dict[str, Any]) -> None:
    for component in ("master", "worker"):
        service = seed["kube"].must(SERVICE, f"demofs-{component}")
        assert service["metadata"]["labels"] == labels(component)
        assert service["metadata"]["ownerReferences"] == [seed["owner"]]
        assert service["spec"]["clusterIP"] == "None"
        assert service["spec"]["selector"] == labels(component)
        assert service["spec"]["publishNotReadyAddresses"] is True
    assert seed["kube"].get(SERVICE, "demofs-client") is None


def test_the_runtime_config_lists_everything_and_the_pods_with_their_ips(
    seed: dict[str, Any],
) -> None:
    kube = seed["kube"]

    def topology(component: str) -> list[dict[str, str]]:
        return [
            {"podName": p["metadata"]["name"], "podIP": p["status"]["podIP"]}
            for p in kube.pods(NAME, component)
        ]

    def current() -> bool:
        masters, workers = topology("master"), topology("worker")
        document = kube.runtime_config(NAME)
        return (
            len(masters) == 2
            and len(workers) == 2
            and document["topology"]["master"]["podConfigs"] == masters
            and document["topology"]["worker"]["podConfigs"] == workers
        )

    kube.eventually(current, "the runtime config to list the current pods")
    assert kube.runtime_config(NAME) == {
        "mounts": [{"mountPoint": "demofs:///", "options": OPTIONS, "name": "demo"}],
        "targetPath": seed["target"],
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
            "master": {"podConfigs": topology("master"), "service": {"name": "demofs-master"}},
            "worker": {"podConfigs": topology("worker"), "service": {"name": "demofs-worker"}},
            "client": {"podConfigs": [], "service": {"name": ""}},
        },
    }
    assert all(p["podIP"] for p in topology("master") + topology("worker"))
    config_map = kube.must(CONFIGMAP, "fluid-runtime-config-demofs")
    assert config_map["metadata"]["ownerReferences"] == [seed["owner"]]
    assert list(config_map["data"]) == ["runtime.json"]


def test_the_persistent_volume_and_claim(seed: dict[str, Any]) -> None:
    kube, ns = seed["kube"], seed["ns"]
    dataset_labels = {
        (
            f"fluid.io/s-{ns}-{NAME}"
            if len(f"fluid.io/s-{ns}-{NAME}") < 63
            else f"fluid.io/s-{seed['dataset']['metadata']['uid']}"
        ): "true",
        "fluid.io/dataset-id": f"{ns}-{NAME}",
        "fluid.io/owner-runtime-kind": "CacheRuntime",
        "fluid.io/owner-runtime-namespace": ns,
        "fluid.io/owner-runtime-name": NAME,
        "fluid.io/owner-runtime-uid": seed["runtime"]["metadata"]["uid"],
    }

    pv = kube.eventually(lambda: kube.get(PV, f"{ns}-{NAME}"), "the PersistentVolume")
    assert pv["metadata"]["labels"] == dataset_labels
    assert pv["metadata"]["annotations"]["CreatedBy"] == "fluid"
    assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pv["spec"]["capacity"] == {"storage": "100Pi"}
    assert pv["spec"]["storageClassName"] == "fluid"
    assert pv["spec"]["claimRef"]["namespace"] == ns
    assert pv["spec"]["claimRef"]["name"] == NAME
    assert pv["spec"]["csi"]["driver"] == "fuse.csi.fluid.io"
    assert pv["spec"]["csi"]["volumeHandle"] == f"{ns}-{NAME}"
    assert pv["spec"]["csi"]["volumeAttributes"] == {
        "fluid_path": seed["target"],
        "mount_type": "cache",
        "runtime_name": NAME,
        "runtime_namespace": ns,
        "mount_pod_node_selector_key": seed["fuse_label"],
    }
    pvc = kube.eventually(lambda: kube.get(PVC, NAME), "the PersistentVolumeClaim")
    client = kube.must(DAEMONSET, f"{NAME}-client")
    assert pvc["metadata"]["labels"] == {
        **dataset_labels,
        "fuse.runtime.fluid.io/generation": str(client["metadata"]["generation"]),
    }
    assert pvc["metadata"]["annotations"]["CreatedBy"] == "fluid"
    assert pvc["spec"]["volumeName"] == f"{ns}-{NAME}"
    assert pvc["spec"]["storageClassName"] == "fluid"
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["spec"]["resources"]["requests"] == {"storage": "100Pi"}


def test_the_secret_values_appear_in_no_object_the_runtime_produced(seed: dict[str, Any]) -> None:
    kube = seed["kube"]
    produced = [
        kube.get(RUNTIME_GVK, NAME),
        kube.get(DATASET_GVK, NAME),
        kube.get(CLASS_GVK, NAME),
        kube.get(CONFIGMAP, "fluid-runtime-config-demofs"),
        kube.get(STATEFULSET, "demofs-master"),
        kube.get(STATEFULSET, "demofs-worker"),
        kube.get(DAEMONSET, "demofs-client"),
        kube.get(SERVICE, "demofs-master"),
    ]
    text = repr(produced)
    for value in ("demo-token", "demo-access-key", "demo-secret-key"):
        assert value not in text


def test_the_manager_caches_the_secret_without_its_values(
    seed: dict[str, Any], manager: Any
) -> None:
    cached = manager.cache.list(SECRET, seed["kube"].namespace)

    assert "jfs-secret" in [secret["metadata"]["name"] for secret in cached]
    assert all("data" not in secret and "stringData" not in secret for secret in cached)

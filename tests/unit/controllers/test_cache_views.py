"""What the manager's cache keeps of each kind: every reader answers the same on the trimmed
object as on the whole one, and the bulk (the pod template, most of a Pod) is not kept.

The objects are shaped as the API server returns them for a CacheRuntime's worker StatefulSet
and its pod (defaults filled in, managedFields of three managers), written for these tests."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from fluidpy.cache import KindOptions
from fluidpy.controllers import CACHE_VIEWS
from fluidpy.controllers.kinds import DAEMONSET, DEPLOYMENT, POD, STATEFULSET
from fluidpy.engines.base.nodes import scheduled_nodes
from fluidpy.engines.base.status import workload_counts
from fluidpy.engines.base.volume import PV, PVC
from fluidpy.engines.cacheruntime.execution import first_pod, running_container
from fluidpy.engines.cacheruntime.render.placement import worker_cache_affinity
from fluidpy.engines.cacheruntime.render.status import component_state, unschedulable
from fluidpy.engines.cacheruntime.render.topology import pod_configs

OWNER = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "demo-worker", "uid": "u-sts"}
MANAGED_FIELDS = [
    {"manager": manager, "operation": "Update", "fieldsV1": {"f:spec": {"f:containers": {}}}}
    for manager in ("fluidpy", "kube-controller-manager", "kubelet")
]
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
            ]
        }
    }
}


POD_ANTI_AFFINITY = {
    "requiredDuringSchedulingIgnoredDuringExecution": [
        {
            "labelSelector": {
                "matchExpressions": [{"key": "fluid.io/dataset", "operator": "Exists"}]
            },
            "topologyKey": "kubernetes.io/hostname",
        }
    ]
}


def container(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": "registry.example.com/democache/worker:1.0",
        "imagePullPolicy": "IfNotPresent",
        "command": ["/entrypoint.sh", "worker"],
        "env": [
            {"name": "CACHE_CONFIG", "value": "/etc/democache/config.json"},
            {
                "name": "POD_IP",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            },
        ],
        "ports": [{"name": "rpc", "containerPort": 9000, "protocol": "TCP"}],
        "resources": {"limits": {"memory": "4Gi"}, "requests": {"cpu": "500m"}},
        "readinessProbe": {"tcpSocket": {"port": "rpc"}, "periodSeconds": 10},
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/democache"},
            {"name": "cache", "mountPath": "/cache"},
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def pod_spec(**extra: Any) -> dict[str, Any]:
    return {
        "containers": [container("worker"), container("sidecar")],
        "volumes": [
            {"name": "config", "configMap": {"name": "demo-config", "defaultMode": 420}},
            {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
        ],
        "affinity": {**AFFINITY, "podAntiAffinity": POD_ANTI_AFFINITY},
        "nodeSelector": {"fluid.io/cache": "true"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {},
        **extra,
    }


def workload(kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {
            "name": "demo-worker",
            "namespace": "ns",
            "uid": "u-sts",
            "generation": 3,
            "resourceVersion": "812",
            "labels": {"cacheruntime.fluid.io/name": "demo"},
            "annotations": {"cacheruntime.fluid.io/applied-hash": "0123456789abcdef"},
            "ownerReferences": [{"kind": "CacheRuntime", "name": "demo", "controller": True}],
            "managedFields": MANAGED_FIELDS,
        },
        "spec": {
            "replicas": 2,
            "serviceName": "demo-worker",
            "selector": {"matchLabels": {"cacheruntime.fluid.io/name": "demo"}},
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"cacheruntime.fluid.io/name": "demo"}},
                "spec": pod_spec(),
            },
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 2,
            "readyReplicas": 1,
            "updatedReplicas": 2,
            "desiredNumberScheduled": 2,
            "numberReady": 1,
        },
    }


def pod(name: str, *, phase: str = "Running", node: str | None = "node-1") -> dict[str, Any]:
    spec = pod_spec(nodeName=node) if node else pod_spec()
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"u-{name}",
            "labels": {
                "cacheruntime.fluid.io/name": "demo",
                "cacheruntime.fluid.io/component": "worker",
            },
            "ownerReferences": [{**OWNER, "controller": True}],
            "managedFields": MANAGED_FIELDS,
        },
        "spec": spec,
        "status": {
            "phase": phase,
            "podIP": "10.0.0.7" if node else "",
            "hostIP": "192.168.0.1",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available",
                    "lastProbeTime": None,
                    "lastTransitionTime": "2026-12-05T10:00:00Z",
                }
                if node is None
                else {
                    "type": "Ready",
                    "status": "True",
                    "lastTransitionTime": "2026-12-05T10:00:00Z",
                }
            ],
            "containerStatuses": [
                {
                    "name": "worker",
                    "restartCount": 1,
                    "state": {"running": {"startedAt": "2026-12-05T10:00:00Z"}},
                    "lastState": {},
                    "ready": True,
                    "started": True,
                    "image": "registry.example.com/democache/worker:1.0",
                    "imageID": "registry.example.com/democache/worker@sha256:" + "0" * 64,
                    "containerID": "containerd://" + "1" * 64,
                }
            ],
        },
    }


def cached(gvk: Any, obj: dict[str, Any]) -> dict[str, Any]:
    transform = CACHE_VIEWS[gvk].transform
    assert transform is not None
    result: dict[str, Any] = transform(copy.deepcopy(obj))
    return result


def size(obj: dict[str, Any]) -> int:
    return len(json.dumps(obj))


@pytest.mark.parametrize("gvk", [STATEFULSET, DAEMONSET, DEPLOYMENT])
def test_a_workloads_readers_read_the_same_from_its_cached_view(gvk: Any) -> None:
    whole = workload(gvk.kind)
    view = cached(gvk, whole)

    assert view["metadata"] == {k: v for k, v in whole["metadata"].items() if k != "managedFields"}
    assert view["status"] == whole["status"]
    assert view["spec"]["serviceName"] == whole["spec"]["serviceName"]
    assert component_state(view, 2) == component_state(whole, 2)
    assert workload_counts(view) == workload_counts(whole)
    assert worker_cache_affinity(view) == worker_cache_affinity(whole) is not None


@pytest.mark.parametrize("gvk", [STATEFULSET, DAEMONSET, DEPLOYMENT])
def test_a_workloads_pod_template_is_not_cached(gvk: Any) -> None:
    whole = workload(gvk.kind)
    view = cached(gvk, whole)

    assert view["spec"]["template"] == {
        "spec": {"affinity": AFFINITY, "nodeSelector": {"fluid.io/cache": "true"}}
    }
    assert size(view) < size(whole) / 3


def test_a_pods_readers_read_the_same_from_its_cached_view() -> None:
    whole = [pod("demo-worker-0"), pod("demo-worker-1", node=None, phase="Pending")]
    view = [cached(POD, p) for p in whole]

    assert [v["metadata"] for v in view] == [
        {k: v for k, v in p["metadata"].items() if k != "managedFields"} for p in whole
    ]
    assert pod_configs(view) == pod_configs(whole)
    assert unschedulable(view) == unschedulable(whole) != ""
    assert scheduled_nodes(view) == scheduled_nodes(whole) == {"node-1"}
    assert first_pod(view, "demo-worker") == cached(POD, first_pod(whole, "demo-worker") or {})
    assert running_container(view[0]) == running_container(whole[0]) is not None


def test_most_of_a_pod_is_not_cached() -> None:
    whole = pod("demo-worker-0")
    view = cached(POD, whole)

    assert view["spec"] == {
        "containers": [{"name": "worker"}, {"name": "sidecar"}],
        "nodeName": "node-1",
    }
    assert view["status"]["containerStatuses"] == [
        {
            "name": "worker",
            "restartCount": 1,
            "state": {"running": {"startedAt": "2026-12-05T10:00:00Z"}},
        }
    ]
    assert view["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    assert size(view) < size(whole) / 3


def test_volumes_and_claims_are_watched_as_their_metadata_only() -> None:
    assert CACHE_VIEWS[PV] == CACHE_VIEWS[PVC] == KindOptions(metadata_only=True)

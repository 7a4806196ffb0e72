"""Changes after setup reach the workloads and the runtime config on the next reconcile."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from fluidpy.context import Context
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIGMAP,
    DAEMONSET,
    DEPLOYMENT,
    POD,
    RUNTIME_GVK,
    STATEFULSET,
)

pytestmark = pytest.mark.integration

NAME = "masterslave-demo"
WRITE_INTERVAL = 2.0
"""The runtime config's write interval (FLUID_RUNTIME_CONFIG_WRITE_INTERVAL's default)."""


@pytest.fixture
def bound(kube: Any) -> Any:
    objects = kube.sample("masterslave.yaml", class_suffix=True)
    kube.create(*objects.values())
    kube.wait_bound(NAME)
    return objects


def listed_pods(kube: Any, component: str) -> list[dict[str, str]]:
    return [
        {"podName": p["metadata"]["name"], "podIP": (p.get("status") or {}).get("podIP", "")}
        for p in kube.pods(NAME, component)
    ]


def config_lists(kube: Any, component: str, count: int) -> list[dict[str, str]] | None:
    """The config's pods once they are the `count` live pods, each with its IP."""
    pods = listed_pods(kube, component)
    if len(pods) != count or not all(p["podIP"] for p in pods):
        return None
    listed = kube.runtime_config(NAME)["topology"][component]["podConfigs"]
    key = sorted(pods, key=lambda p: p["podName"])
    return listed if sorted(listed, key=lambda p: p["podName"]) == key else None


def set_workers(kube: Any, replicas: int) -> None:
    kube.patch(RUNTIME_GVK, NAME, {"spec": {"worker": {"replicas": replicas}}})


def worker(kube: Any) -> dict[str, Any]:
    found: dict[str, Any] = kube.must(STATEFULSET, f"{NAME}-worker")
    return found


def test_scaling_workers_2_4_1(kube: Any, bound: Any) -> None:
    for replicas in (4, 1):
        set_workers(kube, replicas)
        kube.eventually(
            lambda r=replicas: worker(kube)["spec"]["replicas"] == r,
            f"the worker StatefulSet at {replicas} replicas",
        )
        listed = kube.eventually(
            lambda r=replicas: config_lists(kube, "worker", r),
            f"the runtime config to list {replicas} workers with their IPs",
        )
        assert [p["podName"] for p in listed] == [f"{NAME}-worker-{i}" for i in range(replicas)]
        kube.eventually(
            lambda r=replicas: (
                kube.must(RUNTIME_GVK, NAME)["status"]["worker"]
                == {"phase": "Ready", "desiredReplicas": r, "readyReplicas": r}
            ),
            f"the worker status at {replicas} ready",
        )


def test_new_pod_ip_reaches_config(kube: Any, bound: Any) -> None:
    """A recreated pod is listed with its IP, and so is an IP that changes later. kwok may hand
    a recreated pod the IP its predecessor freed, so the change is made explicit: the pod's
    status is given an address no pod had."""
    kube.eventually(lambda: config_lists(kube, "worker", 2), "both workers in the config")
    [old] = [p for p in kube.pods(NAME, "worker") if p["metadata"]["name"].endswith("-0")]
    kube.delete(POD, old["metadata"]["name"])

    def replaced() -> Any:
        for pod in kube.pods(NAME, "worker"):
            if (
                pod["metadata"]["name"] == old["metadata"]["name"]
                and pod["metadata"]["uid"] != old["metadata"]["uid"]
                and (pod.get("status") or {}).get("podIP")
            ):
                return pod
        return None

    new = kube.eventually(replaced, "the recreated worker pod with an IP")
    name = new["metadata"]["name"]
    kube.eventually(
        lambda: (
            {"podName": name, "podIP": new["status"]["podIP"]}
            in kube.runtime_config(NAME)["topology"]["worker"]["podConfigs"]
        ),
        "the recreated pod in the runtime config",
    )

    fresh_ip = "10.244.254.17"
    kube.client.patch_status(
        POD, name, kube.namespace, {"status": {"podIP": fresh_ip, "podIPs": [{"ip": fresh_ip}]}}
    )

    kube.eventually(
        lambda: (
            {"podName": name, "podIP": fresh_ip}
            in kube.runtime_config(NAME)["topology"]["worker"]["podConfigs"]
        ),
        "the pod's new IP in the runtime config",
    )


def test_edits_by_someone_else_are_reverted(kube: Any, bound: Any) -> None:
    """A bound runtime with nothing to do skips its work (engines/cacheruntime/steady.py); an
    owned object edited by someone else is a changed input, reverted on the next pass."""
    kube.eventually(lambda: config_lists(kube, "worker", 2), "both workers in the config")
    config_name = f"fluid-runtime-config-{NAME}"
    config = kube.must(CONFIGMAP, config_name)["data"]

    kube.patch(STATEFULSET, f"{NAME}-worker", {"spec": {"replicas": 5}})
    kube.eventually(
        lambda: worker(kube)["spec"]["replicas"] == 2, "the worker StatefulSet back at 2 replicas"
    )

    kube.patch(CONFIGMAP, config_name, {"data": {"runtime.json": "{}"}})
    kube.eventually(
        lambda: kube.must(CONFIGMAP, config_name)["data"] == config, "the runtime config restored"
    )


def test_changes_reach_workloads(kube: Any, bound: Any) -> None:
    class_name = bound["CacheRuntimeClass"]["metadata"]["name"]
    kube.patch(
        RUNTIME_GVK,
        NAME,
        {
            "spec": {
                "worker": {
                    "options": {"port": "9100"},
                    "env": [{"name": "CACHE_LOG", "value": "debug"}],
                    "resources": {"limits": {"memory": "1Gi"}},
                    "tieredStore": {
                        "levels": [{"path": "/cache", "quota": "4Gi", "medium": {"emptyDir": {}}}]
                    },
                }
            }
        },
    )
    kube.patch(
        CLASS_GVK,
        class_name,
        {
            "topology": {
                "worker": {
                    "podTemplateSpec": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "worker",
                                    "image": "busybox:1.37",
                                    "command": ["/bin/sh", "-c", "exec sleep infinity"],
                                }
                            ]
                        }
                    }
                }
            }
        },
    )

    def changed() -> dict[str, Any] | None:
        container = worker(kube)["spec"]["template"]["spec"]["containers"][0]
        return (
            container
            if container["image"] == "busybox:1.37" and container["env"][-1]["name"] == "CACHE_LOG"
            else None
        )

    container = kube.eventually(changed, "the worker template to take both changes")
    assert container["env"][-1] == {"name": "CACHE_LOG", "value": "debug"}
    assert container["resources"] == {"limits": {"memory": "1Gi"}}
    volumes = worker(kube)["spec"]["template"]["spec"]["volumes"]
    assert next(v for v in volumes if v["name"] == "fluid-tiered-store-0")["emptyDir"] == {
        "sizeLimit": "4Gi"
    }
    kube.eventually(
        lambda: (
            kube.runtime_config(NAME)["worker"]["options"] == {"port": "9100"}
            and kube.runtime_config(NAME)["worker"]["tieredStore"]["levels"][0]["quota"] == "4Gi"
        ),
        "the new options and quota in the runtime config",
    )


def test_disabled_component_removed(kube: Any, bound: Any) -> None:
    kube.patch(RUNTIME_GVK, NAME, {"spec": {"client": {"disabled": True}}})

    kube.eventually(lambda: kube.get(DAEMONSET, f"{NAME}-client") is None, "the client removed")
    kube.eventually(
        lambda: kube.runtime_config(NAME)["client"] == {"enabled": False, "options": {}},
        "the client disabled in the runtime config",
    )
    kube.eventually(
        lambda: "client" not in kube.must(RUNTIME_GVK, NAME)["status"],
        "the client gone from the status",
    )
    assert kube.must(STATEFULSET, f"{NAME}-worker")


def test_class_swaps_client_kind(kube: Any, bound: Any) -> None:
    class_name = bound["CacheRuntimeClass"]["metadata"]["name"]
    kube.patch(
        CLASS_GVK,
        class_name,
        {"topology": {"client": {"workloadType": {"apiVersion": "apps/v1", "kind": "Deployment"}}}},
    )

    kube.eventually(lambda: kube.get(DEPLOYMENT, f"{NAME}-client"), "the client Deployment")
    kube.eventually(lambda: kube.get(DAEMONSET, f"{NAME}-client") is None, "no client DaemonSet")


def test_rollout_debounces_config(kube: Any, bound: Any) -> None:
    kube.eventually(lambda: config_lists(kube, "worker", 2), "both workers in the config")
    config_map = kube.must(CONFIGMAP, f"fluid-runtime-config-{NAME}")
    writes: list[float] = []
    ctx, stop = Context.background().with_cancel()

    def count() -> None:
        stream = kube.client.watch(
            CONFIGMAP,
            kube.namespace,
            resource_version=config_map["metadata"]["resourceVersion"],
            timeout_seconds=300,
            field_selector=f"metadata.name=fluid-runtime-config-{NAME}",
        )
        for event_type, _ in stream:
            if ctx.done():
                return
            if event_type == "MODIFIED":
                writes.append(time.monotonic())

    watcher = threading.Thread(target=count, daemon=True)
    watcher.start()
    started = time.monotonic()
    set_workers(kube, 30)
    kube.eventually(lambda: config_lists(kube, "worker", 30), "30 workers with IPs in the config")
    elapsed = time.monotonic() - started
    time.sleep(0.5)  # let the watch deliver the last write
    stop()
    pod_changes = 30 * 3  # each pod is created, gets an IP, becomes ready
    print(f"30-pod rollout: {len(writes)} config writes in {elapsed:.1f} s")
    assert len(writes) <= elapsed / WRITE_INTERVAL + 2
    assert len(writes) < pod_changes

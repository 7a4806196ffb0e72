"""P2P and ClientOnly classes, and a Deployment client, from the samples."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.cacheruntime.naming import (
    CONFIGMAP,
    DAEMONSET,
    DEPLOYMENT,
    RUNTIME_GVK,
    SERVICE,
    STATEFULSET,
)
from fluidpy.testing import LocalCluster

pytestmark = pytest.mark.integration

FIVE = [
    "FLUID_DATASET_NAME",
    "FLUID_DATASET_NAMESPACE",
    "FLUID_RUNTIME_CONFIG_PATH",
    "FLUID_RUNTIME_MOUNT_PATH",
    "FLUID_RUNTIME_COMPONENT_TYPE",
]


def start(kube: Any, sample: str) -> Any:
    objects = kube.sample(sample, class_suffix=True)
    kube.create(*objects.values())
    return objects


def fuse_label(kube: Any, name: str, dataset: dict[str, Any]) -> str:
    label = f"fluid.io/f-{kube.namespace}-{name}"
    return label if len(label) < 63 else f"fluid.io/f-{dataset['metadata']['uid']}"


def test_p2p_runs_no_master(kube: Any) -> None:
    start(kube, "p2p.yaml")

    kube.wait_bound("p2p-demo")

    assert kube.get(STATEFULSET, "p2p-demo-master") is None
    assert kube.get(SERVICE, "p2p-demo-master") is None
    worker = kube.must(STATEFULSET, "p2p-demo-worker")
    assert worker["spec"]["replicas"] == 2
    assert worker["spec"]["serviceName"] == "p2p-demo-worker"
    mounts = worker["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {
        "name": "fluid-secret-p2p-demo-credentials",
        "mountPath": "/etc/fluid/secrets/p2p-demo-credentials",
        "readOnly": True,
    } in mounts
    assert {"name": "fluid-tiered-store-0", "mountPath": "/var/jfsCache"} in mounts
    assert kube.must(DAEMONSET, "p2p-demo-client")
    status = kube.must(RUNTIME_GVK, "p2p-demo")["status"]
    assert "master" not in status
    assert status["worker"]["phase"] == "Ready"
    config = kube.runtime_config("p2p-demo")
    assert config["master"] == {"enabled": False, "options": {}}
    assert config["topology"]["master"] == {"podConfigs": [], "service": {"name": ""}}
    assert config["worker"]["encryptOption"] == {
        "access-key": "/etc/fluid/secrets/p2p-demo-credentials/access-key",
        "secret-key": "/etc/fluid/secrets/p2p-demo-credentials/secret-key",
    }
    assert config["worker"]["tieredStore"] == {
        "levels": [
            {"path": "/var/jfsCache", "high": "", "low": "", "quota": "10Gi"},
            {"path": "/var/jfsCache-mem", "high": "", "low": "", "quota": "256Mi"},
        ]
    }


def test_the_p2p_sample_shows_options_a_memory_tier_and_an_extra_config_map(kube: Any) -> None:
    start(kube, "p2p.yaml")

    kube.wait_bound("p2p-demo")

    container = kube.must(STATEFULSET, "p2p-demo-worker")["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert container["resources"] == {"limits": {"memory": "512Mi"}}
    assert {
        "name": "fluid-extra-p2p-demo-p2p-demo-scripts",
        "mountPath": "/opt/demo",
        "readOnly": True,
    } in container["volumeMounts"]
    assert kube.must(CONFIGMAP, "p2p-demo-scripts")["data"]["start.sh"].startswith("cat ")
    config = kube.runtime_config("p2p-demo")
    assert config["worker"]["options"] == {"log-level": "info"}
    assert config["client"]["options"] == {"log-level": "info"}


def test_client_only_binds_at_once(kube: Any, cluster: LocalCluster) -> None:
    start(kube, "clientonly.yaml")
    dataset = kube.wait_bound("clientonly-demo")
    assert kube.must(DAEMONSET, "clientonly-demo-client")
    assert kube.runtime_config("clientonly-demo")["topology"]["client"]["podConfigs"] == []

    node = cluster.node_names()[0]
    kube.label_node(node, fuse_label(kube, "clientonly-demo", dataset))

    def listed() -> list[dict[str, str]] | None:
        pods = kube.pods("clientonly-demo", "client")
        config = kube.runtime_config("clientonly-demo")["topology"]["client"]["podConfigs"]
        expected = [
            {"podName": p["metadata"]["name"], "podIP": (p.get("status") or {}).get("podIP", "")}
            for p in pods
        ]
        return config if pods and config == expected and expected[0]["podIP"] else None

    [entry] = kube.eventually(listed, "the client pod with its IP in the runtime config")
    assert entry["podName"].startswith("clientonly-demo-client-")
    pod = kube.pods("clientonly-demo", "client")[0]
    assert pod["spec"]["nodeName"] == node
    client_status = kube.eventually(
        lambda: (
            (s := kube.must(RUNTIME_GVK, "clientonly-demo")["status"]["client"])["readyReplicas"]
            == 1
            and s
        ),
        "the client to report one ready pod",
    )
    assert client_status == {"phase": "Ready", "desiredReplicas": 1, "readyReplicas": 1}


def test_deployment_client(kube: Any) -> None:
    start(kube, "deployment-client.yaml")

    kube.wait_bound("sdk-proxy-demo")

    proxy = kube.must(DEPLOYMENT, "sdk-proxy-demo-client")
    assert proxy["spec"]["replicas"] == 1
    template = proxy["spec"]["template"]
    assert template["metadata"]["labels"] == {
        "app": "sdk-proxy",
        "cacheruntime.fluid.io/name": "sdk-proxy-demo",
        "cacheruntime.fluid.io/component-name": "client",
    }
    assert "nodeSelector" not in template["spec"]
    [container] = template["spec"]["containers"]
    assert [e["name"] for e in container["env"]] == [*FIVE, "PROXY_LOG_LEVEL"]
    assert container["env"][4] == {"name": "FLUID_RUNTIME_COMPONENT_TYPE", "value": "client"}

    def proxy_listed() -> bool:
        pods = kube.pods("sdk-proxy-demo", "client")
        config = kube.runtime_config("sdk-proxy-demo")
        return bool(
            len(pods) == 1
            and pods[0]["status"].get("podIP")
            and config["topology"]["client"]["podConfigs"]
            == [{"podName": pods[0]["metadata"]["name"], "podIP": pods[0]["status"]["podIP"]}]
        )

    kube.eventually(proxy_listed, "the proxy pod in the runtime config")
    assert kube.runtime_config("sdk-proxy-demo")["client"] == {
        "enabled": True,
        "options": {"listen": ":8080"},
    }
    status = kube.eventually(
        lambda: (
            (s := kube.must(RUNTIME_GVK, "sdk-proxy-demo")["status"])["client"]["readyReplicas"]
            == 1
            and s
        ),
        "the proxy to report ready",
    )
    assert status["client"] == {"phase": "Ready", "desiredReplicas": 1, "readyReplicas": 1}

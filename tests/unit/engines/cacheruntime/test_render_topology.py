"""The topology's podConfigs: current pods per component, in ordinal order."""

from __future__ import annotations

from typing import Any

from fluidpy.engines.cacheruntime.render.topology import pod_configs, topology_complete


def pod(name: str, component: str | None, ip: str | None = None, **extra: Any) -> dict[str, Any]:
    labels = {"cacheruntime.fluid.io/name": "demofs"}
    if component:
        labels["cacheruntime.fluid.io/component-name"] = component
    status: dict[str, Any] = {"phase": extra.pop("phase", "Running")}
    if ip:
        status["podIP"] = ip
    return {"metadata": {"name": name, "labels": labels, **extra}, "status": status}


def test_pods_are_listed_per_component_in_ordinal_order_with_their_ips() -> None:
    pods = [
        pod("demofs-worker-10", "worker", "10.0.0.10"),
        pod("demofs-worker-2", "worker", "10.0.0.2"),
        pod("demofs-master-0", "master", "10.0.1.1"),
    ]

    assert pod_configs(pods) == {
        "master": [{"podName": "demofs-master-0", "podIP": "10.0.1.1"}],
        "worker": [
            {"podName": "demofs-worker-2", "podIP": "10.0.0.2"},
            {"podName": "demofs-worker-10", "podIP": "10.0.0.10"},
        ],
        "client": [],
    }


def test_a_pod_without_an_ip_yet_is_listed_with_an_empty_one() -> None:
    assert pod_configs([pod("demofs-master-0", "master")])["master"] == [
        {"podName": "demofs-master-0", "podIP": ""}
    ]


def test_pods_on_their_way_out_or_of_no_component_are_left_out() -> None:
    pods = [
        pod("leaving", "worker", "1.1.1.1", deletionTimestamp="2024-01-01T00:00:00Z"),
        pod("done", "worker", "1.1.1.2", phase="Succeeded"),
        pod("failed", "worker", "1.1.1.3", phase="Failed"),
        pod("stray", None, "1.1.1.4"),
        pod("other", "proxy", "1.1.1.5"),
    ]

    assert pod_configs(pods) == {"master": [], "worker": [], "client": []}


def test_a_topology_is_complete_when_every_wanted_pod_is_listed_with_its_ip() -> None:
    pods = [pod("d-master-0", "master", "10.0.0.1"), pod("d-worker-0", "worker", "10.0.0.2")]
    wanted: dict[str, int | None] = {"master": 1, "worker": 2, "client": None}

    assert not topology_complete(pod_configs(pods), wanted)  # one of two workers
    assert topology_complete(pod_configs([*pods, pod("d-worker-1", "worker", "10.0.0.3")]), wanted)
    assert not topology_complete(pod_configs([*pods, pod("d-client-x", "client")]), wanted)


def test_a_component_without_pods_yet_is_not_waited_for() -> None:
    """The master's IPs are written before the workers exist: they read them when they start."""
    wanted: dict[str, int | None] = {"master": 1, "worker": 2}

    assert topology_complete(pod_configs([pod("d-master-0", "master", "10.0.0.1")]), wanted)

"""Which pods each component has right now, as the runtime config lists them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fluidpy.engines.cacheruntime.naming import COMPONENT_LABEL, COMPONENTS

_DIGITS = re.compile(r"(\d+)")


def _natural(name: str) -> list[Any]:
    """`x-master-2` before `x-master-10`: StatefulSet ordinals in numeric order."""
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(name)]


def _current(pod: dict[str, Any]) -> bool:
    """Pods being deleted or finished are on their way out and serve no one."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def pod_configs(pods: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """`{component: [{podName, podIP}]}` for every component; a pod without an IP yet has ""."""
    found: dict[str, list[dict[str, str]]] = {component: [] for component in COMPONENTS}
    for pod in pods:
        component = (pod.get("metadata", {}).get("labels") or {}).get(COMPONENT_LABEL)
        if component not in found or not _current(pod):
            continue
        found[component].append(
            {
                "podName": pod["metadata"]["name"],
                "podIP": (pod.get("status") or {}).get("podIP") or "",
            }
        )
    for entries in found.values():
        entries.sort(key=lambda entry: _natural(entry["podName"]))
    return found


def topology_complete(
    configs: Mapping[str, list[dict[str, str]]], wanted: Mapping[str, int | None]
) -> bool:
    """Whether every pod listed has its IP, and every component that has pods at all lists as
    many as it wants (`wanted`: replicas by component, None for a DaemonSet's).

    A component without any pod yet is not waited for, so the master's IPs go out as soon as it
    has them: a worker whose config predates them waits for the kubelet to refresh the file in
    its pod (a minute by default), which would hold up binding. Waiting for every component
    saves one write and measurably slowed binding on the real node."""
    for component, entries in configs.items():
        if any(not entry["podIP"] for entry in entries):
            return False
        count = wanted.get(component)
        if entries and count is not None and len(entries) < count:
            return False
    return True

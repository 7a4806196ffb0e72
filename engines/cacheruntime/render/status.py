"""Readiness: each component's phase and counts, what gates the runtime, and the condition on
the class's extra ConfigMaps.

The master is ready when all its replicas are; the workers when at least one is (a cache with
fewer workers still serves); the client never gates readiness, because a DaemonSet client runs
only where applications mount the Dataset, often nowhere yet. A workload whose controller has not
caught up with its newest spec (status.observedGeneration behind metadata.generation, or fewer
updated replicas than desired) is updating: its readiness is that of the pods ready now. A
workload at its first spec is being created, not updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluidpy.engines.base.status import NOT_READY, PARTIAL_READY, READY, phase_of
from fluidpy.engines.cacheruntime.naming import DAEMONSET
from fluidpy.engines.cacheruntime.plan import Plan


@dataclass(frozen=True)
class ComponentState:
    phase: str
    desired: int
    ready: int
    updated: int | None = None
    """Replicas already at the newest spec, while a rollout is under way (None otherwise)."""

    @property
    def updating(self) -> bool:
        return self.updated is not None

    def as_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "phase": self.phase,
            "desiredReplicas": self.desired,
            "readyReplicas": self.ready,
        }
        if self.updated is not None:
            status["reason"] = UPDATING
            status["message"] = f"updated {self.updated}/{self.desired}"
        return status


UPDATING = "Updating"


def _observed(workload: dict[str, Any]) -> bool:
    generation = workload.get("metadata", {}).get("generation")
    observed = (workload.get("status") or {}).get("observedGeneration")
    return generation is None or (observed is not None and observed >= generation)


def _updated(workload: dict[str, Any], desired: int) -> int | None:
    """How many replicas run the newest spec while a rollout or scaling is under way; None once
    the workload's controller has caught up with it, and for a workload still at its first spec
    (generation 1): its pods are being created, not replaced, which its phase already says, and
    reporting it as a rollout would cost a status write when its controller first looks at it."""
    if workload.get("metadata", {}).get("generation") == 1:
        return None
    status = workload.get("status") or {}
    key = "updatedNumberScheduled" if workload.get("kind") == DAEMONSET.kind else "updatedReplicas"
    updated = int(status.get(key) or 0)
    if _observed(workload) and updated >= desired:
        return None
    return min(updated, desired) if _observed(workload) else 0


def ready_pods(workload: dict[str, Any], pods: list[dict[str, Any]]) -> int:
    """The workload's pods that are Ready and not on their way out: what its status's ready
    count will say once its controller has seen them."""
    uid = workload.get("metadata", {}).get("uid")
    if not uid:  # not yet created: nothing can be its pod
        return 0
    return sum(
        1
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
        and any(
            ref.get("uid") == uid and ref.get("controller")
            for ref in pod["metadata"].get("ownerReferences") or []
        )
        and any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )
    )


def component_state(
    workload: dict[str, Any] | None,
    replicas: int | None,
    *,
    client: bool = False,
    pods: list[dict[str, Any]] | None = None,
) -> ComponentState:
    """The state of a component's workload; `replicas` is what the runtime asks for (None for
    a DaemonSet). A workload that does not exist (yet) is not ready. `client` (default False):
    a client with no pods wanted is NotReady, not Ready, as upstream reports it: it serves no
    application yet (it gates nothing, so this never holds up binding); a master or workers
    with none wanted are ready, having nothing to wait for.

    `pods` (default None: the workload's status counts): the component's pods. A StatefulSet's
    or Deployment's ready count is then the larger of its status's and of its pods that are
    Ready: the kubelet reports a pod Ready seconds before kube-controller-manager copies it into
    the workload's status when many runtimes start at once, and binding waits on it; a pod
    that stops being Ready counts once the status says so, as before. A DaemonSet's counts
    stay its status's: how many pods it wants comes only from there.

    A workload being rolled out or scaled is "updating", not unhealthy: its phase comes from
    the pods that are ready now (the old ones serve until they are replaced), and the count of
    updated replicas says how far the rollout is."""
    wanted = replicas if replicas is not None else 0
    if workload is None:
        return ComponentState(NOT_READY, wanted, 0)
    status = workload.get("status") or {}
    if workload.get("kind") == DAEMONSET.kind:
        desired = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
    else:
        spec_replicas = (workload.get("spec") or {}).get("replicas")
        desired = int(wanted if spec_replicas is None else spec_replicas)
        ready = int(status.get("readyReplicas") or 0)
        if pods is not None:
            ready = max(ready, ready_pods(workload, pods))
    ready = min(ready, desired) if desired else ready
    phase = NOT_READY if client and desired == 0 else phase_of(desired, ready)
    return ComponentState(phase, desired, ready, _updated(workload, desired))


def master_ready(state: ComponentState | None) -> bool:
    """All master replicas ready (None: the runtime has no master)."""
    return state is None or state.phase == READY


def workers_ready(state: ComponentState | None) -> bool:
    """At least one worker ready, or none wanted (None: the runtime has no workers)."""
    return state is None or state.phase in (READY, PARTIAL_READY)


def runtime_phase(master: ComponentState | None, workers: ComponentState | None) -> str:
    """NotReady until both gates open; PartialReady while some workers are still missing."""
    if not (master_ready(master) and workers_ready(workers)):
        return NOT_READY
    if workers is not None and workers.phase == PARTIAL_READY:
        return PARTIAL_READY
    return READY


def unschedulable(pods: list[dict[str, Any]]) -> str:
    """The scheduler's word on pods it could not place (PodScheduled=False), as one clause for
    a component's condition; "" when every pod is placed."""
    stuck = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                why = condition.get("message") or condition.get("reason") or "no reason given"
                stuck.append(f"pod {pod['metadata']['name']} cannot be scheduled: {why}")
    if not stuck:
        return ""
    shown = "; ".join(stuck[:3])
    more = f" (and {len(stuck) - 3} more)" if len(stuck) > 3 else ""
    return f"; {shown}{more}"


def extra_config_maps_condition(plan: Plan, foreign: list[str]) -> tuple[bool, str, str] | None:
    """(status, reason, message) of the condition on the class's extra ConfigMaps, given those
    that exist and are not the runtime's (`foreign`); None when the class ships none.

    A foreign one is left exactly as it is (never written, adopted or deleted) and the
    components mount it as it is: the message says so, and how to get the class's instead."""
    if not plan.extra_config_maps:
        return None
    if not foreign:
        names = ", ".join(item["name"] for item in plan.extra_config_maps)
        return (
            True,
            "Created",
            f"the extra config maps of CacheRuntimeClass {plan.class_name} are the runtime's: "
            f"{names}",
        )
    listed = ", ".join(f"{plan.namespace}/{name}" for name in foreign)
    return (
        False,
        "NotOwned",
        f"extra config maps of CacheRuntimeClass {plan.class_name} that exist and are not this "
        f"runtime's: {listed}; they are left as they are (never written, adopted or deleted) "
        "and the components mount them as they are; delete them for the runtime to create the "
        "class's, or keep them on purpose",
    )

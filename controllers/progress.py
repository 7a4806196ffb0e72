"""How far a runtime and its Dataset have come, read from their status alone.

Two readers share this module: the RuntimeReconciler, which turns the difference between the
status a pass started from and the status it reached into milestones (a Normal event and an
info log line each), and `fluidpy status`, which shows where a runtime stands. Deriving
milestones from status changes, not from the code paths that cause them, gives every engine the
same events without an engine having to report them. A milestone is told when the status that
records it is written, or at the end of the pass that completes setup (so components are ready
before the volume is created, in the story as in fact); a setup pass redone after a write
conflict may tell it again, which the event recorder folds into the same Event (count 2).

Two status shapes exist: the CacheRuntime's (`status.<component>` with phase and replica
counts) and the Master/Worker runtimes' (upstream's flat `masterPhase`,
`desiredWorkerNumberScheduled`, ... fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluidpy.engines.base.status import DATASET_BOUND, DATASET_FAILED, DATASET_NOT_BOUND, READY

READY_CONDITION = "Ready"
"""The runtime's summary condition, which the RuntimeReconciler sets (controllers.runtime)."""
SETTING_UP = "SettingUp"
"""The Ready condition's reason while the engine sets the runtime up (RuntimeReconciler)."""

SETUP_STARTED = "SetupStarted"
COMPONENT_READY = "ComponentReady"
SCALED = "Succeed"
"""Upstream Fluid's reason for a runtime scaled in or out (pkg/ctrl/replicas.go)."""
RUNTIME_READY = "RuntimeReady"
DATASET_READY = "DatasetReady"
"""Upstream's reason on the Dataset's Ready condition once bound, reused for the event."""
DATASET_UNBOUND = "DatasetUnbound"

_CACHE_RUNTIME_COMPONENTS = ("master", "worker", "client")
_MASTER_WORKER_COMPONENTS = (
    ("master", "masterPhase", "desiredMasterNumberScheduled", "masterNumberReady"),
    ("worker", "workerPhase", "desiredWorkerNumberScheduled", "workerNumberReady"),
    ("fuse", "fusePhase", "desiredFuseNumberScheduled", "fuseNumberReady"),
)


@dataclass(frozen=True)
class ComponentView:
    name: str
    phase: str
    desired: int | None
    """None when the runtime reports a phase but no counts for the component."""
    ready: int | None
    structured: bool
    """From the CacheRuntime's status.<component>, whose counts appear only with the workload,
    so a change in `desired` is a scaling; the flat fields are zero before the workload exists,
    and the Master/Worker engines report scaling themselves, as upstream does."""

    @property
    def counts(self) -> str:
        if self.desired is None:
            return "-"
        return f"{self.ready or 0}/{self.desired}"


def components(status: dict[str, Any]) -> list[ComponentView]:
    """The runtime's components in the order they start, as its status reports them."""
    views = []
    for name in _CACHE_RUNTIME_COMPONENTS:
        entry = status.get(name)
        if isinstance(entry, dict) and entry.get("phase"):
            views.append(
                ComponentView(
                    name,
                    str(entry["phase"]),
                    int(entry.get("desiredReplicas") or 0),
                    int(entry.get("readyReplicas") or 0),
                    structured=True,
                )
            )
    if views:
        return views
    for name, phase, desired, ready in _MASTER_WORKER_COMPONENTS:
        if not status.get(phase):
            continue
        has_counts = desired in status
        views.append(
            ComponentView(
                name,
                str(status[phase]),
                int(status.get(desired) or 0) if has_counts else None,
                int(status.get(ready) or 0) if has_counts else None,
                structured=False,
            )
        )
    return views


def condition(status: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for entry in (status or {}).get("conditions") or []:
        if entry.get("type") == type_:
            return dict(entry)
    return None


@dataclass(frozen=True)
class Milestone:
    on_dataset: bool
    """The event goes on the Dataset; otherwise on the runtime."""
    reason: str
    message: str


def runtime_milestones(
    kind: str, name: str, before: dict[str, Any], after: dict[str, Any]
) -> list[Milestone]:
    """What a written runtime status change means to a person following the runtime."""
    found: list[Milestone] = []
    was_ready, is_ready = condition(before, READY_CONDITION), condition(after, READY_CONDITION)
    if (is_ready or {}).get("reason") == SETTING_UP and (was_ready or {}).get(
        "reason"
    ) != SETTING_UP:
        found.append(Milestone(False, SETUP_STARTED, f"Setting up {kind} {name}."))
    previous = {view.name: view for view in components(before)}
    for view in components(after):
        old = previous.get(view.name)
        if view.phase == READY and (view.desired or 0) > 0 and (old is None or old.phase != READY):
            found.append(
                Milestone(False, COMPONENT_READY, f"The {view.name} is ready ({view.counts} pods).")
            )
        if view.structured and old is not None and old.desired != view.desired:
            direction = "out" if (view.desired or 0) > (old.desired or 0) else "in"
            found.append(
                Milestone(
                    False,
                    SCALED,
                    f"Runtime scaled {direction}: {view.name} from {old.desired} to "
                    f"{view.desired} replicas.",
                )
            )
    if (is_ready or {}).get("status") == "True" and (was_ready or {}).get("status") != "True":
        found.append(Milestone(False, RUNTIME_READY, str((is_ready or {}).get("message") or "")))
    return found


def dataset_milestones(
    kind: str, name: str, before: dict[str, Any], after: dict[str, Any]
) -> list[Milestone]:
    """What a written Dataset status change means to a person following the Dataset. Failed
    is not told here: the runtime's Warning says why, and it ends in Bound again."""
    was, now = before.get("phase"), after.get("phase")
    if now == DATASET_BOUND and was != DATASET_BOUND:
        return [
            Milestone(
                True,
                DATASET_READY,
                f"Bound to {kind} {name}; applications mount it through the "
                f"PersistentVolumeClaim {name}.",
            )
        ]
    if was in (DATASET_BOUND, DATASET_FAILED) and now in (DATASET_NOT_BOUND, "", None):
        return [
            Milestone(
                True,
                DATASET_UNBOUND,
                f"{kind} {name} no longer serves the Dataset; it is NotBound and can be bound to "
                "a new runtime.",
            )
        ]
    return []


def waiting_for(runtime_status: dict[str, Any]) -> str:
    """The Ready condition's reason while the runtime is not ready ("" once it is)."""
    ready = condition(runtime_status, READY_CONDITION)
    if ready is None:
        return "not reconciled yet"
    if ready.get("status") == "True":
        return ""
    return f"{ready.get('reason')}: {ready.get('message')}"

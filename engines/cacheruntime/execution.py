"""A CacheRuntimeClass's execution entries: the cache system's own commands, run by the engine.

A class may give its master (or, without a master, its worker) two commands, which the engine
runs in the component's first pod (container 0) through pod exec on the API server:

- mountUFS mounts the Dataset's under file systems and prints `{"mounted": ["/path", ...]}`.
  It runs once the master and workers are ready, before the Dataset is bound, and again while
  bound when the Dataset's mount paths change or the master container is not the one that
  mounted (a restarted cache may have lost its mounts); meanwhile the Dataset is Updating. It
  has succeeded only when the cache reports exactly the Dataset's mount paths: binding on a
  partial answer would promise data the cache does not serve, and the cache system reads the
  new mounts from its runtime config, which reaches its pods with a delay, so a first answer
  after a change may be the old one. Failures are retried with backoff.
- reportSummary prints the cache figures, which become the Dataset's `status.cacheStates` (the
  CACHED and CACHE CAPACITY columns of `kubectl get dataset`). It runs at bind time and then at
  most once per sync interval while bound. A failure keeps the last figures and says so in the
  CacheStatesReported condition: figures are information, never a reason to unbind.

Pure functions below decide what must run and read the outputs; `Executions` runs the commands
and records the outcome in the pass's working copies of the statuses.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fluidpy.api.v1alpha1 import DatasetConditionType
from fluidpy.api.v1alpha1.cacheruntimeclass import MIN_EXECUTION_TIMEOUT, ExecutionEntry
from fluidpy.api.v1alpha1.common import Mount
from fluidpy.api.v1alpha1.dataset import NOT_REPORTED_BY_RUNTIME, DatasetPhase
from fluidpy.durations import format_duration
from fluidpy.engines.base import EngineError, ReconcileRequestContext, WaitingFor
from fluidpy.engines.base.exec import ExecError, KubernetesExec, PodExec, UnexpectedOutput, excerpt
from fluidpy.engines.base.mounts import mount_path
from fluidpy.engines.base.status import bind_dataset, now, remove_condition, set_condition
from fluidpy.engines.cacheruntime.naming import POD, RUNTIME_TYPE, Component, pod_selector
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan

MOUNT_UFS = "mountUFS"
REPORT_SUMMARY = "reportSummary"
MOUNT_UFS_FAILED = "RuntimeMountUfsFailed"
MOUNT_UFS_PENDING = "RuntimeMountUfsPending"
"""Upstream's event reason, kept so alerts written for Fluid keep working."""
REPORT_SUMMARY_FAILED = "ReportSummaryFailed"
REPORTED_BY_RUNTIME = "ReportedByRuntime"
DATASET_UPDATING = "DatasetUpdating"
SUMMARY_FIELDS = ("cached", "cachedPercentage", "cacheCapacity", "cacheHitRatio")
QUOTED_OUTPUT_BYTES = 200
"""Bytes of a bad output quoted in the error: enough to recognise it (a usage message, a log
line printed before the JSON), not a dump of whatever the command wrote."""


@dataclass(frozen=True)
class Entry:
    """One execution entry of the class, resolved against the runtime: what runs where."""

    name: str
    """mountUFS or reportSummary."""
    component: Component
    workload: str
    command: tuple[str, ...]
    timeout: float
    class_name: str

    @property
    def field(self) -> str:
        """Where the entry is written, for messages that say what to fix."""
        return (
            f"CacheRuntimeClass {self.class_name} "
            f"topology.{self.component}.executionEntries.{self.name}"
        )


def entry_timeout(entry: ExecutionEntry) -> float:
    """The entry's timeout, raised to MIN_EXECUTION_TIMEOUT as upstream does."""
    return float(max(entry.timeout or 0, MIN_EXECUTION_TIMEOUT))


def _entry(plan: Plan, component: ComponentPlan, name: str) -> Entry | None:
    entries = component.definition.execution_entries if component.definition else None
    if not component.enabled or entries is None:
        return None
    found = entries.mount_ufs if name == MOUNT_UFS else entries.report_summary
    if found is None:
        return None
    return Entry(
        name,
        component.component,
        component.workload,
        tuple(found.command),
        entry_timeout(found),
        plan.class_name,
    )


def mount_ufs_entry(plan: Plan) -> Entry | None:
    """The master's mountUFS; a runtime without a master (P2P, client only) mounts nothing."""
    return _entry(plan, plan.component("master"), MOUNT_UFS)


def report_summary_entry(plan: Plan) -> Entry | None:
    """The master's reportSummary, or the worker's when the runtime runs no master."""
    master = plan.component("master")
    return _entry(plan, master if master.enabled else plan.component("worker"), REPORT_SUMMARY)


# Reading outputs ---------------------------------------------------------------------------


def quoted(output: str) -> str:
    """The first QUOTED_OUTPUT_BYTES bytes of an output, marked when cut."""
    raw = output.encode()
    if len(raw) <= QUOTED_OUTPUT_BYTES:
        return output
    return raw[:QUOTED_OUTPUT_BYTES].decode(errors="replace") + "..."


def _json_object(name: str, output: str, shape: str) -> dict[str, Any]:
    if not output.strip():
        raise UnexpectedOutput(name, f"it printed nothing on stdout, expected {shape}", "")
    try:
        document = json.loads(output)
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise UnexpectedOutput(name, f"stdout is not the JSON object {shape}", quoted(output))
    return document


def parse_mounted(output: str) -> frozenset[str]:
    """The paths a mountUFS output says are mounted."""
    shape = '{"mounted": ["/path", ...]}'
    mounted = _json_object(MOUNT_UFS, output, shape).get("mounted")
    if not isinstance(mounted, list) or not all(isinstance(path, str) for path in mounted):
        raise UnexpectedOutput(
            MOUNT_UFS, f'"mounted" is not a list of paths, expected {shape}', quoted(output)
        )
    return frozenset(mounted)


def parse_summary(output: str) -> dict[str, str]:
    """The cache figures of a reportSummary output. A field the cache system does not know may
    be left out (it shows empty, as upstream); one that is there must be a string, because
    `kubectl get dataset` shows it as written."""
    shape = "an object with string fields " + ", ".join(SUMMARY_FIELDS)
    document = _json_object(REPORT_SUMMARY, output, shape)
    if not any(name in document for name in SUMMARY_FIELDS):
        raise UnexpectedOutput(REPORT_SUMMARY, f"none of the fields of {shape}", quoted(output))
    wrong = [name for name in SUMMARY_FIELDS if not isinstance(document.get(name, ""), str)]
    if wrong:
        raise UnexpectedOutput(
            REPORT_SUMMARY, f'{", ".join(wrong)} must be strings, e.g. "1.2GiB"', quoted(output)
        )
    return {name: document.get(name, "") for name in SUMMARY_FIELDS}


# Deciding what must run --------------------------------------------------------------------


def mount_paths(mounts: Sequence[Mapping[str, Any]] | None) -> frozenset[str]:
    """Where a Dataset's mounts appear in the cache: each mount's absolute `path`, else
    `/<name>`. Every mount counts, local:// and pvc:// too: a CacheRuntime's cache system
    mounts all of them itself, from its runtime config."""
    return frozenset(mount_path(Mount.model_validate(mount)) for mount in mounts or [])


def mount_mismatch(mounted: frozenset[str], expected: frozenset[str]) -> str:
    """What differs between what the cache mounted and what the Dataset asks for; "" if none."""
    problems = []
    if missing := sorted(expected - mounted):
        problems.append(f"not mounted: {', '.join(missing)}")
    if extra := sorted(mounted - expected):
        problems.append(f"mounted but not in the Dataset: {', '.join(extra)}")
    return "; ".join(problems)


def first_pod(pods: Sequence[dict[str, Any]], workload: str) -> dict[str, Any] | None:
    """The pod an entry runs in: `<workload>-0` (a StatefulSet's first pod), else the first
    running pod by name (a Deployment's pods have generated names)."""
    running = sorted(
        (
            pod
            for pod in pods
            if not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") == "Running"
        ),
        key=lambda pod: (pod["metadata"]["name"] != f"{workload}-0", pod["metadata"]["name"]),
    )
    return running[0] if running else None


@dataclass(frozen=True)
class Container:
    """Container 0 of a pod, while it runs."""

    identity: str
    """The pod's UID and the container's restart count: a new one is a new process."""
    started: str
    """When it started (RFC 3339, seconds)."""


def running_container(pod: dict[str, Any] | None) -> Container | None:
    """Container 0 of the pod; None when it is not running."""
    if pod is None:
        return None
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    name = containers[0].get("name")
    for item in (pod.get("status") or {}).get("containerStatuses") or []:
        started = ((item.get("state") or {}).get("running") or {}).get("startedAt")
        if item.get("name") == name and started:
            uid = pod["metadata"].get("uid", pod["metadata"]["name"])
            return Container(f"{uid}/{item.get('restartCount', 0)}", str(started))
    return None


def remount_reason(
    spec_mounts: Sequence[Mapping[str, Any]] | None,
    applied_mounts: Sequence[Mapping[str, Any]] | None,
    master: Container | None,
    mount_time: str,
    mounted_in: str | None = None,
) -> str:
    """Why a bound runtime must run mountUFS again ("" when it need not): the Dataset's mount
    paths differ from those last mounted, or the master container is not the one that mounted
    them. `mounted_in` is the identity of that container when this engine mounted; without it
    (after a manager restart) the container counts as new when it started after `mount_time`.
    Both times have seconds only (RFC 3339), so the identity is the sure test: a master that
    restarts within the second of its mounts is still found."""
    wanted, applied = mount_paths(spec_mounts), mount_paths(applied_mounts)
    if applied_mounts is None or wanted != applied:
        before = ", ".join(sorted(applied)) or "none"
        return f"the Dataset's mount paths changed ({before} -> {', '.join(sorted(wanted))})"
    if master is None:
        return ""
    if mounted_in is not None:
        replaced = master.identity != mounted_in
    else:
        replaced = not mount_time or master.started > mount_time
    if replaced:
        return (
            f"the master container started at {master.started}, after the mounts were made"
            f" ({mount_time or 'never'})"
        )
    return ""


def seconds_until_report(last: float | None, clock: float, interval: float) -> float:
    """0 when the figures are due, else how long until they are."""
    if last is None:
        return 0.0
    return max(last + interval - clock, 0.0)


# Recording outcomes ------------------------------------------------------------------------


def no_cache_figures(dataset_status: dict[str, Any] | None) -> None:
    """Say why the Dataset's cache columns stay empty: the class gives no reportSummary (the
    Cache Figures column of `kubectl get dataset` shows it)."""
    if dataset_status is None:
        return
    set_condition(
        dataset_status,
        DatasetConditionType.CACHE_STATES_REPORTED,
        False,
        NOT_REPORTED_BY_RUNTIME,
        "not reported by this runtime: its CacheRuntimeClass has no "
        "executionEntries.reportSummary to ask the cache system for cache figures",
        probe_field="lastUpdateTime",
    )


def record_figures(
    dataset_status: dict[str, Any], entry: Entry, figures: dict[str, str], interval: float
) -> None:
    dataset_status["cacheStates"] = {**(dataset_status.get("cacheStates") or {}), **figures}
    set_condition(
        dataset_status,
        DatasetConditionType.CACHE_STATES_REPORTED,
        True,
        REPORTED_BY_RUNTIME,
        f"reported by the cache system ({entry.field}), refreshed at most every "
        f"{format_duration(interval)}",
        probe_field="lastUpdateTime",
    )


def record_report_failure(dataset_status: dict[str, Any], problem: str) -> bool:
    """True when the condition changed (a new failure, worth an event)."""
    return set_condition(
        dataset_status,
        DatasetConditionType.CACHE_STATES_REPORTED,
        False,
        REPORT_SUMMARY_FAILED,
        f"{problem}; the cache figures shown are the last ones reported",
        probe_field="lastUpdateTime",
    )


def record_mounted(ctx: ReconcileRequestContext) -> None:
    """The Dataset's mounts are now the cache's: `status.mounts` and `status.mountTime`."""
    if ctx.dataset_status is not None:
        ctx.dataset_status["mounts"] = copy.deepcopy(ctx.dataset_spec.get("mounts") or [])
    ctx.runtime_status["mountTime"] = now()


# Running -----------------------------------------------------------------------------------


class NoRunningPod(EngineError):
    """The component has no running pod to run the entry in (yet, or any more)."""


class Executions:
    """Runs one runtime's execution entries; remembers when it last asked for the figures.

    `transport` None (the default) means the Kubernetes exec API on the manager's own
    connection, as for the Alluxio and Jindo engines; tests give a RecordedExec.
    """

    def __init__(
        self, transport: PodExec | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._transport = transport
        self._clock = clock
        self._reported_at: float | None = None
        self._mounted_in: str | None = None
        """The identity of the master container that last mounted (see remount_reason)."""

    # Phases the engine calls -------------------------------------------------------------

    def mount_before_binding(self, ctx: ReconcileRequestContext, entry: Entry | None) -> None:
        """Run mountUFS (`entry`, None when the class has none); binding waits until it
        succeeds."""
        if entry is None:
            return
        self._mount(ctx, entry, "before binding")
        record_mounted(ctx)

    def sync_mounts(self, ctx: ReconcileRequestContext, entry: Entry | None) -> None:
        """Keep the cache's mounts those of the Dataset, with mountUFS (`entry`). Without it
        the cache system follows its runtime config alone, so the Dataset's mounts are recorded
        as served."""
        status = ctx.dataset_status
        if status is None:
            return
        spec_mounts = ctx.dataset_spec.get("mounts") or []
        if entry is None:
            if status.get("mounts") != spec_mounts:
                status["mounts"] = copy.deepcopy(spec_mounts)
            return
        why = remount_reason(
            spec_mounts,
            status.get("mounts"),
            running_container(first_pod(self._pods(ctx, entry), entry.workload)),
            str(ctx.runtime_status.get("mountTime") or ""),
            self._mounted_in,
        )
        if not why:
            if status.get("mounts") != spec_mounts:
                status["mounts"] = copy.deepcopy(spec_mounts)  # same paths, new options
            return
        status["phase"] = DatasetPhase.UPDATING.value
        set_condition(
            status,
            DatasetConditionType.UPDATING,
            True,
            DATASET_UPDATING,
            f"The cache runtime {ctx.name} is mounting the Dataset's under file systems again "
            f"with its mountUFS: {why}.",
            probe_field="lastUpdateTime",
        )
        ctx.log.info("mounting again", reason=DATASET_UPDATING, because=why)
        self._mount(ctx, entry, "while updating the Dataset's mounts")
        bind_dataset(ctx, RUNTIME_TYPE)
        remove_condition(status, DatasetConditionType.UPDATING)
        record_mounted(ctx)

    def report_at_binding(self, ctx: ReconcileRequestContext, entry: Entry | None) -> None:
        """The figures as the Dataset is bound, from reportSummary (`entry`, None when the
        class has none); a failure never stops the binding."""
        if entry is None:
            no_cache_figures(ctx.dataset_status)
            return
        self._report(ctx, entry)

    def refresh_figures(self, ctx: ReconcileRequestContext, entry: Entry | None) -> float | None:
        """The figures again, from reportSummary (`entry`), once the sync interval has passed
        since they were last asked for; returns the seconds until they are due next (None
        without reportSummary)."""
        if entry is None:
            no_cache_figures(ctx.dataset_status)
            return None
        interval = ctx.options.sync_interval
        wait = seconds_until_report(self._reported_at, self._clock(), interval)
        if wait > 0:
            return wait
        self._report(ctx, entry)
        return interval

    # The commands --------------------------------------------------------------------------

    def _mount(self, ctx: ReconcileRequestContext, entry: Entry, when: str) -> None:
        expected = mount_paths(ctx.dataset_spec.get("mounts"))
        try:
            pod = self._target(ctx, entry)
            mounted = parse_mounted(self._run(ctx, entry, pod))
        except (ExecError, UnexpectedOutput, NoRunningPod) as error:
            raise _mount_failed(entry, when, _problem(error)) from None
        mismatch = mount_mismatch(mounted, expected)
        if mismatch:
            ctx.log.info("mounts not reported yet", reason=MOUNT_UFS_PENDING, because=mismatch)
            raise MountsNotReported(entry, when, mismatch, ctx.options.sync_interval)
        container = running_container(pod)
        self._mounted_in = container.identity if container else None

    def _report(self, ctx: ReconcileRequestContext, entry: Entry) -> None:
        self._reported_at = self._clock()
        status = ctx.dataset_status
        if status is None:
            return
        try:
            figures = parse_summary(self._run(ctx, entry, self._target(ctx, entry)))
        except (ExecError, UnexpectedOutput, NoRunningPod) as error:
            problem = f"{entry.name} ({entry.field}) failed: {_problem(error)}"
            # Told once per new failure; a repeat (every sync interval) is a debug line.
            if record_report_failure(status, problem):
                ctx.log.warning(
                    "cache figures not refreshed", reason=REPORT_SUMMARY_FAILED, error=problem
                )
                ctx.event("Warning", REPORT_SUMMARY_FAILED, problem)
            else:
                ctx.log.debug("cache figures still not refreshed", error=problem)
            return
        record_figures(status, entry, figures, ctx.options.sync_interval)

    def _pods(self, ctx: ReconcileRequestContext, entry: Entry) -> list[dict[str, Any]]:
        pods: list[dict[str, Any]] = ctx.client.list(
            POD, ctx.namespace, label_selector=pod_selector(ctx.name, entry.component), ctx=ctx.ctx
        )
        return pods

    def _target(self, ctx: ReconcileRequestContext, entry: Entry) -> dict[str, Any]:
        pod = first_pod(self._pods(ctx, entry), entry.workload)
        if pod is None:
            raise NoRunningPod(f"no pod of {ctx.namespace}/{entry.workload} is running")
        return pod

    def _run(self, ctx: ReconcileRequestContext, entry: Entry, pod: dict[str, Any]) -> str:
        if self._transport is None:
            self._transport = KubernetesExec(ctx.client.connection)
        container = pod["spec"]["containers"][0]["name"]
        return self._transport.run(
            ctx.ctx,
            ctx.namespace,
            pod["metadata"]["name"],
            container,
            list(entry.command),
            timeout=entry.timeout,
        )


def _problem(error: EngineError) -> str:
    """What went wrong, without the command line of an ExecError: the entry's field names the
    command, and a `sh -c` script would fill the message."""
    if not isinstance(error, ExecError):
        return str(error)
    output = f": {excerpt(quoted(error.output))}" if error.output.strip() else ""
    return f"{error.problem} (pod {error.namespace}/{error.pod}){output}"


class MountsNotReported(WaitingFor):
    """mountUFS ran, but the cache reports another set of mounts than the Dataset's.

    Expected for a while after every mount change: a cache system reads its mounts from the
    runtime config, a ConfigMap volume the kubelet refreshes up to a minute after the engine
    writes it. So it is asked again every sync interval (not with the growing backoff of a
    failure, which would stretch that minute to several) and says so in the condition and a log
    line, without a Warning event for a state that usually passes by itself."""

    reason = MOUNT_UFS_PENDING
    warning = False

    def __init__(self, entry: Entry, when: str, mismatch: str, interval: float) -> None:
        super().__init__(
            f"{entry.name} {when}: the cache reports a different set of mounts: {mismatch}. "
            f"Asked again every {format_duration(interval)}: a cache system that reads its "
            "runtime config sees the new mounts once the kubelet refreshes the ConfigMap "
            f"volume (within about a minute); if this persists, fix the command in "
            f"{entry.field} or the cache system it calls"
        )
        self.retry_after = interval


def _mount_failed(entry: Entry, when: str, problem: str) -> EngineError:
    return EngineError(
        f"{entry.name} {when} failed: {problem}. Fix the command in {entry.field} or the "
        "cache system it calls (the pod's logs may say more); it is retried with backoff, "
        "and the Dataset is bound once the cache reports exactly the Dataset's mount paths",
        reason=MOUNT_UFS_FAILED,
    )

"""The DataLoad reconciler: warm a Dataset's cache with a loader Job from the runtime's engine.

A pass is a short list of named phases; each lets the pass go on or ends it, and the status is
written once, at the end:

    parse -> check_spec -> (finished: expire, or wait for the next Cron tick)
    -> find_dataset -> find_runtime -> take_turn -> ensure_job -> observe_job

Everything a DataLoad waits for is watched: its Dataset, the runtime of every kind the manager
serves, the other DataLoads of its Dataset and its own Jobs. Only time itself (a Cron tick, a
ttlSecondsAfterFinished) is waited for with a timed requeue, and the clock is injectable.

At most one DataLoad runs per Dataset: the runner holds `status.operationRef.DataLoad` of the
Dataset, taken with a conditional write (as upstream), and waiting DataLoads start in creation
order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import pydantic
import structlog

from fluidpy.api.v1alpha1 import DataLoad, DataLoadPolicy, OperationPhase
from fluidpy.client import GVK, AlreadyExists, Client, Conflict
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers import cron
from fluidpy.controllers.kinds import DATASET, GROUP, VERSION, RuntimeKind
from fluidpy.controllers.runtime import READY, EngineCache
from fluidpy.durations import format_duration
from fluidpy.engines.base import EngineError, ReconcileRequestContext
from fluidpy.engines.base.context import EngineOptions
from fluidpy.engines.base.dataoperation import (
    DATA_LOAD,
    OPERATION_LABEL,
    DataOperation,
    DataOperationError,
    loader_job,
)
from fluidpy.engines.base.status import (
    DATASET_BOUND,
    condition,
    remove_condition,
    set_condition,
)
from fluidpy.engines.factory import EngineFactory, UnknownRuntimeType, default_factory
from fluidpy.events import EventRecorder
from fluidpy.patch import merge_patch

log = structlog.get_logger("fluidpy.controllers.dataload")

DATALOAD = GVK(GROUP, VERSION, "DataLoad")
JOB = GVK("batch", "v1", "Job")
WAITING = "Waiting"
"""The condition a DataLoad shows while it cannot start, its reason saying what it waits for."""
COMPLETE = "Complete"
FAILED = "Failed"
UNFINISHED = "Unfinished"
JOB_HISTORY = 3
"""Jobs of past Cron runs kept for inspection (a CronJob's default successful history)."""
JOB_NAME_LIMIT = 63
"""A Job's name is its pods' job-name label value, at most 63 characters."""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Stop(Exception):
    def __init__(self, result: Result | None = None) -> None:
        super().__init__("pass stopped")
        self.result = result


@dataclass
class _Pass:
    """One reconcile of one DataLoad: what it read, and the status it is building."""

    ctx: Context
    raw: dict[str, Any]
    now: datetime
    status: dict[str, Any] = field(default_factory=dict)
    model: DataLoad | None = None
    dataset: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None
    kind: RuntimeKind | None = None

    @property
    def namespace(self) -> str:
        return str(self.raw["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.raw["metadata"]["name"])

    @property
    def load(self) -> DataLoad:
        assert self.model is not None
        return self.model

    @property
    def dataset_name(self) -> str:
        target = self.load.spec.dataset
        return target.name if target else ""

    @property
    def phase(self) -> str:
        return str(self.status.get("phase") or "")


class DataLoadReconciler:
    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        kinds: Sequence[RuntimeKind],
        *,
        factory: EngineFactory = default_factory,
        engine_options: EngineOptions | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.kinds = tuple(kinds)
        self.engines = EngineCache(factory)
        # The manager's engine settings, as the runtime controllers hand them to engines.
        self.engine_options = engine_options or EngineOptions()
        self.clock = clock

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        raw = self.client.get(DATALOAD, request.name, request.namespace, ctx=ctx)
        if raw is None or raw["metadata"].get("deletionTimestamp"):
            return None
        run = _Pass(ctx, raw, self.clock(), copy.deepcopy(raw.get("status") or {}))
        try:
            try:
                return self._run_phases(run)
            except _Stop as stop:
                return stop.result
            finally:
                self._write_status(run)
        except Conflict as error:
            log.debug("write conflict; reconciling again", error=str(error))
            return Result(requeue=True)

    def _run_phases(self, run: _Pass) -> Result | None:
        self._parse(run)
        self._check_spec(run)
        if run.phase in (COMPLETE, FAILED) or run.load.spec.policy == DataLoadPolicy.CRON:
            self._between_runs(run)
        self._find_dataset(run)
        self._find_runtime(run)
        self._take_turn(run)
        job = self._ensure_job(run)
        return self._observe_job(run, job)

    # Phases ----------------------------------------------------------------------------

    def _parse(self, run: _Pass) -> None:
        try:
            run.model = DataLoad.from_dict(run.raw)
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self._fail(run, "DataOperationNotValid", f"{where}: {first['msg']}; correct it")
        if not run.phase:
            run.status.update(phase=OperationPhase.PENDING.value, duration=UNFINISHED)
            run.status.setdefault("conditions", [])

    def _check_spec(self, run: _Pass) -> None:
        spec = run.load.spec
        if run.phase in (COMPLETE, FAILED) and spec.policy != DataLoadPolicy.CRON:
            return
        if not run.dataset_name:
            self._fail(run, "DataOperationNotValid", "spec.dataset.name is empty; name the Dataset")
        if spec.dataset and spec.dataset.namespace not in (None, "", run.namespace):
            self._fail(
                run,
                "TargetDatasetNamespaceNotSame",
                f"spec.dataset.namespace {spec.dataset.namespace!r} is not the DataLoad's "
                f"namespace {run.namespace!r}; a DataLoad loads a Dataset of its own namespace: "
                "create it there",
            )
        if spec.run_after is not None:
            self._fail(
                run,
                "DataOperationNotValid",
                "spec.runAfter is not supported by fluidpy yet; remove it and create this "
                "DataLoad once the preceding operation has finished",
            )
        if spec.policy == DataLoadPolicy.CRON:
            try:
                cron.parse(spec.schedule or "")
            except cron.InvalidSchedule as error:
                self._fail(
                    run,
                    "InvalidSchedule",
                    f"spec.schedule: {error}; policy Cron needs a valid cron schedule",
                )
        longest = job_name(run.name, datetime(9999, 1, 1, tzinfo=UTC), spec.policy)
        if len(longest) > JOB_NAME_LIMIT:
            self._fail(
                run,
                "DataOperationNotValid",
                f"metadata.name is too long for its loader Job ({longest!r} exceeds "
                f"{JOB_NAME_LIMIT} characters); recreate the DataLoad under a shorter name",
            )

    def _between_runs(self, run: _Pass) -> None:
        """A finished Once run expires; a Cron DataLoad starts a run when a tick is due."""
        spec = run.load.spec
        if spec.policy != DataLoadPolicy.CRON:
            raise _Stop(self._expire(run))
        if run.phase in (OperationPhase.EXECUTING.value,) or (
            run.phase == OperationPhase.PENDING.value and run.status.get("lastScheduleTime")
        ):
            return
        schedule = cron.parse(spec.schedule or "")
        since = parse_time(
            run.status.get("lastScheduleTime") or run.raw["metadata"]["creationTimestamp"]
        )
        due = schedule.last_due(since, run.now)
        if due is None:
            upcoming = schedule.next_after(since)
            if run.phase == OperationPhase.PENDING.value:
                set_condition(
                    run.status,
                    WAITING,
                    True,
                    "WaitingForSchedule",
                    f"the first run starts at {format_time(upcoming)} (spec.schedule "
                    f"{spec.schedule!r})",
                )
            raise _Stop(Result(requeue_after=max((upcoming - run.now).total_seconds(), 1.0)))
        run.status.update(
            phase=OperationPhase.PENDING.value,
            duration=UNFINISHED,
            lastScheduleTime=format_time(due),
            conditions=[],
        )
        self.recorder.event(
            run.raw, "Normal", "DataLoadScheduled", f"run for {format_time(due)} starts"
        )

    def _expire(self, run: _Pass) -> Result | None:
        ttl = run.load.spec.ttl_seconds_after_finished
        if ttl is None:
            return None
        finished = condition(run.status, run.phase)
        at = parse_time(finished["lastTransitionTime"]) if finished else run.now
        remaining = (at + timedelta(seconds=ttl) - run.now).total_seconds()
        if remaining > 0:
            return Result(requeue_after=remaining)
        log.info("deleting finished DataLoad", dataload=f"{run.namespace}/{run.name}", ttl=ttl)
        self.client.delete(
            DATALOAD,
            run.name,
            run.namespace,
            preconditions={"uid": run.raw["metadata"]["uid"]},
            ctx=run.ctx,
        )
        run.raw["metadata"]["deletionTimestamp"] = format_time(run.now)
        return None

    def _find_dataset(self, run: _Pass) -> None:
        dataset = self.client.get(DATASET, run.dataset_name, run.namespace, ctx=run.ctx)
        gone = dataset is None or bool(dataset["metadata"].get("deletionTimestamp"))
        if gone and run.phase == OperationPhase.EXECUTING.value:
            self._delete_jobs(run, keep=0)
            self._fail(
                run,
                "DatasetDeleted",
                f"Dataset {run.namespace}/{run.dataset_name} was deleted while this DataLoad "
                "ran, so its loader Job was deleted; recreate the Dataset, then this DataLoad",
            )
        if dataset is None:
            self._wait(
                run,
                "DatasetNotFound",
                f"waiting for Dataset {run.namespace}/{run.dataset_name}, which does not exist; "
                "create it (spec.dataset.name)",
            )
        run.dataset = dataset
        phase = (dataset.get("status") or {}).get("phase") or "NotBound"
        if run.phase == OperationPhase.EXECUTING.value:
            return
        if gone:
            self._wait(
                run,
                "DatasetNotFound",
                f"Dataset {run.namespace}/{run.dataset_name} is being deleted; this DataLoad "
                "starts if a Dataset of that name is created again",
            )
        if phase != DATASET_BOUND:
            self._wait(
                run,
                "DatasetNotBound",
                f"waiting for Dataset {run.namespace}/{run.dataset_name} to be bound (phase "
                f"{phase}); it is once a runtime of the same name is ready",
            )

    def _find_runtime(self, run: _Pass) -> None:
        """The Dataset's runtime among the kinds this manager serves (a ready one first, should
        runtimes of two kinds share the Dataset's name)."""
        assert run.dataset is not None
        found = [
            (kind, runtime)
            for kind in self.kinds
            if (runtime := self.client.get(kind.gvk, run.dataset_name, run.namespace, ctx=run.ctx))
        ]
        found.sort(key=lambda pair: not _ready(pair[1]))
        if found:
            run.kind, run.runtime = found[0]
        if run.phase == OperationPhase.EXECUTING.value:
            return
        if run.runtime is None:
            self.engines.forget(run.namespace, run.dataset_name)
            bound = ((run.dataset.get("status") or {}).get("runtimes") or [{}])[0]
            served = ", ".join(k.gvk.kind for k in self.kinds) or "none"
            self._fail(
                run,
                "DataOperationNotSupported",
                f"Dataset {run.namespace}/{run.dataset_name} is bound to a "
                f"{bound.get('type', 'unknown')} runtime, which this manager does not serve "
                f"(it serves: {served}); run the manager with that runtime's controller",
            )
        if not _ready(run.runtime):
            assert run.kind is not None
            ready = condition(run.runtime.get("status") or {}, READY) or {}
            self._wait(
                run,
                "RuntimeNotReady",
                f"waiting for {run.kind.gvk.kind} {run.namespace}/{run.dataset_name} to be "
                f"ready ({ready.get('message') or 'not reported yet'})",
            )

    def _take_turn(self, run: _Pass) -> None:
        """Hold the Dataset's DataLoad slot, or wait for the DataLoad that holds it or that
        was created earlier."""
        if run.phase == OperationPhase.EXECUTING.value:
            return
        assert run.dataset is not None
        peers = {
            load["metadata"]["name"]: load
            for load in self.client.list(DATALOAD, run.namespace, ctx=run.ctx)
            if ((load.get("spec") or {}).get("dataset") or {}).get("name") == run.dataset_name
            and not load["metadata"].get("deletionTimestamp")
        }
        holder = ((run.dataset.get("status") or {}).get("operationRef") or {}).get(DATA_LOAD)
        holding = peers.get(holder) if holder and holder != run.name else None
        if holding is not None and _phase(holding) == OperationPhase.EXECUTING.value:
            self._wait(
                run,
                "WaitingForDataLoad",
                f"DataLoad {holder} is running on Dataset {run.dataset_name}; this one starts "
                "when it finishes",
            )
        waiting = sorted(
            (_created(load), name)
            for name, load in peers.items()
            if _waits_to_run(load) or name == run.name
        )
        first = waiting[0][1] if waiting else run.name
        if first != run.name:
            self._wait(
                run,
                "WaitingForDataLoad",
                f"DataLoad {first} was created earlier and runs first on Dataset "
                f"{run.dataset_name}; this one starts after it",
            )
        written = self.client.patch_status(
            DATASET,
            run.dataset_name,
            run.namespace,
            {
                "metadata": {"resourceVersion": run.dataset["metadata"]["resourceVersion"]},
                "status": {"operationRef": {DATA_LOAD: run.name}},
            },
            ctx=run.ctx,
        )
        run.dataset = written
        remove_condition(run.status, WAITING)
        run.status.update(phase=OperationPhase.EXECUTING.value, duration=UNFINISHED)

    def _ensure_job(self, run: _Pass) -> dict[str, Any]:
        name = job_name(run.name, self._tick(run), run.load.spec.policy)
        job = self.client.get(JOB, name, run.namespace, ctx=run.ctx)
        if job is not None:
            if _left_by_namesake(job, run.raw):
                self._wait(
                    run,
                    "WaitingForOldJob",
                    f"Job {run.namespace}/{name} of an earlier DataLoad named {run.name} is "
                    "being garbage-collected; this one starts when it is gone",
                )
            if not _controlled_by(job, run.raw):
                self._fail(
                    run,
                    "DataOperationExecutionFailed",
                    f"Job {run.namespace}/{name} exists and is not this DataLoad's; delete it "
                    "or recreate the DataLoad under another name",
                )
            return job
        operation = DataOperation(DATA_LOAD, run.name, run.namespace, run.load.spec, name)
        pod_spec = self._loader(run, operation)
        job = loader_job(operation, pod_spec, _owner(run.raw))
        try:
            created = self.client.create(job, ctx=run.ctx)
        except AlreadyExists:
            raise _Stop(Result(requeue=True)) from None
        self.recorder.event(run.raw, "Normal", "DataLoadJobCreated", f"loader Job {name} created")
        if run.load.spec.policy == DataLoadPolicy.CRON:
            self._delete_jobs(run, keep=JOB_HISTORY)
        return created

    def _loader(self, run: _Pass, operation: DataOperation) -> dict[str, Any]:
        if run.kind is None or run.runtime is None:
            self._wait(
                run,
                "RuntimeNotReady",
                f"the loader Job is gone and Dataset {run.namespace}/{run.dataset_name} has no "
                "runtime to make another; waiting for one",
            )
        rctx = ReconcileRequestContext(
            ctx=run.ctx,
            namespace=run.namespace,
            name=run.dataset_name,
            runtime_type=run.kind.engine_type,
            runtime=run.runtime,
            dataset=run.dataset,
            client=self.client,
            recorder=self.recorder,
            log=log.bind(dataload=f"{run.namespace}/{run.name}"),
            finalizer_name=run.kind.finalizer,
            options=self.engine_options,
        )
        try:
            engine = self.engines.get_or_create(run.kind.engine_type, rctx)
            return engine.data_operation_pod_spec(rctx, operation)
        except (DataOperationError, UnknownRuntimeType) as error:
            reason = getattr(error, "reason", "DataOperationNotSupported")
            self._release(run)
            self._fail(run, reason, str(error))
        except EngineError as error:
            set_condition(run.status, WAITING, True, error.reason, error.message)
            self.recorder.event(run.raw, "Warning", "DataOperationExecutionFailed", error.message)
            raise

    def _observe_job(self, run: _Pass, job: dict[str, Any]) -> Result | None:
        finished = _finished_condition(job)
        if finished is None:
            return None
        succeeded = finished["type"] == COMPLETE
        ended = finished.get("lastTransitionTime") or format_time(run.now)
        started = job["metadata"].get("creationTimestamp") or ended
        run.status.update(
            phase=OperationPhase.COMPLETE.value if succeeded else OperationPhase.FAILED.value,
            duration=format_duration((parse_time(ended) - parse_time(started)).total_seconds()),
            conditions=[
                {
                    "type": finished["type"],
                    "status": finished.get("status", "True"),
                    "reason": finished.get("reason") or finished["type"],
                    "message": finished.get("message") or "",
                    "lastProbeTime": finished.get("lastProbeTime") or ended,
                    "lastTransitionTime": ended,
                }
            ],
        )
        if succeeded and run.load.spec.policy == DataLoadPolicy.CRON:
            run.status["lastSuccessfulTime"] = ended
        self._release(run)
        if succeeded:
            self.recorder.event(
                run.raw, "Normal", "DataOperationSucceed", f"DataLoad {run.name} succeeded"
            )
        else:
            self.recorder.event(
                run.raw,
                "Warning",
                "DataOperationFailed",
                f"DataLoad {run.name} failed: loader Job {job['metadata']['name']} "
                f"{finished.get('reason') or 'failed'}; see its pods' logs",
            )
        return self._after_finish(run)

    def _after_finish(self, run: _Pass) -> Result | None:
        if run.load.spec.policy == DataLoadPolicy.CRON:
            schedule = cron.parse(run.load.spec.schedule or "")
            upcoming = schedule.next_after(self._tick(run))
            return Result(requeue_after=max((upcoming - run.now).total_seconds(), 1.0))
        return self._expire(run)

    # Helpers ---------------------------------------------------------------------------

    def _tick(self, run: _Pass) -> datetime:
        scheduled = run.status.get("lastScheduleTime")
        return parse_time(scheduled) if scheduled else run.now

    def _wait(self, run: _Pass, reason: str, message: str) -> NoReturn:
        if set_condition(run.status, WAITING, True, reason, message):
            log.info("dataload waiting", dataload=f"{run.namespace}/{run.name}", reason=reason)
        raise _Stop()

    def _fail(self, run: _Pass, reason: str, message: str) -> NoReturn:
        """The run fails for good: phase Failed, a condition, a Warning event, a log line;
        once only, so a spec that keeps failing is not re-stamped and re-reported every pass."""
        known = condition(run.status, FAILED) or {}
        if run.phase == FAILED and (known.get("reason"), known.get("message")) == (reason, message):
            raise _Stop()
        stamp = format_time(run.now)
        run.status.update(
            phase=OperationPhase.FAILED.value,
            duration=run.status.get("duration") or UNFINISHED,
            conditions=[
                {
                    "type": FAILED,
                    "status": "True",
                    "reason": reason,
                    "message": message,
                    "lastProbeTime": stamp,
                    "lastTransitionTime": stamp,
                }
            ],
        )
        log.warning("dataload failed", dataload=f"{run.namespace}/{run.name}", reason=reason)
        self.recorder.event(run.raw, "Warning", reason, message)
        raise _Stop()

    def _release(self, run: _Pass) -> None:
        dataset = run.dataset
        if dataset is None:
            return
        if ((dataset.get("status") or {}).get("operationRef") or {}).get(DATA_LOAD) != run.name:
            return
        run.dataset = self.client.patch_status(
            DATASET,
            run.dataset_name,
            run.namespace,
            {
                "metadata": {"resourceVersion": dataset["metadata"]["resourceVersion"]},
                "status": {"operationRef": {DATA_LOAD: None}},
            },
            ctx=run.ctx,
        )

    def _delete_jobs(self, run: _Pass, *, keep: int) -> None:
        """This DataLoad's Jobs but the `keep` newest; their pods go with them."""
        jobs = sorted(
            (
                job
                for job in self.client.list(
                    JOB,
                    run.namespace,
                    label_selector=f"{OPERATION_LABEL}={run.namespace}-{run.name}",
                    ctx=run.ctx,
                )
                if _controlled_by(job, run.raw)
            ),
            key=lambda job: (_created(job), job["metadata"]["name"]),
        )
        for job in jobs[: max(len(jobs) - keep, 0)]:
            self.client.delete(
                JOB,
                job["metadata"]["name"],
                run.namespace,
                propagation_policy="Background",
                ctx=run.ctx,
            )

    def _write_status(self, run: _Pass) -> None:
        if run.raw["metadata"].get("deletionTimestamp"):
            return
        patch = merge_patch(run.raw.get("status") or {}, run.status)
        if not patch:
            return
        self.client.patch_status(
            DATALOAD,
            run.name,
            run.namespace,
            {
                "metadata": {"resourceVersion": run.raw["metadata"]["resourceVersion"]},
                "status": patch,
            },
            ctx=run.ctx,
        )


def job_name(dataload: str, tick: datetime, policy: DataLoadPolicy) -> str:
    """`<dataload>-loader-job`, and for a Cron run `-<minutes since the epoch of its tick>`
    appended (as a CronJob names its Jobs)."""
    base = f"{dataload}-loader-job"
    if policy != DataLoadPolicy.CRON:
        return base
    return f"{base}-{int(tick.timestamp()) // 60}"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _phase(load: dict[str, Any]) -> str:
    return str((load.get("status") or {}).get("phase") or "")


def _waits_to_run(load: dict[str, Any]) -> bool:
    """Pending with a run to do; a Cron DataLoad waiting for its next tick has none."""
    status = load.get("status") or {}
    if status.get("phase") not in (None, "", OperationPhase.PENDING.value):
        return False
    if (load.get("spec") or {}).get("policy") != DataLoadPolicy.CRON.value:
        return True
    return bool(status.get("lastScheduleTime"))


def _ready(runtime: dict[str, Any] | None) -> bool:
    ready = condition((runtime or {}).get("status") or {}, READY)
    return bool(ready and ready.get("status") == "True")


def _created(obj: dict[str, Any]) -> str:
    return str(obj["metadata"].get("creationTimestamp") or "")


def _owner(dataload: dict[str, Any]) -> dict[str, Any]:
    metadata = dataload["metadata"]
    return {
        "apiVersion": dataload["apiVersion"],
        "kind": dataload["kind"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _controlled_by(obj: dict[str, Any], owner: dict[str, Any]) -> bool:
    uid = owner["metadata"]["uid"]
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in obj["metadata"].get("ownerReferences") or []
    )


def _left_by_namesake(job: dict[str, Any], dataload: dict[str, Any]) -> bool:
    """Controlled by an earlier DataLoad of the same name (deleted and created again)."""
    metadata = dataload["metadata"]
    return any(
        ref.get("controller")
        and ref.get("kind") == DATALOAD.kind
        and ref.get("name") == metadata["name"]
        and ref.get("uid") != metadata["uid"]
        for ref in job["metadata"].get("ownerReferences") or []
    )


def _finished_condition(job: dict[str, Any]) -> dict[str, Any] | None:
    for found in (job.get("status") or {}).get("conditions") or []:
        if found.get("type") in (COMPLETE, FAILED) and found.get("status") == "True":
            return dict(found)
    return None

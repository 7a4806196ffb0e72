"""The generic RuntimeReconciler: everything common to every runtime kind.

A pass is a short list of named phases, each of which either lets the pass continue or says why
it stops; status is written once, at the end, whatever happened:

    check_name -> delete (when being deleted) -> find_dataset -> check_binding -> validate
    -> adopt -> setup -> create_volume -> sync

A runtime touches only what it controls (engines.base.ownership): binding is checked before the
runtime writes anything, and so is validation: a runtime refused a Dataset, or whose spec cannot
work, leaves no trace to clean up and costs no more than its condition and its event.

Nothing is retried on a timer that an event can replace: the Dataset, every owned workload and
the engines' secondary objects are watched, so a missing Dataset or class, or a pod that still
holds the volume, wakes the runtime the moment it changes. Transient failures are retried with
the queue's per-key backoff; a bad spec waits for the spec to change.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

import structlog

from fluidpy.api.v1alpha1.base import is_dns1035_label
from fluidpy.client import Client, Conflict, NotFound
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers.kinds import DATASET, RuntimeKind
from fluidpy.controllers.progress import (
    READY_CONDITION,
    SETTING_UP,
    Milestone,
    condition,
    dataset_milestones,
    runtime_milestones,
)
from fluidpy.engines.base import (
    Engine,
    EngineError,
    EngineOptions,
    ReconcileRequestContext,
    ValidationError,
    WaitingFor,
    metrics,
)
from fluidpy.engines.base.limits import (
    DEFAULT_MAX_COMPONENT_REPLICAS,
    check_dataset_has_mounts,
    check_replicas,
)
from fluidpy.engines.base.ownership import CONFLICTS
from fluidpy.engines.base.runtime_info import DATASET_ID_LABEL, dataset_id
from fluidpy.engines.base.status import (
    DATASET_BOUND,
    DATASET_NOT_BOUND,
    bound_to_other_runtime,
    reset_dataset_status,
    set_condition,
)
from fluidpy.engines.factory import EngineFactory, UnknownRuntimeType, default_factory
from fluidpy.events import EventRecorder
from fluidpy.patch import merge_patch

log = structlog.get_logger("fluidpy.controllers.runtime")

READY = READY_CONDITION
"""The runtime's summary condition: True once bound; otherwise its reason says what blocks it."""
WARNING = "Warning"
NORMAL = "Normal"


class _Stop(Exception):
    """A phase decided this pass ends here, with this result."""

    def __init__(self, result: Result | None = None) -> None:
        super().__init__("pass stopped")
        self.result = result


@dataclass(frozen=True)
class RuntimeReconcilerOptions:
    resync_period: float = 90.0
    """Seconds between reconciles of a healthy runtime (upstream's default, also read from
    FLUID_RUNTIME_RECONCILE_DURATION); a safety net for anything no event reports. 0 disables."""
    max_component_replicas: int = DEFAULT_MAX_COMPONENT_REPLICAS
    """Replicas one component may ask for (engines.base.limits says why 1000); more is refused
    with a condition before anything is rendered."""
    engine: EngineOptions = field(default_factory=EngineOptions)
    """What every engine pass is handed (mount root, sync interval): the manager's settings."""


class EngineCache:
    """One engine per runtime, built on first use and dropped when the runtime goes."""

    def __init__(self, factory: EngineFactory) -> None:
        self._factory = factory
        self._engines: dict[tuple[str, str], Engine] = {}
        self._lock = threading.Lock()

    def get_or_create(self, engine_type: str, rctx: ReconcileRequestContext) -> Engine:
        key = (rctx.namespace, rctx.name)
        with self._lock:
            engine = self._engines.get(key)
        if engine is not None:
            return engine
        engine = self._factory.create_engine(engine_type, f"{rctx.namespace}-{rctx.name}", rctx)
        with self._lock:
            return self._engines.setdefault(key, engine)

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._engines.pop((namespace, name), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._engines)


class RuntimeReconciler:
    """Reconciles one runtime kind by delegating the cache-specific work to its engine."""

    def __init__(
        self,
        kind: RuntimeKind,
        client: Client,
        recorder: EventRecorder,
        *,
        factory: EngineFactory = default_factory,
        options: RuntimeReconcilerOptions | None = None,
    ) -> None:
        self.kind = kind
        self.client = client
        self.recorder = recorder
        self.engines = EngineCache(factory)
        self.options = options or RuntimeReconcilerOptions()

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        runtime = self.client.get(self.kind.gvk, request.name, request.namespace, ctx=ctx)
        if runtime is None:
            self.engines.forget(request.namespace, request.name)
            CONFLICTS.forget_runtime(self.kind.gvk.kind, request.namespace, request.name)
            return None
        dataset = self.client.get(DATASET, request.name, request.namespace, ctx=ctx)
        rctx = ReconcileRequestContext(
            ctx=ctx,
            namespace=request.namespace,
            name=request.name,
            runtime_type=self.kind.engine_type,
            runtime=runtime,
            dataset=dataset,
            client=self.client,
            recorder=self.recorder,
            log=log.bind(kind=self.kind.gvk.kind),
            finalizer_name=self.kind.finalizer,
            options=self.options.engine,
        )
        try:
            try:
                return self._run_phases(rctx)
            except _Stop as stop:
                return stop.result
            finally:
                self._write_status(rctx)
        except Conflict as error:
            # Someone wrote the runtime or its Dataset since the cache showed them to us: not a
            # failure, just a pass to redo from fresher state (with backoff, without an error).
            rctx.log.debug("write conflict; reconciling again", error=str(error))
            return Result(requeue=True)
        except NotFound as error:
            # An object went while the pass worked from the cache's older view (most often the
            # runtime itself, just after its finalizer came off): expected, and its deletion
            # event brings the next pass anyway.
            rctx.log.debug("an object went during the pass; reconciling again", error=str(error))
            return Result(requeue=True)

    def _run_phases(self, rctx: ReconcileRequestContext) -> Result | None:
        self._check_name(rctx)
        if rctx.runtime["metadata"].get("deletionTimestamp"):
            self._delete(rctx)
            return None
        self._find_dataset(rctx)
        self._check_binding(rctx)
        engine = self._engine(rctx)
        self._validate(rctx, engine)
        self._adopt(rctx)
        unbound = copy.deepcopy(rctx.dataset_status)
        if not self._guard(rctx, engine.setup, rctx):
            self._report(rctx, False, SETTING_UP, "The runtime is being set up.", event=False)
            return None
        if (condition(rctx.runtime.get("status"), READY) or {}).get("status") != "True":
            # The pass that completes setup: what got ready comes before the volume.
            self._tell_runtime_progress(rctx)
        self._create_volume(rctx, engine, unbound)
        sync_after = self._guard(rctx, engine.sync, rctx)
        self._report(
            rctx, True, "Ready", "The runtime is ready and bound to its dataset.", event=False
        )
        return self._requeue(sync_after)

    def _requeue(self, sync_after: float | None) -> Result | None:
        periods = [p for p in (sync_after, self.options.resync_period) if p]
        return Result(requeue_after=min(periods)) if periods else None

    # Phases ----------------------------------------------------------------------------

    def _check_name(self, rctx: ReconcileRequestContext) -> None:
        if is_dns1035_label(rctx.name):
            return
        self._report(
            rctx,
            False,
            "InvalidName",
            f"metadata.name {rctx.name!r} is not a DNS-1035 label: use at most 63 lower-case "
            "letters, digits and '-', starting with a letter and ending with a letter or digit; "
            "recreate the runtime and its Dataset under such a name",
        )
        raise _Stop()

    def _find_dataset(self, rctx: ReconcileRequestContext) -> None:
        if rctx.dataset is not None:
            return
        self._report(
            rctx,
            False,
            "DatasetNotFound",
            f"waiting for Dataset {rctx.namespace}/{rctx.name}: a runtime serves the Dataset of "
            "the same name in its namespace; create it",
        )
        raise _Stop()

    def _adopt(self, rctx: ReconcileRequestContext) -> None:
        """Owner reference from the Dataset, the dataset-id label and the finalizer, in one
        write (none when all are there). The Dataset's own label is its controller's, which
        writes it with its finalizer: labelling it here too would race that into two writes."""
        dataset = rctx.dataset
        assert dataset is not None
        label = dataset_id(rctx.namespace, rctx.name, dataset["metadata"]["uid"])
        metadata = rctx.runtime["metadata"]
        owners = list(metadata.get("ownerReferences") or [])
        uid = dataset["metadata"]["uid"]
        changed: dict[str, Any] = {}
        if not any(o.get("uid") == uid for o in owners):
            changed["ownerReferences"] = [
                *owners,
                {
                    "apiVersion": dataset["apiVersion"],
                    "kind": dataset["kind"],
                    "name": rctx.name,
                    "uid": uid,
                },
            ]
        if (metadata.get("labels") or {}).get(DATASET_ID_LABEL) != label:
            changed["labels"] = {DATASET_ID_LABEL: label}
        finalizers = list(metadata.get("finalizers") or [])
        if self.kind.finalizer not in finalizers:
            changed["finalizers"] = [*finalizers, self.kind.finalizer]
        if changed:
            changed["resourceVersion"] = metadata["resourceVersion"]
            updated = self.client.patch(
                self.kind.gvk, rctx.name, rctx.namespace, {"metadata": changed}, ctx=rctx.ctx
            )
            rctx.runtime["metadata"] = updated["metadata"]

    def _check_binding(self, rctx: ReconcileRequestContext) -> None:
        """Before anything is written: a runtime refused here gets no finalizer, owner
        reference or label, creates nothing, and so its deletion has nothing to undo."""
        assert rctx.dataset is not None
        other = bound_to_other_runtime(
            rctx.dataset, rctx.name, rctx.namespace, rctx.category, self.kind.runtime_type
        )
        if other is None:
            return
        self._report(
            rctx,
            False,
            "DatasetBoundToOtherRuntime",
            f"Dataset {rctx.namespace}/{rctx.name} is already bound to the {other.get('type')} "
            f"runtime {other.get('namespace', rctx.namespace)}/{other.get('name')}; delete that "
            "runtime first, or give this runtime its own Dataset",
        )
        raise _Stop()

    def _validate(self, rctx: ReconcileRequestContext, engine: Engine) -> None:
        """Before anything is written: a spec that cannot work costs its condition, its event
        and nothing else (no finalizer, no labels), and waits for a change of what it depends
        on, so bad input takes no share of the API that good runtimes need."""
        self._guard(rctx, check_replicas, rctx.spec, self.options.max_component_replicas)
        self._guard(rctx, check_dataset_has_mounts, rctx.dataset)
        self._guard(rctx, engine.validate, rctx)

    def _create_volume(
        self, rctx: ReconcileRequestContext, engine: Engine, before_setup: dict[str, Any] | None
    ) -> None:
        """The Dataset is Bound only once its PV and PVC exist and are this runtime's: when
        they cannot be made (a name conflict, say), the binding setup just made is undone."""
        try:
            self._guard(rctx, engine.create_volume, rctx)
        except BaseException:
            if (before_setup or {}).get("phase") != DATASET_BOUND:
                rctx.dataset_status = before_setup
                _mark_unbound(rctx)
            raise

    def _engine(self, rctx: ReconcileRequestContext) -> Engine:
        try:
            return self.engines.get_or_create(self.kind.engine_type, rctx)
        except UnknownRuntimeType as error:
            self._report(rctx, False, "EngineNotFound", str(error))
            raise _Stop() from None

    def _guard(self, rctx: ReconcileRequestContext, step: Any, *args: Any) -> Any:
        """Run an engine step; turn its errors into a condition, an event and an outcome."""
        try:
            return step(*args)
        except ValidationError as error:
            self._report(rctx, False, error.reason, error.message)
            raise _Stop() from None
        except WaitingFor as error:
            self._report(rctx, False, error.reason, error.message, event=error.warning)
            retry = Result(requeue_after=error.retry_after) if error.retry_after else None
            raise _Stop(retry) from None
        except (Conflict, NotFound):
            raise
        except Exception as error:
            if step.__name__ == "setup":
                labels = metrics.runtime_labels(self.kind.gvk.kind, rctx.namespace, rctx.name)
                metrics.RUNTIME_SETUP_ERRORS.labels(*labels).inc()
            reason = error.reason if isinstance(error, EngineError) else "ErrorProcessRuntime"
            self._report(rctx, False, reason, f"{step.__name__}: {error}")
            raise

    def _delete(self, rctx: ReconcileRequestContext) -> None:
        """Volume, engine shutdown, Dataset status, finalizer; each step safe to repeat."""
        metadata = rctx.runtime["metadata"]
        if self.kind.finalizer not in (metadata.get("finalizers") or []):
            self.engines.forget(rctx.namespace, rctx.name)
            return
        try:
            engine = self.engines.get_or_create(self.kind.engine_type, rctx)
        except UnknownRuntimeType as error:
            self.recorder.event(
                rctx.runtime,
                WARNING,
                "EngineNotFound",
                f"{error}; removing the finalizer without engine clean-up",
            )
        else:
            self._guard(rctx, engine.delete_volume, rctx)
            self._guard(rctx, engine.shutdown, rctx)
        self.engines.forget(rctx.namespace, rctx.name)
        if rctx.dataset_status is not None and rctx.dataset is not None and self._bound_to_us(rctx):
            reset_dataset_status(rctx.dataset_status)
        rctx.runtime_status = copy.deepcopy(rctx.runtime.get("status") or {})  # about to go
        self._write_status(rctx)
        finalizers = [f for f in metadata.get("finalizers") or [] if f != self.kind.finalizer]
        self.client.patch(
            self.kind.gvk,
            rctx.name,
            rctx.namespace,
            {
                "metadata": {
                    "finalizers": finalizers or None,
                    "resourceVersion": metadata["resourceVersion"],
                }
            },
            ctx=rctx.ctx,
        )
        rctx.runtime_status = copy.deepcopy(rctx.runtime.get("status") or {})
        message = "The runtime's cache and volume were cleaned up."
        rctx.log.info(message, reason="Deleted", on=rctx.runtime["kind"])
        self.recorder.event(rctx.runtime, NORMAL, "Deleted", message)
        metrics.forget(self.kind.gvk.kind, rctx.namespace, rctx.name)

    def _bound_to_us(self, rctx: ReconcileRequestContext) -> bool:
        assert rctx.dataset is not None
        return (
            bound_to_other_runtime(
                rctx.dataset, rctx.name, rctx.namespace, rctx.category, self.kind.runtime_type
            )
            is None
        )

    # Status ----------------------------------------------------------------------------

    def _report(
        self,
        rctx: ReconcileRequestContext,
        ready: bool,
        reason: str,
        message: str,
        *,
        event: bool = True,
    ) -> None:
        """The summary condition, plus (for problems) a Warning event and a log line, and a
        Dataset without a phase marked NotBound: the Dataset controller leaves a Dataset whose
        runtime exists to that runtime, which says so only when it is blocked (a runtime that
        binds writes the Dataset's status once, as Bound)."""
        changed = set_condition(rctx.runtime_status, READY, ready, reason, message)
        if event and not ready:
            if changed:
                rctx.log.warning("runtime blocked", reason=reason, message=message)
            self.recorder.event(rctx.runtime, WARNING, reason, message)
            _mark_unbound(rctx)

    def _write_status(self, rctx: ReconcileRequestContext) -> None:
        """One merge patch per object, and only for what changed in this pass; what the
        written change means is told as milestones (controllers.progress), unless the end of
        setup told it already."""
        kind = self.kind.gvk.kind
        held = self.kind.finalizer in (rctx.runtime["metadata"].get("finalizers") or [])
        deleting = bool(rctx.runtime["metadata"].get("deletionTimestamp"))
        if not deleting:
            metrics.record_runtime_status(kind, rctx.namespace, rctx.name, rctx.runtime_status)
            if rctx.dataset_status is not None and self._bound_to_us(rctx):
                metrics.record_dataset_status(rctx.namespace, rctx.name, rctx.dataset_status)
        runtime_before = rctx.runtime.get("status") or {}
        rctx.told.setdefault("runtime", runtime_before)
        runtime_patch = merge_patch(runtime_before, rctx.runtime_status)
        if runtime_patch and (held or not deleting):
            # While our finalizer holds a runtime being deleted, its conditions say what the
            # deletion waits for (VolumeInUse, VolumeDeleting); after that it is gone.
            # Conditional on the version this pass read, as for the Dataset: a pass that started
            # from a stale cache must not replace newer conditions; it is retried instead.
            written = self.client.patch_status(
                self.kind.gvk,
                rctx.name,
                rctx.namespace,
                {
                    "metadata": {"resourceVersion": rctx.runtime["metadata"]["resourceVersion"]},
                    "status": runtime_patch,
                },
                ctx=rctx.ctx,
            )
            rctx.runtime["status"] = written.get("status") or {}
            rctx.runtime_status = copy.deepcopy(rctx.runtime["status"])
            self._tell_runtime_progress(rctx)
        if rctx.dataset is None or rctx.dataset_status is None:
            return
        dataset_before = rctx.dataset.get("status") or {}
        dataset_patch = merge_patch(dataset_before, rctx.dataset_status)
        if dataset_patch and "conditions" not in rctx.dataset_status:
            # The CRD requires status.conditions, as upstream's does: a first status write that
            # has none yet (the engine recorded mounts before binding) would be refused.
            dataset_patch["conditions"] = []
        if dataset_patch:
            written = self.client.patch_status(
                DATASET,
                rctx.name,
                rctx.namespace,
                {
                    "metadata": {"resourceVersion": rctx.dataset["metadata"]["resourceVersion"]},
                    "status": dataset_patch,
                },
                ctx=rctx.ctx,
            )
            dataset_told = rctx.told.setdefault("dataset", dataset_before)
            rctx.dataset = written
            rctx.dataset_status = copy.deepcopy(written.get("status") or {})
            self._tell(rctx, dataset_milestones(kind, rctx.name, dataset_told, rctx.dataset_status))
            rctx.told["dataset"] = copy.deepcopy(rctx.dataset_status)

    def _tell_runtime_progress(self, rctx: ReconcileRequestContext) -> None:
        """Tell what the runtime status says since it was last told: once written, and at the
        end of the pass that completes setup, so the story keeps its order (components ready,
        then the volume created). Only then, because a pass that started from a stale cache
        tells what it finds before its write is refused."""
        told = rctx.told.setdefault("runtime", rctx.runtime.get("status") or {})
        self._tell(
            rctx, runtime_milestones(self.kind.gvk.kind, rctx.name, told, rctx.runtime_status)
        )
        rctx.told["runtime"] = copy.deepcopy(rctx.runtime_status)

    def _tell(self, rctx: ReconcileRequestContext, milestones: list[Milestone]) -> None:
        """A Normal event and an info line per milestone."""
        for milestone in milestones:
            target = rctx.dataset if milestone.on_dataset else rctx.runtime
            assert target is not None
            rctx.log.info(milestone.message, reason=milestone.reason, on=target["kind"])
            self.recorder.event(target, NORMAL, milestone.reason, milestone.message)


def _mark_unbound(rctx: ReconcileRequestContext) -> None:
    """A Dataset without a phase is marked NotBound by the runtime that cannot serve it yet."""
    status = rctx.dataset_status
    if rctx.dataset is not None and status is not None and not status.get("phase"):
        status.update(phase=DATASET_NOT_BOUND, conditions=status.get("conditions") or [])

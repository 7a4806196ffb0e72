"""The CacheRuntime engine: any cache system, described by a CacheRuntimeClass, on Kubernetes.

It implements Fluid's Engine interface directly, as upstream's CacheEngine does. Each pass
resolves the runtime, its class and its Dataset into a Plan (plan.py, after validation.py),
renders the desired objects with pure functions (render/) and applies only those that differ
from the cached live objects (apply.py). Nothing is
"created if missing": every pass converges, so a change to the runtime, its class or its
Dataset reaches the workloads on the next reconcile, and a component the runtime disables, or
whose workload kind the class changes, loses its old workload.

UFS metadata and node labels for Fluid's scheduler have no meaning for a cache system known
only by YAML, so no step asks for them: the class's pod templates place the cache, and the cache
system mounts its under file systems itself, from the runtime config. Mounting (mountUFS) and
cache figures (reportSummary) come from the cache system when the class says how to ask for
them, in its execution entries (execution.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fluidpy.api.v1alpha1 import CacheRuntime, CacheRuntimeClass
from fluidpy.client import GVK, SECRET, Client
from fluidpy.durations import format_duration
from fluidpy.engines.base import (
    Engine,
    EngineError,
    ReconcileRequestContext,
    RuntimeInfo,
    WaitingFor,
    metrics,
)
from fluidpy.engines.base.dataoperation import DataOperation
from fluidpy.engines.base.exec import PodExec
from fluidpy.engines.base.ownership import check_name_free, serves_dataset
from fluidpy.engines.base.runtime_info import owner_dataset_uid, placement_of
from fluidpy.engines.base.status import (
    DATASET_BOUND,
    DATASET_FAILED,
    bind_dataset,
    now,
    remove_condition,
    set_condition,
    set_dataset_phase,
)
from fluidpy.engines.base.volume import PV, PVC, create_volume, delete_volume
from fluidpy.engines.cacheruntime.apply import Applier
from fluidpy.engines.cacheruntime.dataload import loader_pod_spec
from fluidpy.engines.cacheruntime.debounce import DebouncedWriter
from fluidpy.engines.cacheruntime.dependents import DEPENDENTS, Dependents
from fluidpy.engines.cacheruntime.execution import Executions
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIGMAP,
    NAME_LABEL,
    NODE,
    POD,
    RUNTIME_TYPE,
    SERVICE,
    WORKLOAD_KINDS,
    Component,
    selector_labels,
    target_path,
)
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan, make_plan, secret_options
from fluidpy.engines.cacheruntime.render.config import (
    config_text,
    render_config_map,
    render_extra_config_maps,
    runtime_config,
)
from fluidpy.engines.cacheruntime.render.services import render_headless_service
from fluidpy.engines.cacheruntime.render.status import (
    ComponentState,
    component_state,
    master_ready,
    runtime_phase,
    unschedulable,
    workers_ready,
)
from fluidpy.engines.cacheruntime.render.topology import pod_configs, topology_complete
from fluidpy.engines.cacheruntime.render.workloads import render_workload
from fluidpy.engines.cacheruntime.validation import (
    check_class,
    check_dataset,
    check_plan,
    check_runtime_against_class,
    components_without_support,
    parse,
)

MOUNT_TYPE = "cache"
"""The PV's mount_type attribute: how Fluid's CSI plugin checks a FUSE mount is up."""

CONDITION_OF: dict[Component, str] = {
    "master": "MasterReady",
    "worker": "WorkersReady",
    "client": "ClientReady",
}
EXTRA_RESOURCES_CONDITION = "ExtraResourcesMounted"


@dataclass
class _Pass:
    """What one reconcile pass has learned so far."""

    ctx: ReconcileRequestContext
    plan: Plan
    workloads: dict[Component, dict[str, Any] | None] = field(default_factory=dict)
    """Each enabled component's workload as last applied or read in this pass."""


class CacheRuntimeEngine(Engine):
    """One CacheRuntime's engine; the RuntimeReconciler keeps it between passes.

    Like upstream's CacheEngine it implements Engine itself: Fluid's 31 Implement steps mean
    nothing to a cache system known only by YAML, where a pass is "resolve the plan, converge
    every object, report status". The plan is made once per pass (by validate, the pass's first
    step) and dropped when the pass ends (sync done, or setup not ready or failing), so nothing
    of a pass outlives it: kept, it would cost tens of KiB per runtime between passes.
    """

    def __init__(
        self,
        namespace: str,
        name: str,
        *,
        engine_id: str = "",
        dependents: Dependents = DEPENDENTS,
        writer: DebouncedWriter | None = None,
        transport: PodExec | None = None,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self._id = engine_id or f"{namespace}-{name}"
        self._dependents = dependents
        self._applier = Applier()
        self.config_writer = writer or DebouncedWriter((namespace, name))
        self._pass: _Pass | None = None
        self._volume_created = False
        self._executions = Executions(transport)

    def id(self) -> str:
        return self._id

    # The pass: parse, look up, validate, plan ------------------------------------------

    def _state(self, ctx: ReconcileRequestContext) -> _Pass:
        state = self._pass
        if state is None or state.ctx is not ctx:
            state = _Pass(ctx, self._plan(ctx))
            self._pass = state
        return state

    def _end_pass(self) -> None:
        self._pass = None

    def _plan(self, ctx: ReconcileRequestContext) -> Plan:
        runtime = parse(CacheRuntime, ctx.runtime, f"CacheRuntime {ctx.namespace}/{ctx.name}")
        if ctx.dataset is None:
            raise WaitingFor(
                f"waiting for Dataset {ctx.namespace}/{ctx.name}; create it",
                reason="DatasetNotFound",
            )
        dataset = check_dataset(ctx.dataset)
        class_name = runtime.spec.runtime_class_name
        self._dependents.record(
            ctx.namespace,
            ctx.name,
            class_name,
            (o.secret for o in secret_options(dataset) if o.secret),
        )
        raw_class = ctx.client.get(CLASS_GVK, class_name, ctx=ctx.ctx)
        if raw_class is None:
            raise WaitingFor(
                f"waiting for CacheRuntimeClass {class_name!r} (spec.runtimeClassName), which "
                "does not exist: create the class (it is cluster-scoped) and the runtime "
                "proceeds by itself",
                reason="RuntimeClassNotFound",
            )
        check_class(class_name, raw_class)
        runtime_class = parse(CacheRuntimeClass, raw_class, f"CacheRuntimeClass {class_name}")
        check_runtime_against_class(runtime, runtime_class)
        plan = make_plan(
            runtime,
            runtime_class,
            dataset,
            owner_reference=ctx.owner_reference,
            mount_root=ctx.mount_root,
            fuse_label=self._info(ctx).fuse_label,
        )
        check_plan(plan)
        if any(component.mounts_secrets for component in plan.enabled()):
            self._check_secrets(ctx, plan)
        return plan

    def _check_secrets(self, ctx: ReconcileRequestContext, plan: Plan) -> None:
        for secret in plan.secrets:
            if not _exists(ctx.client, SECRET, secret, plan.namespace, ctx):
                options = sorted({o.option for o in plan.secret_options if o.secret == secret})
                raise WaitingFor(
                    f"waiting for Secret {plan.namespace}/{secret}, which Dataset "
                    f"{plan.namespace}/{plan.name} names in encryptOptions "
                    f"({', '.join(options)}) and which does not exist: create it in namespace "
                    f"{plan.namespace} and the runtime proceeds by itself",
                    reason="SecretNotFound",
                )

    def _info(self, ctx: ReconcileRequestContext) -> RuntimeInfo:
        client_spec = ctx.spec.get("client") or {}
        return RuntimeInfo(
            name=ctx.name,
            namespace=ctx.namespace,
            runtime_type=RUNTIME_TYPE,
            owner_dataset_uid=owner_dataset_uid(ctx.runtime),
            placement=placement_of(ctx.dataset),
            fuse_node_selector=dict(client_spec.get("nodeSelector") or {}),
        )

    # Converging objects ------------------------------------------------------------------

    def _converge_config(self, state: _Pass) -> None:
        ctx, plan = state.ctx, state.plan
        for desired in render_extra_config_maps(plan):
            live = ctx.client.get(
                CONFIGMAP, desired["metadata"]["name"], plan.namespace, ctx=ctx.ctx
            )
            if live is not None and not self._controlled(ctx, live):
                ctx.log.info(
                    "keeping a config map the runtime does not own",
                    name=desired["metadata"]["name"],
                )
                continue
            self._applier.ensure(ctx.client, desired, ctx.ctx)
        pods = ctx.client.list(
            POD, plan.namespace, label_selector=f"{NAME_LABEL}={plan.name}", ctx=ctx.ctx
        )
        topology = pod_configs(pods)
        desired = render_config_map(plan, config_text(runtime_config(plan, topology)))
        live = ctx.client.get(CONFIGMAP, plan.config_map, plan.namespace, ctx=ctx.ctx)
        if live is not None:
            check_name_free(CONFIGMAP, desired, live)
        wanted: dict[str, int | None] = {c.component: c.replicas for c in plan.enabled()}
        complete = topology_complete(topology, wanted)
        self.config_writer.submit(ctx.client, desired, live, ctx.ctx, complete=complete)

    def _converge_component(self, state: _Pass, component: ComponentPlan) -> bool:
        """Apply the component's workload and Service, remove what it no longer has; True when
        anything was written."""
        ctx, plan = state.ctx, state.plan
        changed = False
        for kind, gvk in WORKLOAD_KINDS.items():
            if not component.enabled or kind != component.kind:
                changed |= self._remove(ctx, gvk, component.workload)
        if not component.headless:
            changed |= self._remove(ctx, SERVICE, component.workload)
        if not component.enabled:
            state.workloads.pop(component.component, None)
            return changed
        if component.headless:
            _, wrote = self._applier.ensure(
                ctx.client, render_headless_service(plan, component), ctx.ctx
            )
            changed |= wrote
        desired = render_workload(plan, component)
        changed |= self._replace_if_immutable_changed(ctx, desired)
        workload, wrote = self._applier.ensure(ctx.client, desired, ctx.ctx)
        state.workloads[component.component] = workload
        return changed or wrote

    def _replace_if_immutable_changed(
        self, ctx: ReconcileRequestContext, desired: dict[str, Any]
    ) -> bool:
        """A StatefulSet's serviceName cannot change; a class that adds or drops the headless
        Service gets a new StatefulSet (its pods are recreated under the new name)."""
        if desired["kind"] != "StatefulSet":
            return False
        gvk = GVK.of_object(desired)
        name = desired["metadata"]["name"]
        live = ctx.client.get(gvk, name, ctx.namespace, ctx=ctx.ctx)
        if live is None or not self._controlled(ctx, live):
            return False
        if (live.get("spec") or {}).get("serviceName", "") == desired["spec"].get(
            "serviceName", ""
        ):
            return False
        ctx.log.info("replacing", object=f"StatefulSet {name}", because="serviceName changed")
        return self._remove(ctx, gvk, name)

    def _remove(self, ctx: ReconcileRequestContext, gvk: GVK, name: str) -> bool:
        live = ctx.client.get(gvk, name, ctx.namespace, ctx=ctx.ctx)
        if live is None or not self._controlled(ctx, live):
            return False
        self._applier.forget(gvk, ctx.namespace, name)
        return ctx.client.delete(gvk, name, ctx.namespace, ctx=ctx.ctx)

    @staticmethod
    def _controlled(ctx: ReconcileRequestContext, obj: dict[str, Any]) -> bool:
        uid = ctx.runtime["metadata"].get("uid")
        return any(
            ref.get("uid") == uid and ref.get("controller")
            for ref in obj.get("metadata", {}).get("ownerReferences") or []
        )

    def _converge(self, state: _Pass, components: tuple[Component, ...]) -> bool:
        changed = False
        for component in components:
            changed |= self._converge_component(state, state.plan.component(component))
        return changed

    # Status --------------------------------------------------------------------------------

    def _component_state(self, state: _Pass, component: ComponentPlan) -> ComponentState | None:
        """None for a component the runtime does not run."""
        if not component.enabled:
            return None
        if component.component in state.workloads:
            workload = state.workloads[component.component]
        else:
            gvk = WORKLOAD_KINDS[component.kind]
            ctx = state.ctx
            workload = ctx.client.get(gvk, component.workload, state.plan.namespace, ctx=ctx.ctx)
            state.workloads[component.component] = workload
        if workload is not None and workload.get("kind") != component.kind:
            workload = None
        return component_state(workload, component.replicas)

    def _unschedulable(
        self, state: _Pass, component: ComponentPlan, current: ComponentState
    ) -> str:
        """Why pods are missing, when the scheduler says (read only while some are)."""
        if current.ready >= current.desired:
            return ""
        ctx = state.ctx
        selector = ",".join(
            f"{k}={v}" for k, v in selector_labels(ctx.name, component.component).items()
        )
        pods = ctx.client.list(POD, state.plan.namespace, label_selector=selector, ctx=ctx.ctx)
        return unschedulable(pods)

    def _update_status(self, state: _Pass) -> tuple[ComponentState | None, ComponentState | None]:
        """Write every component's status and the runtime's phase; returns (master, workers)."""
        status = state.ctx.runtime_status
        components = list(state.plan.components.values())
        states: dict[Component, ComponentState | None] = {
            c.component: self._component_state(state, c) for c in components
        }
        gates_open = master_ready(states["master"]) and workers_ready(states["worker"])
        for component in components:
            name, current = component.component, states[component.component]
            if current is None:
                status.pop(name, None)
                remove_condition(status, CONDITION_OF[name])
                continue
            note = self._unschedulable(state, component, current)
            if note == _note_of(status, CONDITION_OF[name]) and _recorded_stands(
                status.get(name), current, waits=name == "client" and not gates_open
            ):
                continue
            status[name] = current.as_status()
            set_condition(
                status,
                CONDITION_OF[name],
                _gate_open(name, current),
                f"{current.phase}",
                f"{current.ready} of {current.desired} {name} pods are ready{note}",
            )
        master, workers = states["master"], states["worker"]
        status["phase"] = runtime_phase(master, workers)
        status["valueFile"] = state.plan.config_map
        unsupported = components_without_support(state.plan)
        if unsupported:
            set_condition(
                status,
                EXTRA_RESOURCES_CONDITION,
                False,
                "NotSupported",
                f"dependencies.extraResources of the {', '.join(unsupported)} in CacheRuntimeClass "
                f"{state.plan.class_name} is accepted but not supported yet; mount the class's "
                "config maps through volumes in its podTemplateSpec",
            )
        else:
            remove_condition(status, EXTRA_RESOURCES_CONDITION)
        return master, workers

    # Engine ----------------------------------------------------------------------------------
    #
    # Setup runs until the Dataset is bound to this runtime; from then on it answers "ready" at
    # once and sync converges everything and watches health. The RuntimeReconciler calls setup
    # on every pass, so this is what keeps a bound runtime whose master restarts from being
    # "set up" again.

    def validate(self, ctx: ReconcileRequestContext) -> None:
        """Resolve and check the runtime, its class, its Dataset and Secrets (see _plan)."""
        self._state(ctx)

    def setup(self, ctx: ReconcileRequestContext) -> bool:
        """The runtime config and the master, then (master ready) the workers and the client
        (the client follows the workers, as in Fluid); bind once the workers are ready and the
        class's mountUFS, if it has one, succeeded."""
        if _bound(ctx):
            return True
        ready = False
        try:
            state = self._state(ctx)
            self._converge_config(state)
            self._converge(state, ("master",))
            master = self._component_state(state, state.plan.component("master"))
            if master_ready(master):
                self._converge(state, ("worker", "client"))
            master, workers = self._update_status(state)
            if master_ready(master) and workers_ready(workers):
                self._executions.mount_before_binding(ctx, state.plan)
                self._bind(ctx)
                self._executions.report_at_binding(ctx, state.plan)
                ready = True
            return ready
        finally:
            if not ready:
                self._end_pass()

    def _bind(self, ctx: ReconcileRequestContext) -> None:
        """Bind once; afterwards sync's health check moves the Dataset between Bound and Failed."""
        bind_dataset(ctx, RUNTIME_TYPE)
        status = ctx.runtime_status
        status["mountTime"] = now()
        if not status.get("setupDuration"):
            status["setupDuration"] = _since(ctx.runtime["metadata"].get("creationTimestamp"))

    def sync(self, ctx: ReconcileRequestContext) -> float | None:
        """Converge the config and every component; when nothing changed, check health and
        record the Dataset's mounts as applied (the runtime config already carries them)."""
        try:
            state = self._state(ctx)
            self._converge_config(state)
            changed = self._converge(state, ("master", "worker", "client"))
            master, workers = self._update_status(state)
            if changed:
                return None
            self._check_health(ctx, master, workers)
            self._executions.sync_mounts(ctx, state.plan)
            return self._executions.refresh_figures(ctx, state.plan)
        finally:
            self._end_pass()

    @staticmethod
    def _check_health(
        ctx: ReconcileRequestContext,
        master: ComponentState | None,
        workers: ComponentState | None,
    ) -> None:
        """An unready master, or no ready worker, makes the Dataset Failed until they recover."""
        if master_ready(master) and workers_ready(workers):
            if (ctx.dataset_status or {}).get("phase") != DATASET_BOUND:
                bind_dataset(ctx, RUNTIME_TYPE)
            return
        set_dataset_phase(ctx, DATASET_FAILED, RUNTIME_TYPE)
        labels = metrics.runtime_labels(ctx.runtime["kind"], ctx.namespace, ctx.name)
        metrics.RUNTIME_HEALTH_CHECK_ERRORS.labels(*labels).inc()
        parts = [
            f"{name} {state.ready}/{state.desired} ready"
            for name, state in (("master", master), ("workers", workers))
            if state is not None
        ]
        raise EngineError(
            f"the cache is not healthy: {', '.join(parts)}; see the pods of {ctx.name}",
            reason="RuntimeNotHealthy",
        )

    def create_volume(self, ctx: ReconcileRequestContext) -> None:
        """Create the PV and PVC until they exist. Afterwards they are checked again only when
        the cache holds both kinds (a free read): otherwise every pass of a bound runtime, and
        it has one per pod change, would cost two live GETs for objects that are already there."""
        if self._volume_created and not _cached(ctx.client, PV, PVC):
            return
        create_volume(
            ctx,
            self._info(ctx),
            fuse_path=target_path(ctx.mount_root, ctx.namespace, ctx.name),
            mount_type=MOUNT_TYPE,
        )
        self._volume_created = True

    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        self._volume_created = False
        delete_volume(ctx, self._info(ctx))

    def shutdown(self, ctx: ReconcileRequestContext) -> None:
        """Clean what owner references do not: the held config write, the dependency record
        and the FUSE label Fluid's CSI plugin put on nodes."""
        self._end_pass()
        self.config_writer.cancel()
        self._dependents.forget(ctx.namespace, ctx.name)
        if not serves_dataset(ctx, RUNTIME_TYPE):
            return  # the Dataset's clients are another runtime's: its FUSE label stays
        label = self._info(ctx).fuse_label
        for node in ctx.client.list(NODE, label_selector=f"{label}=true", ctx=ctx.ctx):
            ctx.client.patch(
                NODE,
                node["metadata"]["name"],
                None,
                {"metadata": {"labels": {label: None}}},
                ctx=ctx.ctx,
            )

    def data_operation_pod_spec(
        self, ctx: ReconcileRequestContext, operation: DataOperation
    ) -> dict[str, Any]:
        return loader_pod_spec(ctx, operation)


def _bound(ctx: ReconcileRequestContext) -> bool:
    """Whether the Dataset already lists this runtime (setup finished once)."""
    return any(
        entry.get("name") == ctx.name
        and entry.get("namespace", ctx.namespace) == ctx.namespace
        and entry.get("category") == ctx.category
        and entry.get("type", RUNTIME_TYPE) == RUNTIME_TYPE
        for entry in (ctx.dataset_status or {}).get("runtimes") or []
    )


def _note_of(status: dict[str, Any], condition_type: str) -> str:
    """What a component's recorded condition says after its counts (the scheduler's word)."""
    for condition in status.get("conditions") or []:
        if condition.get("type") == condition_type:
            return str(condition.get("message") or "").partition(" pods are ready")[2]
    return ""


def _recorded_stands(
    recorded: dict[str, Any] | None, current: ComponentState, *, waits: bool
) -> bool:
    """Whether a component's recorded status may stay as written: its counts are written with
    a change of its phase or of its desired replicas, when the ready count reaches the desired
    one (the end of a scale-down, which keeps the phase), and when a rollout starts or ends,
    not on every pod that starts, stops or is updated. `waits`: the client's progress is
    written once the master and workers are ready (it gates nothing, and its DaemonSet settles
    between their changes, which would cost a status write of its own)."""
    if not recorded:
        return False
    if waits:
        return True
    desired = recorded.get("desiredReplicas")
    settled = recorded.get("readyReplicas") == desired
    return (recorded.get("phase"), desired, settled, recorded.get("reason")) == (
        current.phase,
        current.desired,
        current.ready == current.desired,
        current.as_status().get("reason"),
    )


def _gate_open(component: str, state: ComponentState) -> bool:
    if component == "master":
        return master_ready(state)
    if component == "worker":
        return workers_ready(state)
    return state.phase == "Ready"


def _cached(client: Client, *kinds: GVK) -> bool:
    cache = client.cache
    return cache is not None and all(cache.serves(kind) for kind in kinds)


def _exists(
    client: Client, gvk: GVK, name: str, namespace: str, ctx: ReconcileRequestContext
) -> bool:
    """Existence from the cache when it holds the kind (the Client reads Secrets only live), else
    one live read; the object itself is dropped at once (a Secret's values are never kept)."""
    cache = client.cache
    if cache is not None and cache.serves(gvk, namespace):
        return cache.get(gvk, name, namespace) is not None
    return client.live.get(gvk, name, namespace, ctx=ctx.ctx) is not None


def _since(timestamp: str | None) -> str:
    """Time since `timestamp` as a Go duration ("37s", "2m5s", "1h0m3s"), as upstream shows it."""
    if not timestamp:
        return ""
    started = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return format_duration((datetime.now(UTC) - started).total_seconds())

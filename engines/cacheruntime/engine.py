"""The CacheRuntime engine: any cache system, described by a CacheRuntimeClass, on Kubernetes.

It implements Fluid's Engine interface directly, as upstream's CacheEngine does. Each pass
resolves the runtime, its class and its Dataset into a Plan (plan.py, after validation.py),
renders the desired objects with pure functions (render/) and applies only those that differ
from the cached live objects (apply.py). Nothing is
"created if missing": every pass converges, so a change to the runtime, its class or its
Dataset reaches the workloads on the next reconcile, and a component the runtime disables, or
whose workload kind the class changes, loses its old workload.

UFS metadata has no meaning for a cache system known only by YAML, so no step asks for it: the
cache system mounts its under file systems itself, from the runtime config. Mounting (mountUFS)
and cache figures (reportSummary) come from the cache system when the class says how to ask for
them, in its execution entries (execution.py). Placement is upstream's: the class's pod
templates place the cache, the Dataset's placement and node affinity are added to the workers,
and the nodes they run on are labelled as the Dataset's cache nodes (render/placement.py).
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
from fluidpy.engines.base.nodes import CacheNodes, release_cache_nodes, remove_fuse_labels
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
from fluidpy.engines.cacheruntime.execution import (
    Executions,
    mount_ufs_entry,
    report_summary_entry,
)
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    COMPONENT_LABEL,
    COMPONENTS,
    CONFIGMAP,
    DAEMONSET,
    POD,
    RUNTIME_TYPE,
    SERVICE,
    WORKLOAD_KINDS,
    Component,
    pod_selector,
    target_path,
    workload_name,
)
from fluidpy.engines.cacheruntime.plan import ComponentPlan, Plan, make_plan, secret_options
from fluidpy.engines.cacheruntime.render.config import (
    config_text,
    render_config_map,
    render_extra_config_maps,
    runtime_config,
)
from fluidpy.engines.cacheruntime.render.placement import (
    cache_node_info,
    worker_cache_affinity,
    worker_nodes,
)
from fluidpy.engines.cacheruntime.render.services import render_headless_service
from fluidpy.engines.cacheruntime.render.status import (
    ComponentState,
    component_state,
    extra_config_maps_condition,
    master_ready,
    runtime_phase,
    unschedulable,
    workers_ready,
)
from fluidpy.engines.cacheruntime.render.topology import pod_configs, topology_complete
from fluidpy.engines.cacheruntime.render.workloads import render_workload
from fluidpy.engines.cacheruntime.steady import (
    Findings,
    PassReads,
    Settled,
    handed_versions,
    reads,
)
from fluidpy.engines.cacheruntime.validation import (
    check_class,
    check_dataset,
    check_plan,
    check_runtime_against_class,
    parse,
)

MOUNT_TYPE = "cache"
"""The PV's mount_type attribute: how Fluid's CSI plugin checks a FUSE mount is up."""

CONDITION_OF: dict[Component, str] = {
    "master": "MasterReady",
    "worker": "WorkersReady",
    "client": "ClientReady",
}
EXTRA_CONFIG_MAPS_CONDITION = "ExtraConfigMapsReady"
"""Whether the class's extra ConfigMaps are the runtime's (absent when the class has none)."""
NOT_OWNED_EVENT = "ExtraConfigMapNotOwned"


@dataclass
class _Pass:
    """What one reconcile pass has learned so far."""

    ctx: ReconcileRequestContext
    reads: PassReads
    """The pass's reads of the class, the owned objects and the pods (steady.py)."""
    versions: tuple[str, str]
    """The runtime's and the Dataset's resourceVersions as the pass was handed them."""
    plan: Plan
    workloads: dict[Component, dict[str, Any] | None] = field(default_factory=dict)
    """Each enabled component's workload as last applied or read in this pass."""

    def pods(self, component: Component | None = None) -> list[dict[str, Any]]:
        """The runtime's pods (of one component, when given), from one read per pass: the
        config, each component's readiness and the cache nodes look at the same pods."""
        pods = self.reads.list(POD, self.plan.namespace, pod_selector(self.plan.name))
        if component is None:
            return pods
        return [
            p for p in pods if (p["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component
        ]


class CacheRuntimeEngine(Engine):
    """One CacheRuntime's engine; the RuntimeReconciler keeps it between passes.

    Like upstream's CacheEngine it implements Engine itself: Fluid's 31 Implement steps mean
    nothing to a cache system known only by YAML, where a pass is "resolve the plan, converge
    every object, report status". The plan is made once per pass (by validate, the pass's first
    step) and dropped when the pass ends (sync done, or setup not ready or failing), so nothing
    of a pass outlives it: kept, it would cost tens of KiB per runtime between passes. What
    outlives it is the small record of the last pass that had nothing to do (steady.py), so
    that the next one, when nothing it reads has changed, need not plan at all.
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
        self._cache_nodes = CacheNodes()
        self._volume_generation: int | None = None
        self._executions = Executions(transport)
        self._settled: Settled | None = None
        """The last settled pass (steady.py), while nothing it read has changed."""
        self._quiet: ReconcileRequestContext | None = None
        """The pass under way, when validate found its inputs those of the settled pass."""

    def id(self) -> str:
        return self._id

    # The pass: parse, look up, validate, plan ------------------------------------------

    def _state(self, ctx: ReconcileRequestContext) -> _Pass:
        state = self._pass
        if state is None or state.ctx is not ctx:
            reads = PassReads(ctx.client, ctx.ctx)
            state = _Pass(ctx, reads, handed_versions(ctx), self._plan(ctx, reads))
            self._pass = state
        return state

    def _end_pass(self) -> None:
        self._pass = None
        self._quiet = None

    def _plan(self, ctx: ReconcileRequestContext, reads: PassReads) -> Plan:
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
        raw_class = reads.get(CLASS_GVK, class_name, None)
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
            info=self._info(ctx),
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
            # The Dataset's UID before its owner reference is set (adopt follows validate, and
            # the first pass already creates the client, whose node selector may need it).
            owner_dataset_uid=owner_dataset_uid(ctx.runtime)
            or str(((ctx.dataset or {}).get("metadata") or {}).get("uid") or ""),
            placement=placement_of(ctx.dataset),
            fuse_node_selector=dict(client_spec.get("nodeSelector") or {}),
        )

    # Converging objects ------------------------------------------------------------------

    def _converge_config(self, state: _Pass) -> bool:
        """The class's extra ConfigMaps and the runtime config; True when they already were as
        rendered (nothing written, nothing held)."""
        ctx, plan = state.ctx, state.plan
        foreign = []
        settled = True
        for desired in render_extra_config_maps(plan):
            live = state.reads.get(CONFIGMAP, desired["metadata"]["name"], plan.namespace)
            if live is not None and not self._controlled(ctx, live):
                foreign.append(desired["metadata"]["name"])
                continue
            _, wrote = self._applier.ensure(ctx.client, desired, live, ctx.ctx)
            settled &= not wrote
        _report_extra_config_maps(ctx, plan, foreign)
        topology = pod_configs(state.pods())
        desired = render_config_map(plan, config_text(runtime_config(plan, topology)))
        live = state.reads.get(CONFIGMAP, plan.config_map, plan.namespace)
        if live is not None:
            check_name_free(CONFIGMAP, desired, live)
        wanted: dict[str, int | None] = {c.component: c.replicas for c in plan.enabled()}
        complete = topology_complete(topology, wanted)
        self.config_writer.submit(ctx.client, desired, live, ctx.ctx, complete=complete)
        return settled and live is not None and live.get("data") == desired["data"]

    def _converge_component(self, state: _Pass, component: ComponentPlan) -> bool:
        """Apply the component's workload and Service, remove what it no longer has; True when
        anything was written."""
        ctx, plan = state.ctx, state.plan
        ns = plan.namespace
        changed = False
        for kind, gvk in WORKLOAD_KINDS.items():
            if not component.enabled or kind != component.kind:
                changed |= self._remove(ctx, gvk, state.reads.get(gvk, component.workload, ns))
        service = state.reads.get(SERVICE, component.workload, ns)
        if not component.headless:
            changed |= self._remove(ctx, SERVICE, service)
        if not component.enabled:
            state.workloads.pop(component.component, None)
            return changed
        if component.headless:
            desired_service = render_headless_service(plan, component)
            _, wrote = self._applier.ensure(ctx.client, desired_service, service, ctx.ctx)
            changed |= wrote
        desired = render_workload(plan, component)
        gvk = WORKLOAD_KINDS[component.kind]
        live = state.reads.get(gvk, component.workload, ns)
        if self._replace_if_immutable_changed(ctx, desired, live):
            changed = True
            live = ctx.client.get(gvk, component.workload, ns, ctx=ctx.ctx)
        workload, wrote = self._applier.ensure(ctx.client, desired, live, ctx.ctx)
        state.workloads[component.component] = workload
        return changed or wrote

    def _replace_if_immutable_changed(
        self, ctx: ReconcileRequestContext, desired: dict[str, Any], live: dict[str, Any] | None
    ) -> bool:
        """A StatefulSet's serviceName cannot change; a class that adds or drops the headless
        Service gets a new StatefulSet (its pods are recreated under the new name)."""
        if desired["kind"] != "StatefulSet" or live is None or not self._controlled(ctx, live):
            return False
        if (live.get("spec") or {}).get("serviceName", "") == desired["spec"].get(
            "serviceName", ""
        ):
            return False
        name = desired["metadata"]["name"]
        ctx.log.info("replacing", object=f"StatefulSet {name}", because="serviceName changed")
        return self._remove(ctx, GVK.of_object(desired), live)

    def _remove(self, ctx: ReconcileRequestContext, gvk: GVK, live: dict[str, Any] | None) -> bool:
        """Delete `live` (as read in this pass) when it is the runtime's."""
        if live is None or not self._controlled(ctx, live):
            return False
        name = live["metadata"]["name"]
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
            workload = state.reads.get(gvk, component.workload, state.plan.namespace)
            state.workloads[component.component] = workload
        if workload is not None and workload.get("kind") != component.kind:
            workload = None
        return component_state(
            workload,
            component.replicas,
            client=component.component == "client",
            pods=state.pods(component.component),
        )

    def _unschedulable(
        self, state: _Pass, component: ComponentPlan, current: ComponentState
    ) -> str:
        """Why pods are missing, when the scheduler says (read only while some are)."""
        if current.ready >= current.desired:
            return ""
        return unschedulable(state.pods(component.component))

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
        return master, workers

    # Placement -------------------------------------------------------------------------------

    @staticmethod
    def _record_cache_affinity(state: _Pass) -> None:
        """`status.cacheAffinity`: where the workers may run, for applications and the FUSE
        client to land near the cache."""
        status = state.ctx.runtime_status
        if not state.plan.component("worker").enabled:
            status.pop("cacheAffinity", None)
            return
        affinity = worker_cache_affinity(state.workloads.get("worker"))
        if affinity:
            status["cacheAffinity"] = affinity

    def _label_cache_nodes(self, state: _Pass) -> bool:
        """Label the nodes the workers run on as the Dataset's cache nodes and unlabel the nodes
        they left (Fluid's scheduler plugins and webhook read these labels); False when they
        already were (no node read or written)."""
        plan = state.plan
        desired = worker_nodes(plan.component("worker"), state.pods("worker"))
        info = cache_node_info(plan)
        if not state.ctx.runtime.get("status"):
            self._cache_nodes.start_unlabelled(info)
        return self._cache_nodes.converge(state.ctx, info, desired)

    # Engine ----------------------------------------------------------------------------------
    #
    # Setup runs until the Dataset is bound to this runtime; from then on it answers "ready" at
    # once and sync converges everything and watches health. The RuntimeReconciler calls setup
    # on every pass, so this is what keeps a bound runtime whose master restarts from being
    # "set up" again.

    def validate(self, ctx: ReconcileRequestContext) -> None:
        """Resolve and check the runtime, its class, its Dataset and Secrets (see _plan); not
        when they and everything else the pass reads are as the last settled pass read them
        (steady.py): they passed then, and the pass has nothing to converge."""
        self._quiet = ctx if self._still_settled(ctx) else None
        if self._quiet is None:
            self._state(ctx)

    def _still_settled(self, ctx: ReconcileRequestContext) -> bool:
        settled = self._settled
        if settled is None:
            return False
        if settled.holds(ctx) and all(
            _exists(ctx.client, SECRET, secret, ctx.namespace, ctx) for secret in settled.secrets
        ):
            return True
        self._settled = None
        return False

    def setup(self, ctx: ReconcileRequestContext) -> bool:
        """The runtime config, then every enabled component at once, as upstream's CacheRuntime
        engine does (the cache system's own scripts wait for their peers, so the workers need
        not wait a master start-up time); bind once the master and the workers are ready and the
        class's mountUFS, if it has one, succeeded. The workers' nodes are labelled as cache
        nodes as soon as the workers are placed (upstream labels them after binding): the pass
        that binds, which every runtime waits on, then writes nothing to nodes, and a Dataset
        is never Bound before its cache nodes say where it is."""
        if _bound(ctx):
            return True
        ready = False
        try:
            state = self._state(ctx)
            self._converge_config(state)
            self._converge(state, ("master", "worker", "client"))
            master, workers = self._update_status(state)
            self._label_cache_nodes(state)
            if master_ready(master) and workers_ready(workers):
                self._executions.mount_before_binding(ctx, mount_ufs_entry(state.plan))
                self._bind(ctx)
                self._executions.report_at_binding(ctx, report_summary_entry(state.plan))
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
        record the Dataset's mounts as applied (the runtime config already carries them). A
        pass whose reads are those of the last settled pass converges nothing: it would write
        nothing and change no status (steady.py), so it goes straight to what runs on every
        pass, from what the settled pass found."""
        try:
            if self._quiet is ctx and self._settled is not None:
                found = self._settled.found
            else:
                state = self._state(ctx)
                quiet = self._converge_config(state)
                changed = self._converge(state, COMPONENTS)
                master, workers = self._update_status(state)
                self._record_cache_affinity(state)
                quiet &= not self._label_cache_nodes(state)
                if changed:
                    return None
                plan = state.plan
                found = Findings(master, workers, mount_ufs_entry(plan), report_summary_entry(plan))
                self._settled = self._settle(state, found, quiet=quiet)
            self._check_health(ctx, found.master, found.workers)
            self._executions.sync_mounts(ctx, found.mount_ufs)
            return self._executions.refresh_figures(ctx, found.report_summary)
        finally:
            self._end_pass()

    def _settle(self, state: _Pass, found: Findings, *, quiet: bool) -> Settled | None:
        """The record of this pass, which changed nothing, when it also wrote, held and left
        waiting nothing (`quiet`, and no apply awaiting the cache), changed no status and its
        reads stand for it (steady.PassReads.digest); else None."""
        ctx, plan = state.ctx, state.plan
        unchanged = ctx.runtime_status == (ctx.runtime.get("status") or {}) and (
            ctx.dataset is None or ctx.dataset_status == (ctx.dataset.get("status") or {})
        )
        if not (quiet and unchanged and self._applier.settled):
            return None
        extra = tuple(item["name"] for item in plan.extra_config_maps)
        every = reads(plan.namespace, plan.name, plan.class_name, extra)
        digest = state.reads.digest(ctx.client, *state.versions, every)
        if digest is None:
            return None
        mounts_secrets = any(component.mounts_secrets for component in plan.enabled())
        return Settled(digest, extra, plan.secrets if mounts_secrets else (), found)

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
        generation = self._client_generation(ctx)
        if (
            self._volume_created
            and generation == self._volume_generation
            and not _cached(ctx.client, PV, PVC)
        ):
            return
        create_volume(
            ctx,
            self._info(ctx),
            fuse_path=target_path(ctx.mount_root, ctx.namespace, ctx.name),
            mount_type=MOUNT_TYPE,
            fuse_generation=generation,
        )
        self._volume_created = True
        self._volume_generation = generation

    def _client_generation(self, ctx: ReconcileRequestContext) -> int | None:
        """The client DaemonSet's metadata.generation, for the PVC's label; None when the
        runtime runs no client DaemonSet of its own. The pass that binds has just applied it,
        and the cache may not hold that yet: its answer would create the PVC without the label
        and cost a patch in the next pass."""
        state = self._pass
        if state is not None and state.ctx is ctx and "client" in state.workloads:
            daemonset = state.workloads["client"]
        else:
            name = workload_name(ctx.name, "client")
            daemonset = ctx.client.get(DAEMONSET, name, ctx.namespace, ctx=ctx.ctx)
        if (
            daemonset is None
            or daemonset.get("kind") != DAEMONSET.kind
            or not self._controlled(ctx, daemonset)
        ):
            return None
        generation = daemonset["metadata"].get("generation")
        return int(generation) if generation is not None else None

    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        self._volume_created = False
        delete_volume(ctx, self._info(ctx))

    def shutdown(self, ctx: ReconcileRequestContext) -> None:
        """Clean what owner references do not: the held config write, the dependency record,
        the cache node labels and the FUSE label Fluid's CSI plugin put on nodes."""
        self._end_pass()
        self.config_writer.cancel()
        self._dependents.forget(ctx.namespace, ctx.name)
        info = self._info(ctx)
        release_cache_nodes(ctx, info)
        if serves_dataset(ctx, RUNTIME_TYPE):
            # Otherwise the Dataset's clients are another runtime's: its FUSE label stays.
            remove_fuse_labels(ctx, info)

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


def _report_extra_config_maps(ctx: ReconcileRequestContext, plan: Plan, foreign: list[str]) -> None:
    """The extra ConfigMaps' condition; a Warning event and a log line when it turns to naming
    ConfigMaps that are not the runtime's."""
    condition = extra_config_maps_condition(plan, foreign)
    if condition is None:
        remove_condition(ctx.runtime_status, EXTRA_CONFIG_MAPS_CONDITION)
        return
    ours, reason, message = condition
    changed = set_condition(ctx.runtime_status, EXTRA_CONFIG_MAPS_CONDITION, ours, reason, message)
    if changed and not ours:
        ctx.log.warning(message, reason=NOT_OWNED_EVENT)
        ctx.event("Warning", NOT_OWNED_EVENT, message)


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

"""The Implement of every master/worker/FUSE cache system (Alluxio-like, Jindo-like, ...).

Such systems differ in what they run and how their CLI talks, and in nothing else: a master
StatefulSet, a worker StatefulSet, a FUSE DaemonSet and some config maps, a CLI in the master
pod that mounts under file systems and reports usage. So a concrete engine supplies
`render` (its objects, from a pure function), `cli` (its commands and parsers) and a few facts
(its runtime type, its FUSE mount), and this class does the rest, the same way for all:

- objects are applied with server-side apply, skipped when their render hash has not changed;
- status comes from the workloads (engines.base.components), written into the pass's working
  copies only;
- slow CLI queries (cache usage, file counts) run as background `Probe`s, never on the
  reconcile thread beyond a short wait;
- shutdown frees the cache with bounded retries, unlabels the nodes and deletes what it made.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from fluidpy.api.v1alpha1.common import CleanCachePolicy, TieredStore
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.client import GVK
from fluidpy.engines.base import nodes, ownership, status, volume
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.errors import EngineError
from fluidpy.engines.base.exec import (
    ExecError,
    KubernetesExec,
    PodExec,
    PodTarget,
    UnexpectedOutput,
)
from fluidpy.engines.base.interfaces import Implement, UFSToUpdate
from fluidpy.engines.base.models import parse_model
from fluidpy.engines.base.mounts import mount_path
from fluidpy.engines.base.placement import cache_affinity
from fluidpy.engines.base.runtime_info import RuntimeInfo, owner_dataset_uid, placement_of
from fluidpy.engines.base.template import TemplateEngine
from fluidpy.engines.base.units import bytes_size, parse_human_bytes, percentage
from fluidpy.engines.masterworker import components
from fluidpy.engines.masterworker.cache_system import (
    DEFAULT_WORKERS,
    CacheCLI,
    CacheUsage,
    UfsUsage,
    Workloads,
)
from fluidpy.engines.masterworker.layout import MASTER, Layout
from fluidpy.engines.masterworker.probe import CALCULATING, Outcome, Probe
from fluidpy.engines.masterworker.renderer import Images, WorkloadRenderer
from fluidpy.engines.masterworker.rendering import render_hash
from fluidpy.engines.masterworker.tieredstore import tiered_store_levels
from fluidpy.engines.masterworker.ufs import UfsMount, dataset_mounts, ufs_changes

STATEFULSET = GVK("apps", "v1", "StatefulSet")
DAEMONSET = GVK("apps", "v1", "DaemonSet")
SERVICE = GVK("", "v1", "Service")
CONFIGMAP = GVK("", "v1", "ConfigMap")
POD = GVK("", "v1", "Pod")
OWNED_KINDS = (DAEMONSET, STATEFULSET, SERVICE, CONFIGMAP)
"""What the engine creates, in the order shutdown deletes it (clients before servers)."""

PROBE_WAIT = 0.5
"""Seconds a reconcile waits for a probe it just started (upstream's 500 ms): fast answers land
in the same pass, slow ones in a later pass."""
IGNORED_CONDITION = "SpecFieldsIgnored"

CACHED = "cached"
CACHE_CAPACITY = "cacheCapacity"
CACHED_PERCENTAGE = "cachedPercentage"


@dataclass
class Memory:
    """What a Master/Worker engine keeps between passes, and only that, as upstream's engines
    do: its CLI and probes, the latest runtime spec, the nodes it labelled, its cache-free
    attempts and whether its volume exists. Each pass's MasterWorkerEngine shares one."""

    spec: dict[str, Any]
    cli: CacheCLI = field(init=False)
    images: Images = field(init=False)
    usage: Probe[CacheUsage] = field(init=False)
    metadata: Probe[UfsUsage] = field(init=False)
    mount_paths: tuple[str, ...] = ()
    cache_nodes: nodes.CacheNodes = field(default_factory=nodes.CacheNodes)
    free_attempts: int = 0
    cache_released: bool = False
    volume_created: bool = False


class MasterWorkerEngine(Implement):
    """Implement for a cache system with a master, workers and FUSE clients.

    Subclasses set the class facts and implement the abstract hooks. One is built per step of
    a pass with that pass's context and the runtime's `Memory`; everything but the memory is
    read from the context.
    """

    runtime_type: ClassVar[str]
    """Upstream's runtime type: names node labels and the FUSE mount path."""
    mount_type: ClassVar[str]
    """The PersistentVolume's mount_type attribute, which Fluid's CSI plugin reads."""
    renderer: ClassVar[type[WorkloadRenderer[Any, Any]]]
    """Renders every object of the runtime (a pure function of its inputs)."""
    image_variables: ClassVar[tuple[str, str]]
    """Upstream's variables overriding the renderer's default runtime and FUSE images."""

    def __init__(self, ctx: ReconcileRequestContext, memory: Memory) -> None:
        self.ctx = ctx
        self.memory = memory
        memory.spec = ctx.spec
        self.layout = Layout(ctx.name, ctx.namespace, self.renderer.app)
        self.cli = memory.cli
        self.images = memory.images

    @classmethod
    def remember(cls, ctx: ReconcileRequestContext, transport: PodExec) -> Memory:
        """What the engine of runtime ctx.namespace/ctx.name keeps between passes: its CLI on
        the master pod and its probes, paced by the manager's sync interval."""
        layout = Layout(ctx.name, ctx.namespace, cls.renderer.app)
        target = PodTarget(
            transport, ctx.namespace, layout.master_pod(), cls.renderer.master_container()
        )
        memory = Memory(spec=ctx.spec)
        cli = cls.make_cli(target, lambda: memory.spec)
        interval = ctx.options.sync_interval
        memory.cli = cli
        memory.images = cls.renderer.default_images.overridden(
            ctx.options.image_variables, *cls.image_variables
        )
        memory.usage = Probe(f"{ctx.namespace}/{ctx.name}/usage", cli.usage, interval=interval)
        memory.metadata = Probe(
            f"{ctx.namespace}/{ctx.name}/metadata",
            lambda probe_ctx: cli.count(probe_ctx, memory.mount_paths),
            interval=interval,
        )
        return memory

    # Hooks ---------------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def make_cli(cls, target: PodTarget, latest_spec: Callable[[], dict[str, Any]]) -> CacheCLI:
        """The cache system's CLI on the master pod; `latest_spec` gives the runtime spec of
        the latest pass, for CLIs whose parsing depends on it."""

    @abstractmethod
    def runtime(self) -> Any:
        """The runtime, parsed into its model."""

    def render(self, info: RuntimeInfo) -> Workloads:
        """Every object of the runtime, from the current runtime and Dataset."""
        return self.renderer.render(
            self.runtime(),
            self.dataset_spec(),
            info,
            owner=self.ctx.owner_reference,
            mount_root=self.ctx.mount_root,
            images=self.images,
        )

    @abstractmethod
    def ufs_mounts(self) -> list[UfsMount]:
        """The Dataset's mounts as the CLI mounts them (engines differ on native mounts and
        on where credentials go)."""

    @abstractmethod
    def hcfs_endpoint(self) -> str:
        """The URL Hadoop-compatible clients use (Dataset status.hcfs.endpoint)."""

    @abstractmethod
    def ignored_fields(self) -> list[str]:
        """Spec fields that are set but not acted on, for the SpecFieldsIgnored condition."""

    @abstractmethod
    def clean_cache_policy(self) -> CleanCachePolicy: ...

    def validate_spec(self) -> None:
        """Engine-specific checks of the runtime spec; raise ValidationError."""

    def metadata_sync_enabled(self) -> bool:
        """Whether ufsTotal and fileNum are computed (upstream's metadataSyncPolicy.autoSync)."""
        return True

    # Shared helpers ------------------------------------------------------------------------

    def info(self) -> RuntimeInfo:
        spec = self.ctx.spec
        return RuntimeInfo(
            name=self.ctx.name,
            namespace=self.ctx.namespace,
            runtime_type=self.runtime_type,
            owner_dataset_uid=owner_dataset_uid(self.ctx.runtime),
            placement=placement_of(self.ctx.dataset),
            tiered_store=tiered_store_levels(self._tieredstore()),
            fuse_node_selector=dict((spec.get("fuse") or {}).get("nodeSelector") or {}),
        )

    def _tieredstore(self) -> TieredStore | None:
        raw = self.ctx.spec.get("tieredstore")
        return parse_model(TieredStore, raw, "spec.tieredstore") if raw else None

    def dataset_spec(self) -> DatasetSpec:
        return parse_model(DatasetSpec, self.ctx.dataset_spec, "Dataset spec")

    def wanted_workers(self) -> int:
        replicas = self.ctx.spec.get("replicas")
        return DEFAULT_WORKERS if replicas is None else int(replicas)

    def _get(self, gvk: GVK, name: str) -> dict[str, Any] | None:
        return self.ctx.client.get(gvk, name, self.ctx.namespace, ctx=self.ctx.ctx)

    def _master_pod(self) -> dict[str, Any] | None:
        """Listed by the master's labels, not read by name: the cache holds the engine's pods
        only, so a get by name would ask the API server."""
        name = self.layout.master_pod()
        pods = self.ctx.client.list(
            POD,
            self.ctx.namespace,
            label_selector=self.layout.selector_text(MASTER),
            ctx=self.ctx.ctx,
        )
        return next((pod for pod in pods if pod["metadata"]["name"] == name), None)

    def _apply(self, objects: Sequence[dict[str, Any]]) -> bool:
        """Apply each object whose render hash differs from the live one's; True when any was.
        An object of the same name that is not this runtime's stops the pass (NameConflict)."""
        changed = False
        for obj in objects:
            gvk = GVK.of_object(obj)
            live = self._get(gvk, obj["metadata"]["name"])
            if live is not None:
                ownership.check_name_free(gvk, obj, live)
                if render_hash(live) == render_hash(obj):
                    continue
            ownership.apply_owned(self.ctx.client, obj, live, self.ctx.ctx)
            if live is None:
                self.ctx.log.info("created", object=f"{obj['kind']} {obj['metadata']['name']}")
            changed = True
        return changed

    def _workloads(self) -> Workloads:
        return self.render(self.info())

    @property
    def _status(self) -> dict[str, Any]:
        return self.ctx.runtime_status

    # Setup ---------------------------------------------------------------------------------

    def validate(self, ctx: ReconcileRequestContext) -> None:
        self.info()
        dataset_mounts(self.dataset_spec())
        self.validate_spec()
        ignored = self.ignored_fields()
        if ignored:
            status.set_condition(
                ctx.runtime_status,
                IGNORED_CONDITION,
                True,
                "NotSupported",
                f"Kept but not acted on by this controller: {', '.join(ignored)}.",
            )
        else:
            status.remove_condition(ctx.runtime_status, IGNORED_CONDITION)

    def should_setup_master(self) -> bool:
        """Before the first setup, and whenever the master StatefulSet has gone missing."""
        missing = self._get(STATEFULSET, self.layout.master) is None
        return not self._status.get("masterPhase") or missing

    def setup_master(self) -> None:
        workloads = self._workloads()
        self._apply(workloads.for_master())
        components.initialize_master(self._status)
        self._status["selector"] = self.layout.worker_selector
        self._status["valueFile"] = workloads.value_file

    def check_master_ready(self) -> bool:
        ready = components.sync_master_status(
            self._status, self._get(STATEFULSET, self.layout.master)
        )
        return ready or self._lost_readiness()

    def _lost_readiness(self) -> bool:
        """Setup runs on every pass, so a runtime that was bound and stops being ready is
        found here: its Dataset becomes Failed until it recovers (upstream's health check)."""
        if (self.ctx.dataset_status or {}).get("phase") == status.DATASET_BOUND:
            self.update_dataset_status(status.DATASET_FAILED)
        return False

    def should_check_ufs(self) -> bool:
        return not self._status.get("mountTime")

    def prepare_ufs(self) -> None:
        """Mount every under file system the cache does not have yet, and remember which."""
        mounted = self.cli.mounted(self.ctx.ctx)
        for mount in self.ufs_mounts():
            if mount.path not in mounted:
                self.cli.mount(self.ctx.ctx, mount)
        self._status["mountTime"] = status.now()
        self._record_applied_mounts()

    def _record_applied_mounts(self) -> None:
        if self.ctx.dataset_status is not None:
            self.ctx.dataset_status["mounts"] = copy.deepcopy(
                self.ctx.dataset_spec.get("mounts") or []
            )

    def should_setup_workers(self) -> bool:
        missing = self._get(STATEFULSET, self.layout.workers) is None
        return not self._status.get("workerPhase") or missing

    def setup_workers(self) -> None:
        self._apply([self._workloads().workers])
        components.initialize_workers(self._status)

    def check_workers_ready(self) -> bool:
        ready = components.sync_worker_status(
            self._status, self._get(STATEFULSET, self.layout.workers)
        )
        return ready or self._lost_readiness()

    def check_and_update_runtime_status(self) -> bool:
        master = self._get(STATEFULSET, self.layout.master)
        workers = self._get(STATEFULSET, self.layout.workers)
        ready = components.sync_master_status(self._status, master)
        ready = components.sync_worker_status(self._status, workers) and ready
        components.sync_fuse_status(self._status, self._get(DAEMONSET, self.layout.fuse))
        node_affinity = _node_affinity(workers)
        if node_affinity:
            self._status["cacheAffinity"] = node_affinity
        if ready:
            self._update_cache_states()
            if not self._status.get("setupDuration"):
                self._status["setupDuration"] = _since(self.ctx.runtime)
        return ready

    def bind_to_dataset(self) -> None:
        self.update_dataset_status(status.DATASET_BOUND)

    def update_dataset_status(self, phase: str) -> None:
        dataset_status = self.ctx.dataset_status
        if dataset_status is None:
            return
        applied = dataset_status.get("mounts")
        status.set_dataset_phase(self.ctx, phase, self.runtime_type)
        if applied is not None:
            # Binding copies spec.mounts; status.mounts must keep saying what was mounted, or
            # should_update_ufs could never see a mount added to the spec.
            dataset_status["mounts"] = applied
        if phase == status.DATASET_BOUND and not (dataset_status.get("hcfs") or {}).get("endpoint"):
            dataset_status["hcfs"] = {"endpoint": self.hcfs_endpoint()}

    # Cache states and metadata (background probes) -------------------------------------------

    def _update_cache_states(self) -> None:
        self.memory.usage.start()
        outcome = self.memory.usage.latest or self.memory.usage.wait(PROBE_WAIT)
        states: dict[str, str] = dict(self._status.get("cacheStates") or {})
        if outcome is None:
            for key in (CACHE_CAPACITY, CACHED, CACHED_PERCENTAGE):
                states.setdefault(key, CALCULATING)
        elif outcome.value is not None:
            states.update(self._cache_states(outcome.value))
        self._status["cacheStates"] = states

    def _cache_states(self, usage: CacheUsage) -> dict[str, str]:
        states = {
            CACHE_CAPACITY: bytes_size(usage.capacity),
            CACHED: bytes_size(usage.cached),
            **usage.extra,
        }
        total = self._ufs_total_bytes()
        if total is not None:
            states[CACHED_PERCENTAGE] = percentage(usage.cached, total)
        else:
            states[CACHED_PERCENTAGE] = CALCULATING if self.metadata_sync_enabled() else ""
        return states

    def _ufs_total_bytes(self) -> int | None:
        outcome = self.memory.metadata.latest
        if outcome is not None and outcome.value is not None:
            return outcome.value.total_bytes
        text = ((self.ctx.dataset_status or {}).get("ufsTotal") or "").strip()
        try:
            return parse_human_bytes(text) if text and text != CALCULATING else None
        except ValueError:
            return None

    def sync_metadata(self) -> None:
        dataset_status = self.ctx.dataset_status
        if dataset_status is None or not self.metadata_sync_enabled():
            return
        known = {dataset_status.get("ufsTotal"), dataset_status.get("fileNum")}
        if not known & {None, "", CALCULATING}:
            return
        self.memory.mount_paths = tuple(mount_path(m) for m in dataset_mounts(self.dataset_spec()))
        self.memory.metadata.start()
        outcome = self.memory.metadata.latest or self.memory.metadata.wait(PROBE_WAIT)
        self._write_metadata(dataset_status, outcome)

    def _write_metadata(
        self, dataset_status: dict[str, Any], outcome: Outcome[UfsUsage] | None
    ) -> None:
        if outcome is not None and outcome.value is not None:
            dataset_status["ufsTotal"] = bytes_size(outcome.value.total_bytes)
            dataset_status["fileNum"] = str(outcome.value.files)
            return
        dataset_status["ufsTotal"] = CALCULATING
        dataset_status["fileNum"] = CALCULATING
        if outcome is not None:
            self.ctx.event(
                "Warning",
                "MetadataSyncFailed",
                f"counting the dataset's files failed, retrying later: {outcome.error}",
            )
            self.memory.metadata.reset()

    # Sync ----------------------------------------------------------------------------------

    def sync_replicas(self, ctx: ReconcileRequestContext) -> None:
        workers = self._get(STATEFULSET, self.layout.workers)
        wanted = self.wanted_workers()
        current = int(((workers or {}).get("spec") or {}).get("replicas") or 0)
        if workers is not None and current != wanted:
            message = components.record_scaling(self._status, current, wanted)
            if message:
                ctx.event("Normal", "Succeed", message)
        if workers is None or current != wanted:
            self._apply([self._workloads().workers])

    def sync_runtime(self, ctx: ReconcileRequestContext) -> bool:
        return self._apply(self._workloads().all())

    def check_runtime_healthy(self) -> None:
        master = self._get(STATEFULSET, self.layout.master)
        if not components.sync_master_status(self._status, master):
            self._fail(f"not every master replica is ready (StatefulSet {self.layout.master})")
        if not components.sync_worker_status(
            self._status, self._get(STATEFULSET, self.layout.workers)
        ):
            self._fail(f"no worker is ready (StatefulSet {self.layout.workers})")
        components.sync_fuse_status(self._status, self._get(DAEMONSET, self.layout.fuse))
        self.update_dataset_status(status.DATASET_BOUND)

    def _fail(self, problem: str) -> None:
        self.update_dataset_status(status.DATASET_FAILED)
        raise EngineError(
            f"the runtime is unhealthy: {problem}; the Dataset is Failed until it recovers",
            reason="RuntimeUnhealthy",
        )

    def update_cache_of_dataset(self) -> None:
        dataset_status = self.ctx.dataset_status
        if dataset_status is None:
            return
        dataset_status["cacheStates"] = dict(self._status.get("cacheStates") or {})

    def should_sync_dataset_mounts(self) -> bool:
        """True when the master restarted after the mounts were made (they may be lost)."""
        mount_time = self._status.get("mountTime")
        pod = self._master_pod()
        started = _container_started(pod, self.renderer.master_container())
        return bool(mount_time and started and started > mount_time)

    def sync_dataset_mounts(self) -> None:
        self.prepare_ufs()

    def should_update_ufs(self) -> UFSToUpdate | None:
        dataset_status = self.ctx.dataset_status
        if dataset_status is None or dataset_status.get("mounts") is None:
            return None
        spec = self.dataset_spec()
        applied = parse_model(DatasetSpec, {"mounts": dataset_status["mounts"] or None}, "mounts")
        return ufs_changes(spec.mounts or [], applied.mounts or [])

    def update_on_ufs_change(self, to_update: UFSToUpdate) -> bool:
        """Mount what the Dataset gained and unmount what it lost. The root mount is a master
        property, not a CLI mount, so it changes only when the master restarts. Should a mount
        fail, the Dataset shows Updating with the reason until a later pass succeeds."""
        dataset_status = self.ctx.dataset_status
        if dataset_status is None:
            return False
        status.set_dataset_phase(self.ctx, "Updating", self.runtime_type)
        status.set_condition(
            dataset_status,
            "Updating",
            True,
            "DatasetUpdating",
            "The runtime is updating the dataset's mounts.",
            probe_field="lastUpdateTime",
        )
        wanted = {m.path: m for m in self.ufs_mounts()}
        for path in to_update.to_remove:
            if path != "/":
                self.cli.unmount(self.ctx.ctx, path)
        for path in to_update.to_add:
            if path in wanted:
                self.cli.mount(self.ctx.ctx, wanted[path])
        status.remove_condition(dataset_status, "Updating")
        self._record_applied_mounts()
        self._status["mountTime"] = status.now()
        self.memory.metadata.reset()
        dataset_status["ufsTotal"] = CALCULATING
        dataset_status["fileNum"] = CALCULATING
        return True

    def sync_schedule_info_to_cache_nodes(self) -> None:
        """Label the nodes running workers as cache nodes, unlabel nodes that no longer do.

        The labelled set is remembered, so a steady runtime costs no node request; it is read
        from the API once per engine (after a manager restart, say)."""
        info = self.info()
        pods = self.ctx.client.list(
            POD, self.ctx.namespace, label_selector=self.layout.worker_selector, ctx=self.ctx.ctx
        )
        self.memory.cache_nodes.converge(self.ctx, info, nodes.scheduled_nodes(pods))

    def assign_nodes_to_cache(self, desired: int) -> int:
        """How many of `desired` workers could be placed: schedulable nodes that match the
        workers' node selector and are not held exclusively by another Dataset."""
        info = self.info()
        selector = dict(((self.ctx.spec.get("worker") or {}).get("nodeSelector")) or {})
        candidates = 0
        for node in self.ctx.client.list(nodes.NODE, ctx=self.ctx.ctx):
            labels = node["metadata"].get("labels") or {}
            if (node.get("spec") or {}).get("unschedulable"):
                continue
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            holder = labels.get(nodes.EXCLUSIVE_LABEL)
            if holder and holder != info.exclusive_label_value:
                continue
            candidates += 1
        return min(desired, candidates)

    # Volumes -------------------------------------------------------------------------------

    def create_volume(self, ctx: ReconcileRequestContext) -> None:
        """Create the PV and PVC once per engine: they are not cached, so checking them on
        every pass would cost two API reads per pass of a bound runtime."""
        if self.memory.volume_created:
            return
        info = self.info()
        fuse_path = info.fuse_mount_path(ctx.mount_root, self.renderer.fuse_directory())
        volume.create_volume(ctx, info, fuse_path=fuse_path, mount_type=self.mount_type)
        self.memory.volume_created = True

    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        volume.delete_volume(ctx, self._naming_info())

    def _naming_info(self) -> RuntimeInfo:
        """Enough of RuntimeInfo to name things and labels, even while the Dataset is gone
        or the spec is invalid (deletion must never depend on either)."""
        return RuntimeInfo(
            name=self.ctx.name,
            namespace=self.ctx.namespace,
            runtime_type=self.runtime_type,
            owner_dataset_uid=owner_dataset_uid(self.ctx.runtime),
            placement=placement_of(self.ctx.dataset),
        )

    # Capacity (UnderFileSystemService) ------------------------------------------------------

    def _known(self, probe: Probe[Any], what: str) -> Any:
        outcome = probe.latest
        if outcome is None or outcome.value is None:
            raise EngineError(
                f"the {what} of {self.ctx.namespace}/{self.ctx.name} is not known yet"
            )
        return outcome.value

    def used_storage_bytes(self) -> int:
        usage: CacheUsage = self._known(self.memory.usage, "cache usage")
        return usage.cached

    def free_storage_bytes(self) -> int:
        usage: CacheUsage = self._known(self.memory.usage, "cache usage")
        return max(usage.capacity - usage.cached, 0)

    def total_storage_bytes(self) -> int:
        ufs: UfsUsage = self._known(self.memory.metadata, "under file system size")
        return ufs.total_bytes

    def total_file_nums(self) -> int:
        ufs: UfsUsage = self._known(self.memory.metadata, "under file system file count")
        return ufs.files

    def check_runtime_ready(self) -> bool:
        try:
            self.cli.check_ready(self.ctx.ctx)
        except (ExecError, UnexpectedOutput):
            return False
        return True

    # Shutdown ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Free the cache, unlabel the nodes, delete what the engine made; safe to repeat."""
        self.memory.usage.stop()
        self.memory.metadata.stop()
        self._free_cache()
        info = self._naming_info()
        nodes.release_cache_nodes(self.ctx, info)
        if ownership.serves_dataset(self.ctx, self.runtime_type):
            nodes.remove_fuse_labels(self.ctx, info)
        self._delete_owned()

    def _free_cache(self) -> None:
        """One attempt per pass, at most `maxRetryAttempts`: an attempt frees the cache and
        checks that nothing stays cached. A failed attempt raises, so the reconciler retries
        with backoff; after the last one a Warning event says the cache was not freed, and
        deletion goes on (a cache that cannot be freed must not keep a runtime forever)."""
        if self.memory.cache_released:
            return
        master = self._get(STATEFULSET, self.layout.master)
        if master is None or not int((master.get("status") or {}).get("readyReplicas") or 0):
            self.memory.cache_released = True
            return
        policy = self.clean_cache_policy()
        attempts = max(policy.max_retry_attempts, 1)
        try:
            self.cli.free(self.ctx.ctx, float(policy.grace_period_seconds))
            left = self.cli.usage(self.ctx.ctx).cached
        except (ExecError, UnexpectedOutput) as error:
            problem = str(error)
        else:
            if left == 0:
                self.memory.cache_released = True
                self.ctx.event("Normal", "CacheFreed", "The cache was freed.")
                return
            problem = f"{bytes_size(left)} still cached"
        self.memory.free_attempts += 1
        if self.memory.free_attempts >= attempts:
            self.memory.cache_released = True
            self.ctx.event(
                "Warning",
                "CacheNotFreed",
                f"gave up freeing the cache after {self.memory.free_attempts} attempt(s) "
                f"(cleanCachePolicy.maxRetryAttempts): {problem}; deleting the runtime anyway",
            )
            return
        raise EngineError(
            f"freeing the cache, attempt {self.memory.free_attempts} of {attempts}: {problem}",
            reason="FreeingCache",
        )

    def _delete_owned(self) -> None:
        uid = self.ctx.runtime["metadata"]["uid"]
        for gvk in OWNED_KINDS:
            for obj in self.ctx.client.list(gvk, self.ctx.namespace, ctx=self.ctx.ctx):
                owners = obj["metadata"].get("ownerReferences") or []
                if any(o.get("uid") == uid and o.get("controller") for o in owners):
                    self.ctx.client.delete(
                        gvk, obj["metadata"]["name"], self.ctx.namespace, ctx=self.ctx.ctx
                    )


def _since(runtime: dict[str, Any]) -> str:
    """Time from the runtime's creation to now, rounded to seconds, Go duration style."""
    created = runtime["metadata"].get("creationTimestamp")
    if not created:
        return ""
    start = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    seconds = max(int((datetime.now(UTC) - start).total_seconds()), 0)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def _container_started(pod: dict[str, Any] | None, container: str) -> str | None:
    for item in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == container:
            return ((item.get("state") or {}).get("running") or {}).get("startedAt")
    return None


def _node_affinity(workers: dict[str, Any] | None) -> Any:
    template = ((workers or {}).get("spec") or {}).get("template") or {}
    return cache_affinity(template.get("spec") or {})


def build_engine(
    engine: type[MasterWorkerEngine],
    engine_id: str,
    ctx: ReconcileRequestContext,
    transport: PodExec | None,
) -> TemplateEngine:
    """The TemplateEngine driving `engine` for runtime ctx.namespace/ctx.name, its slow steps
    and probes paced by the manager's sync interval; `transport` None means the Kubernetes exec
    API on the manager's own connection."""
    memory = engine.remember(ctx, transport or KubernetesExec(ctx.client.connection))
    return TemplateEngine(
        lambda pass_ctx: engine(pass_ctx, memory),
        engine_id,
        sync_interval=ctx.options.sync_interval,
    )

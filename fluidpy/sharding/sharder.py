"""The sharder: on the replica that wins the ring's election, it assigns and moves groups.

It watches the ring's main kinds everywhere (only the few metadata fields it needs are kept), the
controlled kinds only where they carry the ring's shard label, and the shard Leases (listed every
`retry_period`). Its work queue holds group keys: an object event enqueues the object's group,
and a change of membership (a shard joining, leaving or dying) enqueues every group. Which shard
a group should be on is the Placement's answer (fluidpy.sharding.placement: the ring's
preference, held to an even share); the membership poll also levels it, and enqueues the groups
that levelling moves. Deciding a group is `plan_group` on what the informers show, and every
write is conditional on the version it was decided from. See fluidpy.sharding.drain for the
handshake and its guarantee.

The sharder runs on one replica at a time, chosen by the ring's own Lease election, separate from
the shards' membership Leases. If it loses that Lease it raises, which stops its manager, as
losing leadership does everywhere in fluidpy; another replica's sharder takes over.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fluidpy.client import GVK, Client, Conflict, NotFound
from fluidpy.context import Context
from fluidpy.controller import Controller, Request, Result
from fluidpy.informer import SharedInformer
from fluidpy.leaderelection import (
    LEASE_GVK,
    KubernetesLeaseStore,
    LeaderElectionConfig,
    LeaderElector,
)
from fluidpy.log import get_logger
from fluidpy.metrics import sharding as metrics
from fluidpy.sharding.config import RingConfig, own_group
from fluidpy.sharding.drain import Action, Member, Step, plan_group
from fluidpy.sharding.expectations import Expectations
from fluidpy.sharding.labels import drain_label, labels_of, shard_label
from fluidpy.sharding.membership import Membership
from fluidpy.sharding.placement import Placement
from fluidpy.sharding.ring import HashRing
from fluidpy.workqueue import WorkQueue

LOGGER = "fluidpy.sharding"
GroupFunc = Callable[[Mapping[str, Any]], list[str]]
GROUP_INDEX = "group"

SHARDER_WORKERS = 16
"""Concurrent group decisions: each is a few label patches, bound by API latency, not CPU; when
a shard dies all its groups move at once, and on a loaded API server 4 workers took 19 s for
80 groups (320 objects)."""
EXPECTATION_WAIT = 1.0
"""Seconds before a group whose own last write is not in the view yet is looked at again; the
write's watch event normally wakes it much sooner."""
DEAD_LEASE_GRACE_FACTOR = 2.0
"""A dead shard's Lease is deleted this many Lease durations after it expired, or at once when
released: long enough for operators to see who died, short enough not to pile up."""


class ShardingLeaseLost(Exception):
    """The sharder lost the ring's Lease; its manager stops (and is restarted by its pod)."""


@dataclass(frozen=True)
class ObjectRef:
    gvk: GVK
    namespace: str
    name: str
    version: str

    @property
    def key(self) -> tuple[GVK, str, str]:
        return (self.gvk, self.namespace, self.name)


@dataclass(frozen=True)
class LeaseTiming:
    """The election timing shared by shard Leases and the sharder's Lease (the manager's)."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


def sharder_view(obj: dict[str, Any]) -> dict[str, Any]:
    """Only what the sharder reads: a metadata-only copy, a fraction of a full object's memory."""
    metadata = obj.get("metadata") or {}
    kept = {k: metadata[k] for k in ("name", "namespace", "resourceVersion") if k in metadata}
    kept["labels"] = dict(metadata.get("labels") or {})
    if metadata.get("ownerReferences"):
        kept["ownerReferences"] = metadata["ownerReferences"]
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": kept}


class Sharder:
    """Campaigns for the ring's Lease and, while holding it, assigns groups to live shards."""

    def __init__(
        self,
        client: Client,
        ring: RingConfig,
        *,
        identity: str,
        lease_namespace: str,
        lease_name: str,
        timing: LeaseTiming,
        namespaces: tuple[str, ...] | None = None,
    ) -> None:
        self._client = client.live
        self._writer = self._client
        self._ring_config = ring
        self._identity = identity
        self._lease_namespace = lease_namespace
        self._lease_name = lease_name
        self._timing = timing
        self._namespaces = namespaces
        self._membership = Membership(ring.name)
        self._placement = Placement()
        self._expectations = Expectations()
        self._drain_marked: dict[tuple[GVK, str, str], float] = {}
        self._informers: list[tuple[GVK, int | None, SharedInformer]] = []
        self._queue: WorkQueue[Request] | None = None
        self._reported: set[str] = set()
        self._log = get_logger(LOGGER, ring=ring.name, sharder=identity)

    # Election ------------------------------------------------------------------------------

    def run(self, ctx: Context) -> None:
        """A manager runnable: campaign, and shard while leading, until `ctx` ends."""
        lead_ctx, stop_leading = ctx.with_cancel()
        threads: list[threading.Thread] = []

        def started() -> None:
            thread = threading.Thread(
                target=self._lead, args=(lead_ctx,), name="sharder", daemon=True
            )
            thread.start()
            threads.append(thread)

        timing = self._timing
        elector = LeaderElector(
            LeaderElectionConfig(
                lease_name=self._lease_name,
                lease_namespace=self._lease_namespace,
                identity=self._identity,
                lease_duration=timing.lease_duration,
                renew_deadline=timing.renew_deadline,
                retry_period=timing.retry_period,
            ),
            KubernetesLeaseStore(self._client, self._lease_namespace, self._lease_name),
            on_started_leading=started,
            on_stopped_leading=stop_leading,
        )
        # Fenced like a manager's leader: once the sharder cannot prove its Lease is still its
        # own, its label writes are refused before they leave the process.
        self._writer = self._client.with_write_fence(elector.lease_valid)
        try:
            elector.run(ctx)
        finally:
            stop_leading()
            for thread in threads:
                thread.join(timing.renew_deadline)
        if elector.lost:
            raise ShardingLeaseLost(f"lost the sharder Lease {self._lease_name!r}")

    def _lead(self, ctx: Context) -> None:
        self._log.info("sharder started")
        queue: WorkQueue[Request] = WorkQueue(name="sharder")
        controller = Controller("sharder", self, queue, max_concurrent_reconciles=SHARDER_WORKERS)
        self._queue = queue
        for gvk, rank, informer, group in self._new_informers():
            controller.watch(informer, _requests(group), description=f"sharder {gvk}")
            informer.start(ctx)
            self._informers.append((gvk, rank, informer))
        watcher = threading.Thread(
            target=self._watch_membership, args=(ctx,), name="sharder-membership", daemon=True
        )
        watcher.start()
        try:
            controller.start(ctx)
        finally:
            controller.abort()
            watcher.join(self._timing.retry_period + 5.0)
            self._log.info("sharder stopped")

    def _new_informers(self) -> list[tuple[GVK, int | None, SharedInformer, GroupFunc]]:
        ring = self._ring_config
        informers: list[tuple[GVK, int | None, SharedInformer, GroupFunc]] = []
        for gvk in (*ring.main_kinds, *ring.controlled_kinds):
            rank = ring.rank(gvk)
            group: GroupFunc
            if rank is not None:
                selector = None
                group = lambda obj: [own_group(obj)]  # noqa: E731
            else:
                selector = shard_label(ring.name)
                group = lambda obj: [g] if (g := ring.owner_group(obj)) else []  # noqa: E731
            informer = SharedInformer(
                self._client,
                gvk,
                namespaces=self._namespaces,
                label_selector=selector,
                transform=sharder_view,
                resync_period=0,
                indexers={GROUP_INDEX: group},
            )
            informers.append((gvk, rank, informer, group))
        return informers

    # Membership ----------------------------------------------------------------------------

    def _watch_membership(self, ctx: Context) -> None:
        # The first membership change seeds the placement with every group's current shard.
        if not all(informer.wait_for_sync(ctx) for _, _, informer in self._informers):
            return
        while not ctx.wait(self._timing.retry_period):
            try:
                leases = self._client.list(LEASE_GVK, self._lease_namespace, ctx=ctx)
            except Exception as error:
                if ctx.done():
                    return
                self._log.warning("cannot list shard Leases", error=str(error))
                continue
            change = self._membership.observe(leases)
            if change.joined or change.left:
                current = self._current_shards()
                self._placement.reshape(
                    HashRing(change.alive, self._ring_config.virtual_nodes), current
                )
                self._log.info(
                    "ring changed; rebalancing",
                    joined=sorted(change.joined),
                    left=sorted(change.left),
                    shards=sorted(change.alive),
                    groups=len(current),
                    placed=self._placement.loads(),
                )
                for group in current:
                    self._enqueue(group)
            else:
                moved = self._placement.level()
                if moved:
                    self._log.info("levelling", groups=len(moved), placed=self._placement.loads())
                for group in moved:
                    self._enqueue(group)
            metrics.RING_SHARDS.labels(self._ring_config.name).set(len(change.alive))
            self._count_objects(change.alive)
            self._delete_dead_leases(ctx)

    def _current_shards(self) -> dict[str, str | None]:
        """Every group, with the shard its first main kind's object is labelled for."""
        label = shard_label(self._ring_config.name)
        current: dict[str, str | None] = {}
        for _, rank, informer in self._informers:  # main kinds first, in rank order
            if rank is not None:
                for obj in informer.list():
                    current.setdefault(own_group(obj), labels_of(obj).get(label))
        return current

    def _enqueue(self, group: str) -> None:
        if self._queue is not None:
            namespace, _, name = group.partition("/")
            self._queue.add(Request(namespace, name))

    def _count_objects(self, alive: frozenset[str]) -> None:
        label = shard_label(self._ring_config.name)
        counts: Counter[str] = Counter({shard: 0 for shard in alive})
        for _, rank, informer in self._informers:
            if rank is not None:
                counts.update(labels_of(obj).get(label, "") for obj in informer.list())
        gauge, ring = metrics.SHARD_OBJECTS, self._ring_config.name
        for shard in self._reported - counts.keys():
            gauge.remove(ring, shard)  # a shard that left and holds nothing any more
        for shard, count in counts.items():
            gauge.labels(ring, shard).set(count)
        self._reported = set(counts)

    def _delete_dead_leases(self, ctx: Context) -> None:
        grace = DEAD_LEASE_GRACE_FACTOR * self._timing.lease_duration
        for name, version in self._membership.dead_leases(grace):
            try:
                self._writer.delete(
                    LEASE_GVK,
                    name,
                    self._lease_namespace,
                    preconditions={"resourceVersion": version},
                    ctx=ctx,
                )
                self._log.info("deleted a dead shard's Lease", lease=name)
            except (Conflict, NotFound):
                pass

    # Deciding a group ----------------------------------------------------------------------

    def reconcile(self, ctx: Context, request: Request) -> Result | None:
        group = f"{request.namespace}/{request.name}"
        label, drain = shard_label(self._ring_config.name), drain_label(self._ring_config.name)
        members: list[Member[ObjectRef]] = []
        for gvk, rank, informer in self._informers:
            for obj in informer.by_index(GROUP_INDEX, group):
                metadata = obj["metadata"]
                ref = ObjectRef(
                    gvk,
                    metadata.get("namespace") or "",
                    metadata["name"],
                    metadata["resourceVersion"],
                )
                if not self._expectations.caught_up(ref.key, ref.version):
                    return Result(requeue_after=EXPECTATION_WAIT)
                labels = labels_of(obj)
                members.append(Member(ref, rank, labels.get(label), drain in labels))
        main = [m for m in members if m.rank is not None]  # in rank order, as the informers
        if not main:
            self._placement.forget(group)  # what is left is garbage collected with its owner
            return None
        alive = self._placement.shards
        desired = self._placement.shard_of(group, main[0].shard)
        try:
            for action in plan_group(members, desired, alive):
                self._write(ctx, action, alive)
        except Conflict:
            return Result(requeue=True)  # decided from a stale view: decide again
        return None

    def _write(self, ctx: Context, action: Action[ObjectRef], alive: frozenset[str]) -> None:
        ref, ring = action.member.ref, self._ring_config.name
        if action.step is Step.DRAIN:
            labels: dict[str, str | None] = {drain_label(ring): "true"}
        else:
            labels = {shard_label(ring): action.shard, drain_label(ring): None}
        try:
            self._writer.patch(
                ref.gvk,
                ref.name,
                ref.namespace or None,
                {"metadata": {"labels": labels, "resourceVersion": ref.version}},
                ctx=ctx,
            )
        except NotFound:
            return
        self._expectations.wrote(ref.key, ref.version)
        self._record(action, alive)

    def _record(self, action: Action[ObjectRef], alive: frozenset[str]) -> None:
        ref, ring, previous = action.member.ref, self._ring_config.name, action.member.shard
        where = f"{ref.gvk.kind} {ref.namespace}/{ref.name}"
        if action.step is Step.DRAIN:
            self._drain_marked[ref.key] = time.monotonic()
            metrics.DRAINS.labels(ring).inc()
            self._log.info("draining", object=where, shard=previous)
            return
        marked = self._drain_marked.pop(ref.key, None)
        if previous is not None and previous not in alive:
            metrics.ASSIGNMENTS.labels(ring, "dead").inc()
            self._log.info(
                "moved from a gone shard", object=where, shard=action.shard, previous=previous
            )
        elif marked is not None:
            metrics.ASSIGNMENTS.labels(ring, "drained").inc()
            metrics.DRAIN_DURATION.labels(ring).observe(time.monotonic() - marked)
            self._log.info("moved after drain", object=where, shard=action.shard)
        else:
            metrics.ASSIGNMENTS.labels(ring, "new").inc()
            self._log.debug("assigned", object=where, shard=action.shard)


def _requests(group: GroupFunc) -> Callable[[Mapping[str, Any]], list[Request]]:
    def to_requests(obj: Mapping[str, Any]) -> list[Request]:
        return [Request(*key.split("/", 1)) for key in group(obj)]

    return to_requests

"""One replica's part in a ring: its manager, filtered to its own objects, and its sharder.

`Shard` builds the Manager a sharded replica runs:

- its client labels what the controllers create and writes as `<field manager>-<shard id>`
  (fluidpy.sharding.client), so managedFields tell the shards' writes apart;
- its cache selects, for every main and controlled kind, only objects labelled for this shard,
  so its informers hold (and its work queues see) only its own share;
- its leader election is its membership: the manager's elector holds the Lease
  `<ring>-<shard id>` with the shard id as identity, so the controllers run while the shard is
  a member, stop the moment it cannot renew, and the Lease is released on a clean stop;
- a sharder runnable campaigns for the ring's Lease (`leader_election_id`) on every replica
  and shards on the one that wins it; its label writes are `<field manager>-sharder`'s.

Reconcilers of the main kinds are wrapped with `gate()`, the shard's side of the handshake.
"""

from __future__ import annotations

from dataclasses import replace

from fluidpy.cache import Cache, KindOptions
from fluidpy.client import GVK, ApiServerConnection
from fluidpy.controller import Reconciler
from fluidpy.log import get_logger
from fluidpy.manager import Manager, ManagerOptions, own_namespace
from fluidpy.sharding.client import ShardClient, shard_field_manager
from fluidpy.sharding.config import RingConfig
from fluidpy.sharding.gate import ShardGate
from fluidpy.sharding.labels import shard_label
from fluidpy.sharding.membership import new_shard_id, shard_lease_name
from fluidpy.sharding.sharder import LeaseTiming, Sharder


class Shard:
    """Build with the options an unsharded manager would get; see the module docstring."""

    def __init__(
        self,
        connection: ApiServerConnection,
        options: ManagerOptions,
        ring: RingConfig,
        *,
        shard_id: str | None = None,
    ) -> None:
        self.id = shard_id or new_shard_id()
        self.ring = ring
        namespace = options.leader_election_namespace or own_namespace()
        sharder_lease = options.leader_election_id
        if sharder_lease.startswith(f"{ring.name}-"):
            raise ValueError(
                f"leader_election_id {sharder_lease!r} starts with '{ring.name}-', which names "
                "shard Leases; choose another"
            )
        client = ShardClient(
            connection,
            ring=ring,
            shard=self.id,
            qps=options.qps,
            burst=options.burst,
            field_manager=options.field_manager,
        )
        own = f"{shard_label(ring.name)}={self.id}"
        kinds = dict(options.cache_kinds or {})
        for gvk in (*ring.main_kinds, *ring.controlled_kinds):
            kinds[gvk] = replace(kinds.get(gvk, KindOptions()), label_selector=own)
        cache = Cache(
            client,
            namespaces=options.namespaces,
            resync_period=options.resync_period,
            by_kind=kinds,
        )
        self.manager = Manager(
            options=replace(
                options,
                leader_election=True,
                leader_election_id=shard_lease_name(ring.name, self.id),
                leader_election_identity=self.id,
                leader_election_namespace=namespace,
            ),
            client=client,
            cache=cache,
        )
        self.sharder = Sharder(
            client.with_field_manager(shard_field_manager(options.field_manager, "sharder")),
            ring,
            identity=self.id,
            lease_namespace=namespace,
            lease_name=sharder_lease,
            timing=LeaseTiming(
                options.lease_duration, options.renew_deadline, options.retry_period
            ),
            namespaces=options.namespaces,
        )
        self.manager.add_runnable(self.sharder.run, needs_leader=False, name="sharder")
        get_logger("fluidpy.sharding").info(
            "joining the ring", ring=ring.name, shard=self.id, lease_namespace=namespace
        )

    def gate(self, gvk: GVK, reconciler: Reconciler) -> Reconciler:
        """`reconciler` of `gvk`, gated by the drain handshake (main kinds only)."""
        if gvk not in self.ring.main_kinds:
            return reconciler
        return ShardGate(reconciler, gvk, self.manager.client, ring=self.ring.name, shard=self.id)

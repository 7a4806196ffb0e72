"""Horizontal scale-out: several manager replicas share the objects, coordinated through the
Kubernetes API (Leases for membership, labels for assignment, label-selected watches).

See docs/sharding.md for the design and its guarantees. The pieces, one concept per module:
ring (consistent hashing), labels (the assignment and drain labels), membership (shard Leases),
drain (the sharder's decision per group), expectations, sharder, gate (the shard's side of the
handshake), client (labels on created objects), config (RingConfig) and shard (the wiring).
"""

from fluidpy.sharding.config import RingConfig
from fluidpy.sharding.labels import drain_label, shard_label
from fluidpy.sharding.ring import HashRing
from fluidpy.sharding.shard import Shard

__all__ = ["HashRing", "RingConfig", "Shard", "drain_label", "shard_label"]

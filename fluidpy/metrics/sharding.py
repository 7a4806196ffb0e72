"""Sharding metrics: where objects are, how often they move, and how long drains take."""

from prometheus_client import Counter, Gauge, Histogram

from fluidpy.metrics import REGISTRY

RING_SHARDS = Gauge(
    "fluidpy_ring_shards",
    "Shards the sharder counts alive in the ring.",
    ["ring"],
    registry=REGISTRY,
)
SHARD_OBJECTS = Gauge(
    "fluidpy_shard_objects",
    'Objects of the ring\'s main kinds labelled for each shard (shard="": unassigned).',
    ["ring", "shard"],
    registry=REGISTRY,
)
ASSIGNMENTS = Counter(
    "fluidpy_shard_assignments_total",
    "Objects labelled for a shard by the sharder, by why: new (unassigned before), drained "
    "(released by a live shard), dead (its shard had died or left).",
    ["ring", "reason"],
    registry=REGISTRY,
)
DRAINS = Counter(
    "fluidpy_shard_drains_total",
    "Drain marks set by the sharder.",
    ["ring"],
    registry=REGISTRY,
)
DRAIN_DURATION = Histogram(
    "fluidpy_shard_drain_duration_seconds",
    "From an object's drain mark to its assignment to the next shard.",
    ["ring"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
RELEASES = Counter(
    "fluidpy_shard_releases_total",
    "Objects this shard gave up after a drain mark.",
    ["ring", "shard"],
    registry=REGISTRY,
)

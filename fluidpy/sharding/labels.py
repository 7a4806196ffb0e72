"""The labels that carry an assignment, and what a shard does with an object it sees.

An object of a ring's kinds belongs to the shard named in its shard label,
`shard.fluidpy.io/<ring>`; it belongs to nobody while the label is absent. The drain label,
`drain.shard.fluidpy.io/<ring>`, is the sharder asking the shard to give the object up: the
shard stops reconciling it and acknowledges by removing both labels, and only then does the
sharder hand it to the next shard. Labels, unlike annotations, can be selected on by the API
server, so each shard's informers see only its own objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

SHARD_LABEL_PREFIX = "shard.fluidpy.io/"
DRAIN_LABEL_PREFIX = "drain.shard.fluidpy.io/"


def shard_label(ring: str) -> str:
    return SHARD_LABEL_PREFIX + ring


def drain_label(ring: str) -> str:
    return DRAIN_LABEL_PREFIX + ring


def labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


class Duty(Enum):
    """What one shard does with an object it sees."""

    RECONCILE = "reconcile"
    """Labelled with this shard and not draining: it is this shard's to work on."""
    RELEASE = "release"
    """Labelled with this shard and draining: stop, and remove the claim."""
    IGNORE = "ignore"
    """Someone else's, or nobody's: never touch it."""


def duty(labels: Mapping[str, str], ring: str, shard: str) -> Duty:
    if labels.get(shard_label(ring)) != shard:
        return Duty.IGNORE
    if drain_label(ring) in labels:
        return Duty.RELEASE
    return Duty.RECONCILE

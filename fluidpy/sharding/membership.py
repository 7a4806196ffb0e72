"""Ring membership: one Lease per shard, and the sharder's view of which shards are alive.

Every shard holds a Lease named `<ring>-<shard id>` with itself as holder, acquired and renewed
by the manager's own leader election (fluidpy.leaderelection), each shard being the only
candidate for its Lease. That gives membership the election's guarantees for free: a shard
that cannot renew for `renew_deadline` stops working at once, and a clean stop releases the
Lease (after all work has stopped).

The sharder reads the Leases and counts a shard alive while its Lease is held by it and has
changed within its leaseDurationSeconds, measured on the sharder's own monotonic clock from the
moment it saw the change, exactly as an election candidate judges a leader (so clock skew
between machines does not matter). A Lease first seen is given a full duration. A released
Lease (empty holder) means a clean leave and counts as dead at once.

Shard ids are new for every process (host name plus a random suffix): a restarted process is a
new shard, so a dead shard can never come back to objects that are being handed to others.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fluidpy.leaderelection import lease_record_from_object

MAX_SHARD_ID = 63
"""Shard ids are label values, which Kubernetes limits to 63 characters."""


def new_shard_id(host: str | None = None) -> str:
    """`<host>-<8 hex>`: readable in labels and logs, unique per process; lower-case letters,
    digits and '-', so `<ring>-<id>` is a valid Lease name."""
    stem = re.sub(r"[^a-z0-9-]+", "-", (host or socket.gethostname()).lower()).strip("-")
    stem = stem[: MAX_SHARD_ID - 9].strip("-") or "shard"
    return f"{stem}-{secrets.token_hex(4)}"


def shard_lease_name(ring: str, shard: str) -> str:
    return f"{ring}-{shard}"


@dataclass(frozen=True)
class MembershipChange:
    alive: frozenset[str]
    joined: frozenset[str]
    left: frozenset[str]


@dataclass
class _Seen:
    version: str
    at: float
    duration: float
    holder: str
    was_held: bool
    """Seen held by its shard at least once: a shard Lease, not a stranger's of a like name."""


class Membership:
    """The sharder's record of shard Leases; `observe` it with each fresh list of Leases."""

    def __init__(self, ring: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ring = ring
        self._prefix = f"{ring}-"
        self._clock = clock
        self._seen: dict[str, _Seen] = {}
        self._alive: frozenset[str] = frozenset()

    @property
    def alive(self) -> frozenset[str]:
        return self._alive

    def observe(self, leases: Iterable[Mapping[str, Any]]) -> MembershipChange:
        """Update from the Leases listed now (any Lease not named `<ring>-...` is skipped)."""
        now = self._clock()
        current: dict[str, _Seen] = {}
        for lease in leases:
            metadata = lease.get("metadata") or {}
            name = str(metadata.get("name") or "")
            if not name.startswith(self._prefix):
                continue
            shard = name[len(self._prefix) :]
            record = lease_record_from_object(dict(lease))
            version = str(metadata.get("resourceVersion") or "")
            before = self._seen.get(shard)
            at = before.at if before is not None and before.version == version else now
            held = record.holder_identity == shard or (before is not None and before.was_held)
            current[shard] = _Seen(
                version, at, float(record.lease_duration_seconds), record.holder_identity, held
            )
        self._seen = current
        alive = frozenset(
            shard
            for shard, seen in current.items()
            if seen.holder == shard and now < seen.at + seen.duration
        )
        change = MembershipChange(alive, alive - self._alive, self._alive - alive)
        self._alive = alive
        return change

    def dead_leases(self, grace: float) -> list[tuple[str, str]]:
        """(Lease name, resourceVersion) of shards not alive for `grace` seconds beyond their
        Lease's duration, or released: safe to delete, as their ids never come back. Only Leases
        once seen held by their shard qualify, so another program's Lease that happens to be
        named like one is never touched."""
        now = self._clock()
        return [
            (shard_lease_name(self.ring, shard), seen.version)
            for shard, seen in self._seen.items()
            if seen.was_held
            and shard not in self._alive
            and (seen.holder != shard or now >= seen.at + seen.duration + grace)
        ]

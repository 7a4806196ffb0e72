"""The consistent hash ring that maps a key to one of the live shards.

Each shard is placed on a 64-bit circle at `virtual_nodes` pseudo-random points; a key belongs to
the shard of the first point at or after the key's own hash, going round. Many points per shard
even out the arcs each shard covers, and a shard joining or leaving only takes over (or gives
up) the arcs next to its own points: about 1/n of the keys move, never keys between two shards
that stayed. Hashes are BLAKE2b, so every replica, in any process and any Python version, draws
the same ring from the same shard names (Python's own hash() is salted per process).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable

DEFAULT_VIRTUAL_NODES = 256
"""Points per shard. With 256 the largest arc share of 3 to 10 shards stays within a few percent
of even (the unit tests measure it); more points cost memory and build time for no visible gain,
fewer let one shard's share drift past 10 %. Even arcs do not make a few hundred keys even:
that is fluidpy.sharding.placement's job."""


def _position(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class HashRing:
    """An immutable ring over a set of shard names; build a new one when the set changes."""

    def __init__(self, shards: Iterable[str], virtual_nodes: int = DEFAULT_VIRTUAL_NODES) -> None:
        if virtual_nodes < 1:
            raise ValueError("virtual_nodes must be at least 1")
        self.shards = frozenset(shards)
        points = sorted(
            (_position(f"{shard}#{i}"), shard)
            for shard in self.shards
            for i in range(virtual_nodes)
        )
        self._positions = [position for position, _ in points]
        self._owners = [shard for _, shard in points]

    def owner(self, key: str) -> str | None:
        """The shard `key` belongs to; None when the ring has no shard."""
        if not self._owners:
            return None
        index = bisect.bisect_left(self._positions, _position(key))
        return self._owners[index % len(self._owners)]

    def preference(self, key: str) -> tuple[str, ...]:
        """Every shard, in the order the ring offers them to `key`: its owner first, then the
        owners of the next points round the circle (fluidpy.sharding.placement chooses among
        the first ones)."""
        if not self._owners:
            return ()
        start = bisect.bisect_left(self._positions, _position(key))
        ranked: dict[str, None] = {}
        for step in range(len(self._owners)):
            ranked.setdefault(self._owners[(start + step) % len(self._owners)])
            if len(ranked) == len(self.shards):
                break
        return tuple(ranked)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HashRing) and self._owners == other._owners

    def __hash__(self) -> int:
        return hash(self.shards)

"""Where each group lives: the hash ring's preference, held to an even share.

A hash ring alone spreads keys only as evenly as chance does: each key lands on a shard with
probability equal to its arc, so 300 groups on 3 shards scatter around 100 each with a standard
deviation of 8, and one run in twenty has a shard more than 20 % off even (120 fixed names
put 57, 41 and 22 on three shards). No number of virtual nodes helps; the arcs are already
even, the keys are the noise. So the ring only ranks the shards for each group (its preference
list, fluidpy.sharding.ring) and the placement chooses among them, remembering its choices:

- a new group goes to the less loaded of its first two preferred shards (two random choices,
  which keeps every shard within a few groups of even), or, if that one is already at the
  upper bound, to its first preferred shard below it;
- a placed group stays where it is: creating a group never moves another, and deleting
  groups moves others only once a shard falls outside the tolerance (levelling, below);
- when shards join or leave, only the groups of a shard that left are placed anew, and then
  levelling moves groups, one at a time, from the most to the least loaded shard until every
  shard is within `tolerance` of even, each time choosing the group that ranks the receiving
  shard highest: a new shard gets groups that prefer it, and no other group moves.

The choices live in the sharder's memory; a new sharder (after failover) starts from the shard
labels the objects carry, so it keeps what its predecessor decided.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping

from fluidpy.sharding.ring import HashRing

BALANCE_TOLERANCE = 0.1
"""Levelling keeps every shard within 10 % of an even share: half the 20 % the design promises,
so that groups created and deleted between two levellings cannot push a shard past it, and wide
enough that deleting a few groups does not move others."""


class Placement:
    """The sharder's record of which shard each group is on; thread-safe."""

    def __init__(self, tolerance: float = BALANCE_TOLERANCE) -> None:
        self._tolerance = tolerance
        self._ring = HashRing(())
        self._shard_of: dict[str, str] = {}
        self._loads: Counter[str] = Counter()
        self._preferences: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    @property
    def shards(self) -> frozenset[str]:
        """The live shards, as of the last reshape."""
        with self._lock:
            return self._ring.shards

    def loads(self) -> dict[str, int]:
        with self._lock:
            return {shard: self._loads[shard] for shard in self._ring.shards}

    def shard_of(self, group: str, current: str | None = None) -> str | None:
        """The group's shard, placing it first if it has none: on `current` (where its objects
        are labelled now) if that shard is alive, else as a new group. None: no shard is alive."""
        with self._lock:
            placed = self._shard_of.get(group)
            if placed is not None:
                return placed
            if not self._ring.shards:
                return None
            if current not in self._ring.shards:
                current = self._choose(group)
            self._put(group, current)
            return current

    def forget(self, group: str) -> None:
        """The group has no objects any more."""
        with self._lock:
            shard = self._shard_of.pop(group, None)
            self._preferences.pop(group, None)
            if shard is not None:
                self._loads[shard] -= 1

    def reshape(self, ring: HashRing, current: Mapping[str, str | None]) -> None:
        """Membership changed to `ring.shards`. `current` is every group's shard as labelled now:
        groups this placement does not know yet (a new sharder's) start there if it is alive."""
        with self._lock:
            self._ring = ring
            self._preferences.clear()
            self._loads = Counter({shard: 0 for shard in ring.shards})
            before = self._shard_of
            self._shard_of = {}
            kept = {
                group: shard
                for group in current
                if (shard := before.get(group) or current[group]) in ring.shards
            }
            for group, shard in kept.items():
                self._put(group, shard)
            for group in sorted(current.keys() - kept.keys()):
                self._put(group, self._choose(group))
            self._level()

    def level(self) -> list[str]:
        """Bring every shard within the tolerance of even (deletions can unbalance them);
        returns the groups moved."""
        with self._lock:
            return self._level()

    def _put(self, group: str, shard: str) -> None:
        self._shard_of[group] = shard
        self._loads[shard] += 1

    def _preference(self, group: str) -> tuple[str, ...]:
        found = self._preferences.get(group)
        if found is None:
            found = self._preferences[group] = self._ring.preference(group)
        return found

    def _bounds(self, groups: int) -> tuple[int, int]:
        even = groups / len(self._ring.shards)
        return (
            math.floor((1 - self._tolerance) * even),
            math.ceil((1 + self._tolerance) * even),
        )

    def _choose(self, group: str) -> str:
        preference = self._preference(group)
        _, upper = self._bounds(len(self._shard_of) + 1)
        best = min(preference[:2], key=lambda shard: self._loads[shard])
        if self._loads[best] < upper:
            return best
        return next((s for s in preference if self._loads[s] < upper), best)

    def _level(self) -> list[str]:
        moved: list[str] = []
        if not self._ring.shards:
            return moved
        lower, upper = self._bounds(len(self._shard_of))
        while True:
            fullest = max(sorted(self._loads), key=lambda shard: self._loads[shard])
            emptiest = min(sorted(self._loads), key=lambda shard: self._loads[shard])
            if self._loads[fullest] <= upper and self._loads[emptiest] >= lower:
                return moved
            if self._loads[fullest] - self._loads[emptiest] < 2:
                return moved  # as even as whole groups allow
            group = min(
                (g for g, s in self._shard_of.items() if s == fullest),
                key=lambda g: (self._preference(g).index(emptiest), g),
            )
            self._loads[fullest] -= 1
            self._put(group, emptiest)
            moved.append(group)

"""The sharder's decision for one group of related objects: assign, drain, or wait.

A group is every object that hashes to one key (for Fluid: a Dataset, its runtimes and what
they own). Moving a group from shard A to shard B goes through these steps, each one write:

1. the sharder marks A's objects with the drain label, the kinds listed last first (they read
   the ones listed first: a runtime reads its Dataset, so runtimes are drained before the
   Dataset and never run without it);
2. A sees the mark, stops reconciling the object and removes its claim (both labels);
3. once no live shard other than B holds a main object of the group, the sharder labels every
   object with B: the controlled objects first, then the main kinds, those listed first first.

So an object is never labelled for two shards, a shard only gives up what it has stopped working
on, and the next shard gets nothing of a group before the previous one has let go of all of it.
And when B starts working on the group (its main objects reach its filtered cache), the group's
controlled objects are already labelled for B: B's cache holds all of them, and an object
missing from it does not exist as far as B is concerned (fluidpy.sharding.client). Their watch
events can trail the main objects' by moments, during which B reads them as absent; each
arrival wakes the runtime again, so the next pass sees it.
A shard that is no longer alive (its Lease expired or was released) holds nothing: its objects
are reassigned at once, without drains, because it cannot be working on them.

`plan_group` is pure: the sharder feeds it what its informers show, and the Hypothesis model in
tests/unit/test_sharding_drain_model.py drives it through joins, crashes, stale views and races.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

Ref = TypeVar("Ref")


@dataclass(frozen=True)
class Member(Generic[Ref]):
    """One object of a group, as last seen."""

    ref: Ref
    rank: int | None
    """Position of its kind among the ring's main kinds; controlled objects have none (None)."""
    shard: str | None
    draining: bool


class Step(Enum):
    DRAIN = "drain"
    ASSIGN = "assign"


@dataclass(frozen=True)
class Action(Generic[Ref]):
    step: Step
    member: Member[Ref]
    shard: str | None = None
    """The shard an ASSIGN labels the object with."""


def plan_group(
    members: Sequence[Member[Ref]], desired: str | None, alive: Collection[str]
) -> list[Action[Ref]]:
    """The writes that move the group one step towards `desired` (see the module docstring);
    an empty list means nothing to do now (done, or waiting for a shard to let go)."""
    if desired is None:
        return []
    main = [m for m in members if m.rank is not None]
    held_elsewhere = [m for m in main if m.shard != desired and m.shard in alive]
    if held_elsewhere:
        last = max(m.rank for m in held_elsewhere if m.rank is not None)
        return [Action(Step.DRAIN, m) for m in held_elsewhere if m.rank == last and not m.draining]
    to_assign = [m for m in members if m.rank is None and _needs(m, desired, alive)]
    to_assign += sorted(
        (m for m in main if _needs(m, desired, alive)),
        key=lambda m: m.rank if m.rank is not None else 0,
    )
    return [Action(Step.ASSIGN, m, desired) for m in to_assign]


def _needs(member: Member[Ref], desired: str, alive: Collection[str]) -> bool:
    """Whether the object must be labelled for `desired`: it is unassigned, or labelled for a
    shard that is gone (a drain mark of a gone shard goes too). An object already labelled for
    `desired` but marked for drain is left alone: its shard removes the claim, then it comes
    back through the unassigned case."""
    if member.shard == desired:
        return False
    return member.shard is None or member.shard not in alive or member.rank is None

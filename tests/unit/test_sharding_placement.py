"""The placement: groups spread within 20 % of even at a few hundred realistic names, and only
the groups that must move do, when shards join or leave."""

from __future__ import annotations

from collections import Counter

import pytest

from fluidpy.sharding.placement import Placement
from fluidpy.sharding.ring import HashRing

NAME_SETS = {
    "numbered": [f"sharding-it/data-{i:03d}" for i in range(300)],
    "per team": [f"team-{i % 7}/imagenet-shard-{i}" for i in range(300)],
    "per user": [f"user-{i}/dataset" for i in range(300)],
    "words": [f"ml/{a}-{b}" for a in ("train", "eval", "raw", "tmp", "gold") for b in range(60)],
}
THREE = ["shard-a", "shard-b", "shard-c"]


def placed(groups: list[str], shards: list[str]) -> tuple[Placement, dict[str, str | None]]:
    """Groups created one after another with `shards` alive, as the sharder sees them."""
    placement = Placement()
    placement.reshape(HashRing(shards), {})
    return placement, {group: placement.shard_of(group) for group in groups}


def assert_within_20_percent(placement: Placement, groups: int) -> None:
    loads = placement.loads()
    even = groups / len(loads)
    assert all(abs(load - even) <= 0.2 * even for load in loads.values()), loads


@pytest.mark.parametrize("names", NAME_SETS.values(), ids=NAME_SETS.keys())
def test_300_groups_on_3_shards_are_within_20_percent_of_even(names: list[str]) -> None:
    placement, _ = placed(names, THREE)
    assert_within_20_percent(placement, len(names))


def test_the_ring_alone_is_not_enough_for_300_fixed_names() -> None:
    """Why the placement exists: these names by hash alone miss the bound (119/101/80)."""
    ring = HashRing(THREE)
    counts = Counter(ring.owner(name) for name in NAME_SETS["numbered"])
    assert max(counts.values()) - min(counts.values()) > 0.35 * 100, counts


@pytest.mark.parametrize("names", NAME_SETS.values(), ids=NAME_SETS.keys())
def test_a_joining_shard_takes_about_its_share_and_nobody_else_moves(names: list[str]) -> None:
    placement, before = placed(names, THREE)
    placement.reshape(HashRing([*THREE, "shard-d"]), before)
    after = {group: placement.shard_of(group) for group in names}
    moved = [group for group in names if after[group] != before[group]]
    assert {after[group] for group in moved} == {"shard-d"}
    assert 0.8 * len(names) / 4 <= len(moved) <= 1.2 * len(names) / 4
    assert_within_20_percent(placement, len(names))


@pytest.mark.parametrize("names", NAME_SETS.values(), ids=NAME_SETS.keys())
def test_a_leaving_shard_gives_up_only_its_own_groups_evenly(names: list[str]) -> None:
    placement, before = placed(names, [*THREE, "shard-d"])
    placement.reshape(HashRing(THREE), before)
    after = {group: placement.shard_of(group) for group in names}
    for group in names:
        if before[group] != "shard-d":
            assert after[group] == before[group]
    assert_within_20_percent(placement, len(names))


def test_creating_and_deleting_groups_moves_no_other_group() -> None:
    names = NAME_SETS["per team"]
    placement, before = placed(names[:200], THREE)
    for group in names[200:]:
        placement.shard_of(group)
    for group in names[:50]:
        placement.forget(group)
    assert all(placement.shard_of(group) == before[group] for group in names[50:200])


def test_levelling_after_many_deletions_moves_groups_to_the_emptied_shard() -> None:
    names = NAME_SETS["per user"]
    placement, before = placed(names, THREE)
    for group in names:
        if before[group] == "shard-a":
            placement.forget(group)
    survivors = [group for group in names if before[group] != "shard-a"]
    moved = placement.level()
    assert moved and all(placement.shard_of(group) == "shard-a" for group in moved)
    assert_within_20_percent(placement, len(survivors))
    assert placement.level() == []


def test_a_new_sharder_keeps_the_shards_the_objects_are_labelled_for() -> None:
    names = NAME_SETS["words"]
    _, labelled = placed(names, THREE)
    successor = Placement()
    successor.reshape(HashRing(THREE), labelled)
    assert {group: successor.shard_of(group) for group in names} == labelled


def test_groups_of_a_gone_shard_are_placed_anew_when_a_new_sharder_starts() -> None:
    names = NAME_SETS["numbered"]
    _, labelled = placed(names, [*THREE, "shard-gone"])
    successor = Placement()
    successor.reshape(HashRing(THREE), labelled)
    assert all(successor.shard_of(group) in THREE for group in names)
    assert_within_20_percent(successor, len(names))


def test_nothing_is_placed_while_no_shard_is_alive() -> None:
    placement = Placement()
    assert placement.shard_of("ns/a", "shard-a") is None
    placement.reshape(HashRing(["shard-a"]), {"ns/a": None})
    assert placement.shard_of("ns/a") == "shard-a"

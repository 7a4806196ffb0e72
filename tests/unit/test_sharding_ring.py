"""The consistent hash ring: even spread, and only the keys that must move do."""

from __future__ import annotations

from collections import Counter

import pytest

from fluidpy.sharding.ring import HashRing

KEYS = [f"namespace-{i % 37}/dataset-{i}" for i in range(60_000)]


def shares(ring: HashRing) -> Counter[str | None]:
    return Counter(ring.owner(key) for key in KEYS)


@pytest.mark.parametrize("count", [2, 3, 4, 7, 10])
def test_every_shard_gets_within_20_percent_of_an_even_share(count: int) -> None:
    ring = HashRing(f"shard-{i}" for i in range(count))
    even = len(KEYS) / count
    for shard, owned in shares(ring).items():
        assert abs(owned - even) <= 0.2 * even, (shard, owned, even)


def test_a_joining_shard_takes_keys_only_for_itself_and_about_its_share() -> None:
    before = HashRing(["a", "b", "c"])
    after = HashRing(["a", "b", "c", "d"])
    moved = [key for key in KEYS if before.owner(key) != after.owner(key)]
    assert all(after.owner(key) == "d" for key in moved)
    assert abs(len(moved) / len(KEYS) - 1 / 4) <= 0.2 / 4


def test_a_leaving_shard_gives_up_only_its_own_keys() -> None:
    before = HashRing(["a", "b", "c", "d"])
    after = HashRing(["a", "b", "d"])
    for key in KEYS:
        if before.owner(key) != "c":
            assert after.owner(key) == before.owner(key)
        else:
            assert after.owner(key) in {"a", "b", "d"}


def test_the_ring_depends_only_on_the_set_of_shards() -> None:
    assert HashRing(["a", "b", "c"]) == HashRing(["c", "a", "b", "a"])
    assert [HashRing(["a", "b"]).owner(k) for k in KEYS[:100]] == [
        HashRing(["b", "a"]).owner(k) for k in KEYS[:100]
    ]


def test_an_empty_ring_owns_nothing() -> None:
    assert HashRing([]).owner("ns/x") is None


def test_virtual_nodes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="virtual_nodes"):
        HashRing(["a"], virtual_nodes=0)


def test_a_keys_preference_lists_every_shard_once_owner_first() -> None:
    ring = HashRing(["a", "b", "c", "d"])
    for key in KEYS[:500]:
        preference = ring.preference(key)
        assert preference[0] == ring.owner(key)
        assert sorted(preference) == ["a", "b", "c", "d"]
    assert HashRing([]).preference("ns/x") == ()

"""Membership: which shards count as alive, judged by the sharder's clock."""

from __future__ import annotations

from typing import Any

from fluidpy.sharding.membership import Membership, new_shard_id, shard_lease_name


def lease(name: str, holder: str, version: str, duration: int = 15) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "resourceVersion": version},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration},
    }


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_shard_is_alive_while_its_lease_keeps_changing() -> None:
    clock = Clock()
    membership = Membership("ring", clock=clock)
    change = membership.observe([lease("ring-a", "a", "1"), lease("ring-b", "b", "1")])
    assert change.alive == {"a", "b"} and change.joined == {"a", "b"} and not change.left
    clock.now += 10
    membership.observe([lease("ring-a", "a", "2"), lease("ring-b", "b", "1")])
    clock.now += 10
    change = membership.observe([lease("ring-a", "a", "3"), lease("ring-b", "b", "1")])
    assert change.alive == {"a"} and change.left == {"b"} and not change.joined


def test_a_released_lease_is_a_leave_at_once() -> None:
    membership = Membership("ring", clock=Clock())
    membership.observe([lease("ring-a", "a", "1")])
    change = membership.observe([lease("ring-a", "", "2")])
    assert change.left == {"a"} and not change.alive
    assert membership.dead_leases(grace=60) == [("ring-a", "2")]


def test_other_leases_and_foreign_holders_do_not_count_and_are_never_deleted() -> None:
    clock = Clock()
    membership = Membership("ring", clock=clock)
    change = membership.observe(
        [lease("ring.sharder", "a", "1"), lease("other-a", "a", "1"), lease("ring-b", "x", "1")]
    )
    assert not change.alive
    clock.now += 1000
    membership.observe([lease("ring-b", "", "2")])
    assert membership.dead_leases(grace=0) == []


def test_dead_leases_wait_for_the_grace_period_after_expiry() -> None:
    clock = Clock()
    membership = Membership("ring", clock=clock)
    membership.observe([lease("ring-a", "a", "1")])
    clock.now += 16
    membership.observe([lease("ring-a", "a", "1")])
    assert membership.dead_leases(grace=30) == []
    clock.now += 30
    assert membership.dead_leases(grace=30) == [("ring-a", "1")]


def test_shard_ids_are_unique_valid_lease_suffixes_and_label_values() -> None:
    first, second = new_shard_id("Pod_Name.example"), new_shard_id("Pod_Name.example")
    assert first != second and first.startswith("pod-name-example-")
    long = new_shard_id("x" * 100)
    assert len(long) <= 63
    assert shard_lease_name("fluidpy", first) == f"fluidpy-{first}"

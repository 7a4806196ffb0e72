"""plan_group: the order of drains and assignments within a group of related objects."""

from __future__ import annotations

from fluidpy.sharding.drain import Action, Member, Step, plan_group
from fluidpy.sharding.labels import Duty, duty

DATASET, RUNTIME, STATEFULSET = "dataset", "runtime", "statefulset"
RANK = {DATASET: 0, RUNTIME: 1, STATEFULSET: None}


def member(kind: str, shard: str | None, draining: bool = False) -> Member[str]:
    return Member(kind, RANK[kind], shard, draining)


def steps(actions: list[Action[str]]) -> list[tuple[Step, str, str | None]]:
    return [(a.step, a.member.ref, a.shard) for a in actions]


def test_controlled_objects_are_assigned_before_main_objects_and_readers_last() -> None:
    group = [member(RUNTIME, None), member(DATASET, None), member(STATEFULSET, None)]
    assert steps(plan_group(group, "a", {"a", "b"})) == [
        (Step.ASSIGN, STATEFULSET, "a"),
        (Step.ASSIGN, DATASET, "a"),
        (Step.ASSIGN, RUNTIME, "a"),
    ]


def test_a_move_drains_the_readers_first_and_assigns_nothing_meanwhile() -> None:
    group = [member(DATASET, "a"), member(RUNTIME, "a"), member(STATEFULSET, "a")]
    assert steps(plan_group(group, "b", {"a", "b"})) == [(Step.DRAIN, RUNTIME, None)]
    group[1] = member(RUNTIME, "a", draining=True)
    assert plan_group(group, "b", {"a", "b"}) == []
    group[1] = member(RUNTIME, None)
    assert steps(plan_group(group, "b", {"a", "b"})) == [(Step.DRAIN, DATASET, None)]
    group[0] = member(DATASET, None)
    assert steps(plan_group(group, "b", {"a", "b"})) == [
        (Step.ASSIGN, STATEFULSET, "b"),
        (Step.ASSIGN, DATASET, "b"),
        (Step.ASSIGN, RUNTIME, "b"),
    ]


def test_a_dead_shards_objects_move_at_once_even_mid_drain() -> None:
    group = [member(DATASET, "a"), member(RUNTIME, "a", draining=True)]
    assert steps(plan_group(group, "b", {"b"})) == [
        (Step.ASSIGN, DATASET, "b"),
        (Step.ASSIGN, RUNTIME, "b"),
    ]


def test_an_object_drained_back_towards_its_own_shard_is_left_to_finish_its_release() -> None:
    group = [member(DATASET, "a", draining=True)]
    assert plan_group(group, "a", {"a", "b"}) == []


def test_nothing_is_assigned_without_a_live_shard() -> None:
    assert plan_group([member(DATASET, None)], None, set()) == []


def test_a_shard_works_only_on_its_own_undrained_objects() -> None:
    shard, drain = "shard.fluidpy.io/r", "drain.shard.fluidpy.io/r"
    assert duty({shard: "a"}, "r", "a") is Duty.RECONCILE
    assert duty({shard: "a", drain: "true"}, "r", "a") is Duty.RELEASE
    assert duty({shard: "b"}, "r", "a") is Duty.IGNORE
    assert duty({}, "r", "a") is Duty.IGNORE


def test_whatever_prefix_of_a_move_is_written_a_main_object_never_precedes_its_controlled() -> None:
    """A sharder may stop after any write; the new shard must find the group's controlled
    objects in its filtered cache as soon as it sees a main object."""
    group = [member(DATASET, None), member(RUNTIME, None), member(STATEFULSET, "a")]
    actions = plan_group(group, "b", {"a", "b"})
    for cut in range(len(actions) + 1):
        written = [a.member.ref for a in actions[:cut]]
        if DATASET in written or RUNTIME in written:
            assert STATEFULSET in written, written

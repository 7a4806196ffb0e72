"""Model-based test of the drain handshake: no object is ever worked on by two live shards.

Hypothesis drives a small world through shards starting, crashing and stopping, the sharder
noticing joins and deaths late, objects appearing, and every party acting on views that lag
behind the API server (each view replays an object's versions in order, as a watch does). The
sharder is the real `plan_group` on the real HashRing, with the real Expectations; the shards
follow the real `duty`. Writes are compare-and-swap on the version the writer saw, as they are
against the API server; a shard's release is conditional on still being the labelled shard.

Invariants, checked after every step:
- no object is RECONCILE for two running shards;
- no group has RECONCILE objects on two running shards (a runtime and its Dataset are never
  worked on by different shards, because the runtime controller writes the Dataset's status);
- while a running shard holds a group's main object, the group's controlled objects are not
  labelled for another running shard (so the shard's filtered cache holds all of them).
At the end, once the sharder sees every running shard, everything converges: every object is
labelled, undrained, for the shard the ring names (with no shard running, the labels stay as
they are: there is no shard to move them to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fluidpy.sharding.drain import Member, Step, plan_group
from fluidpy.sharding.expectations import Expectations
from fluidpy.sharding.labels import Duty
from fluidpy.sharding.ring import HashRing

GROUPS = ["ns/a", "ns/b", "ns/c", "ns/d"]
RANKS = {"dataset": 0, "runtime": 1, "statefulset": None}
OBJECTS = [(group, kind) for group in GROUPS for kind in RANKS]
SHARDS = [f"s{i}" for i in range(6)]


@dataclass(frozen=True)
class State:
    shard: str | None = None
    draining: bool = False


@dataclass
class Stored:
    history: list[State] = field(default_factory=lambda: [State()])

    @property
    def version(self) -> int:
        return len(self.history) - 1


def duty_of(state: State, shard: str) -> Duty:
    if state.shard != shard:
        return Duty.IGNORE
    return Duty.RELEASE if state.draining else Duty.RECONCILE


class ShardingModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], Stored] = {}
        self.running: set[str] = set()
        self.gone: set[str] = set()
        self.alive: set[str] = set()
        self.sharder_view: dict[tuple[str, str], int] = {}
        self.shard_views: dict[str, dict[tuple[str, str], int]] = {}
        self.expectations = Expectations()

    # The world ------------------------------------------------------------------------------

    @rule(obj=st.sampled_from(OBJECTS))
    def create(self, obj: tuple[str, str]) -> None:
        self.store.setdefault(obj, Stored())

    @rule(shard=st.sampled_from(SHARDS))
    def start_shard(self, shard: str) -> None:
        if shard in self.running or shard in self.gone:
            return  # a shard id names one process: a restart comes back under a new id
        self.running.add(shard)
        self.shard_views[shard] = {obj: stored.version for obj, stored in self.store.items()}

    @rule(shard=st.sampled_from(SHARDS))
    def stop_shard(self, shard: str) -> None:
        """A crash, a clean stop or a lost Lease: the process does nothing any more."""
        if shard in self.running:
            self.running.discard(shard)
            self.gone.add(shard)
            del self.shard_views[shard]

    @rule(shard=st.sampled_from(SHARDS))
    def sharder_sees_join(self, shard: str) -> None:
        if shard in self.running:
            self.alive.add(shard)

    @rule(shard=st.sampled_from(SHARDS))
    def sharder_sees_death(self, shard: str) -> None:
        """Only after the shard stopped: its Lease is expired or released, and a shard stops
        working before renew_deadline, well before anyone can see its Lease expire."""
        if shard in self.gone:
            self.alive.discard(shard)

    # Views -------------------------------------------------------------------------------------

    @rule(obj=st.sampled_from(OBJECTS))
    def sharder_view_advances(self, obj: tuple[str, str]) -> None:
        self._advance(self.sharder_view, obj)

    @rule(shard=st.sampled_from(SHARDS), obj=st.sampled_from(OBJECTS))
    def shard_view_advances(self, shard: str, obj: tuple[str, str]) -> None:
        if shard in self.shard_views:
            self._advance(self.shard_views[shard], obj)

    def _advance(self, view: dict[tuple[str, str], int], obj: tuple[str, str]) -> None:
        stored = self.store.get(obj)
        if stored is None:
            return
        seen = view.get(obj)
        view[obj] = 0 if seen is None else min(seen + 1, stored.version)

    # Actors ------------------------------------------------------------------------------------

    @rule(group=st.sampled_from(GROUPS), cut=st.none() | st.integers(0, 3))
    def sharder_reconciles(self, group: str, cut: int | None) -> None:
        """A pass; with `cut`, the sharder stops after that many writes (it crashed, or lost
        its Lease, midway)."""
        self._sharder_pass(group, cut)

    @rule(shard=st.sampled_from(SHARDS), obj=st.sampled_from(OBJECTS))
    def shard_releases(self, shard: str, obj: tuple[str, str]) -> None:
        view = self.shard_views.get(shard)
        if view is None or obj not in view:
            return
        if duty_of(self.store[obj].history[view[obj]], shard) is not Duty.RELEASE:
            return
        stored = self.store[obj]
        if stored.history[-1].shard == shard:  # the JSON patch's test operation
            stored.history.append(State())

    def _sharder_pass(self, group: str, cut: int | None = None) -> None:
        members = []
        for obj, rank in ((o, RANKS[o[1]]) for o in OBJECTS if o[0] == group):
            if obj not in self.sharder_view:
                continue
            seen = self.sharder_view[obj]
            if not self.expectations.caught_up(obj, str(seen)):
                return
            state = self.store[obj].history[seen]
            members.append(Member((obj, seen), rank, state.shard, state.draining))
        desired = HashRing(self.alive).owner(group)
        for action in plan_group(members, desired, self.alive)[:cut]:
            obj, seen = action.member.ref
            stored = self.store[obj]
            if stored.version != seen:
                return  # Conflict: requeued, decided again from a fresher view
            current = stored.history[-1]
            if action.step is Step.DRAIN:
                stored.history.append(State(current.shard, draining=True))
            else:
                stored.history.append(State(action.shard))
            self.expectations.wrote(obj, str(seen))

    # Invariants --------------------------------------------------------------------------------

    def _working(self, obj: tuple[str, str]) -> set[str]:
        return {
            shard
            for shard in self.running
            if obj in self.shard_views[shard]
            and duty_of(self.store[obj].history[self.shard_views[shard][obj]], shard)
            is Duty.RECONCILE
        }

    @invariant()
    def no_object_on_two_live_shards(self) -> None:
        for obj in self.store:
            assert len(self._working(obj)) <= 1, (obj, self._working(obj))

    @invariant()
    def no_group_split_across_live_shards(self) -> None:
        for group in GROUPS:
            shards: set[str] = set()
            for obj in self.store:
                if obj[0] == group and RANKS[obj[1]] is not None:
                    shards |= self._working(obj)
            assert len(shards) <= 1, (group, shards)

    @invariant()
    def a_worked_on_groups_controlled_objects_are_its_shards(self) -> None:
        """So the shard's filtered cache holds every one of them (the shards make them
        labelled; here they may also appear unlabelled)."""
        for group in GROUPS:
            latest = {kind: s.history[-1] for (g, kind), s in self.store.items() if g == group}
            for kind, state in latest.items():
                if RANKS[kind] is not None or state.shard not in self.running:
                    continue
                for other, main in latest.items():
                    if RANKS[other] is not None and not main.draining:
                        assert main.shard in (None, state.shard) or main.shard not in self.running

    def teardown(self) -> None:
        """With the sharder seeing exactly the running shards, everything settles."""
        self.alive = set(self.running)
        for _ in range(20):
            for obj, stored in self.store.items():
                self.sharder_view[obj] = stored.version
                for view in self.shard_views.values():
                    view[obj] = stored.version
            for shard in list(self.running):
                for obj in list(self.store):
                    self.shard_releases(shard, obj)
            for group in GROUPS:
                self._sharder_pass(group)
            self.no_object_on_two_live_shards()
            self.no_group_split_across_live_shards()
        ring = HashRing(self.running)
        for (group, _), stored in self.store.items():
            owner = ring.owner(group)
            if owner is None:
                # No shard runs: there is nowhere to move the group, so it keeps its labels
                # until a shard joins (the invariants above already hold for it).
                continue
            assert stored.history[-1] == State(owner), (group, stored.history)


ShardingModel.TestCase.settings = settings(max_examples=150, stateful_step_count=50, deadline=None)
test_drain_handshake = ShardingModel.TestCase

"""The leader election state machine, stepped with a fake lease store and a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import structlog
import structlog.testing

from fluidpy.client import Forbidden
from fluidpy.context import Context
from fluidpy.leaderelection import (
    LeaderElectionConfig,
    LeaderElector,
    LeaseRecord,
    lease_object,
    lease_record_from_object,
)
from fluidpy.metrics import REGISTRY

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class StoreDown(Exception):
    pass


class ConflictError(Exception):
    pass


class FakeApiServer:
    """One Lease with a version number, shared by every candidate's store."""

    def __init__(self) -> None:
        self.record: LeaseRecord | None = None
        self.version = 0
        self.down = False
        self.writes = 0


class FakeLeaseStore:
    def __init__(self, server: FakeApiServer) -> None:
        self.server = server
        self.seen_version: int | None = None
        self.before_write: Callable[[], None] | None = None

    def get(self, ctx: Context) -> LeaseRecord | None:
        self._check()
        self.seen_version = self.server.version
        return self.server.record

    def create(self, record: LeaseRecord, ctx: Context) -> None:
        self._check()
        if self.server.record is not None:
            raise ConflictError("already exists")
        self._write(record)

    def update(self, record: LeaseRecord, ctx: Context) -> None:
        self._check()
        if self.before_write is not None:
            hook, self.before_write = self.before_write, None
            hook()
        if self.server.version != self.seen_version:
            raise ConflictError("resourceVersion changed")
        self._write(record)

    def _write(self, record: LeaseRecord) -> None:
        self.server.record = record
        self.server.version += 1
        self.server.writes += 1
        self.seen_version = self.server.version

    def _check(self) -> None:
        if self.server.down:
            raise StoreDown("api server unavailable")


class Candidate:
    def __init__(
        self,
        identity: str,
        server: FakeApiServer,
        clock: FakeClock,
        *,
        lease: str = "lock",
        release_on_cancel: bool = True,
        then: Callable[[], None] = lambda: None,
    ) -> None:
        self.then = then
        self.started = 0
        self.stopped = 0
        self.store = FakeLeaseStore(server)
        self.elector = LeaderElector(
            LeaderElectionConfig(lease, identity, release_on_cancel=release_on_cancel),
            self.store,
            on_started_leading=self._on_started,
            on_stopped_leading=self._on_stopped,
            clock=clock,
            wall_clock=clock.wall,
            jitter=lambda: 0.0,
        )

    def _on_started(self) -> None:
        self.started += 1
        self.then()

    def _on_stopped(self) -> None:
        self.stopped += 1

    def tick(self) -> float:
        return self.elector.tick(Context.background())


def master_status(lease: str) -> float | None:
    return REGISTRY.get_sample_value("leader_election_master_status", {"name": lease})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server() -> FakeApiServer:
    return FakeApiServer()


def test_the_first_candidate_creates_the_lease_and_leads(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a = Candidate("a", server, clock, lease="first")
    assert master_status("first") == 0
    assert a.tick() == 2.0
    assert a.elector.is_leader and a.started == 1
    assert server.record == LeaseRecord("a", 15, clock.wall(), clock.wall(), 0)
    assert master_status("first") == 1


def test_the_leader_renews_every_retry_period(clock: FakeClock, server: FakeApiServer) -> None:
    a = Candidate("a", server, clock)
    a.tick()
    acquired = clock.wall()
    for _ in range(5):
        clock.advance(2)
        assert a.tick() == 2.0
    assert server.record is not None
    assert server.record.renew_time == clock.wall()
    assert server.record.acquire_time == acquired
    assert server.record.lease_transitions == 0
    assert a.started == 1 and a.elector.is_leader


def test_a_candidate_waits_while_the_leader_keeps_renewing(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    for _ in range(30):  # 60 s, four lease durations
        clock.advance(2)
        a.tick()
        b.tick()
    assert a.elector.is_leader and not b.elector.is_leader
    assert b.started == 0


def test_a_candidate_takes_over_a_lease_unrenewed_for_its_duration(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    b.tick()  # b observes a's record now
    clock.advance(14.9)
    b.tick()
    assert not b.elector.is_leader
    clock.advance(0.1)
    b.tick()
    assert b.elector.is_leader and b.started == 1
    assert server.record is not None
    assert server.record.holder_identity == "b"
    assert server.record.lease_transitions == 1
    assert server.record.acquire_time == clock.wall()


def test_expiry_is_measured_from_when_the_record_was_observed_not_its_renew_time(
    clock: FakeClock, server: FakeApiServer
) -> None:
    # The holder's renewTime is an hour old (a skewed clock, or a long-dead holder): a newcomer
    # still waits a full lease duration from its own first observation.
    server.record = LeaseRecord("ghost", 15, EPOCH, EPOCH - timedelta(hours=1), 3)
    b = Candidate("b", server, clock)
    b.tick()
    clock.advance(14)
    b.tick()
    assert not b.elector.is_leader
    clock.advance(1)
    b.tick()
    assert b.elector.is_leader
    assert server.record.lease_transitions == 4


def test_each_renewal_restarts_the_candidates_expiry_countdown(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    b.tick()
    clock.advance(10)
    a.tick()  # renewal at t=10
    b.tick()  # b sees the new record at t=10
    clock.advance(10)  # t=20: 20 s after b first saw a, but only 10 s after the renewal
    b.tick()
    assert not b.elector.is_leader
    clock.advance(5)
    b.tick()
    assert b.elector.is_leader


def test_the_leader_survives_failed_renewals_shorter_than_the_renew_deadline(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a = Candidate("a", server, clock)
    a.tick()
    server.down = True
    for _ in range(4):  # failures at 2, 4, 6, 8 s
        clock.advance(2)
        a.tick()
    assert a.elector.is_leader and a.stopped == 0
    server.down = False
    clock.advance(1.5)
    a.tick()
    assert a.elector.is_leader and not a.elector.lost


def test_the_leader_gives_up_when_renewals_fail_for_the_renew_deadline(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a = Candidate("a", server, clock, lease="deadline")
    a.tick()
    server.down = True
    waited = 0.0
    while not a.elector.lost:
        delay = a.tick()
        if a.elector.lost:
            break
        clock.advance(delay)
        waited += delay
        assert waited <= 10.0, "the leader must give up by the renew deadline"
    assert waited == 10.0
    assert not a.elector.is_leader
    assert a.stopped == 1
    assert master_status("deadline") == 0
    with pytest.raises(RuntimeError):
        a.tick()


def test_the_leader_gives_up_before_any_candidate_may_take_over(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    b.tick()
    lost_at = taken_at = None
    a.store.server = FakeApiServer()  # a is partitioned from the real lease
    a.store.server.down = True
    for step in range(100):
        clock.advance(0.5)
        if not a.elector.lost and step % 4 == 3:
            a.tick()
            if a.elector.lost and lost_at is None:
                lost_at = clock.now
        if step % 4 == 1:
            b.tick()
            if b.elector.is_leader and taken_at is None:
                taken_at = clock.now
    assert lost_at is not None and taken_at is not None
    assert lost_at < taken_at


def test_the_leader_stops_at_once_when_another_holder_appears(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a = Candidate("a", server, clock)
    a.tick()
    assert server.record is not None
    server.record = LeaseRecord("usurper", 15, clock.wall(), clock.wall(), 1)
    server.version += 1
    clock.advance(2)
    a.tick()
    assert a.elector.lost and a.stopped == 1


def test_of_two_candidates_racing_for_an_expired_lease_exactly_one_wins(
    clock: FakeClock, server: FakeApiServer
) -> None:
    server.record = LeaseRecord("dead", 15, EPOCH, EPOCH, 0)
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    b.tick()
    clock.advance(15)
    # b reads the expired lease, then a wins the race before b writes.
    b.store.before_write = a.tick
    b.tick()
    assert a.elector.is_leader and not b.elector.is_leader
    assert server.record.holder_identity == "a"


def test_release_clears_the_holder_and_a_successor_takes_over_at_once(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    b.tick()
    assert a.elector.release(Context.background())
    assert server.record is not None and server.record.holder_identity == ""
    assert not a.elector.is_leader and not a.elector.lost
    b.tick()  # no time passed: a released lease needs no waiting
    assert b.elector.is_leader


def test_release_does_nothing_for_a_non_leader(clock: FakeClock, server: FakeApiServer) -> None:
    a, b = Candidate("a", server, clock), Candidate("b", server, clock)
    a.tick()
    b.tick()
    assert not b.elector.release(Context.background())
    assert server.record is not None and server.record.holder_identity == "a"


def test_run_releases_the_lease_on_a_clean_exit(clock: FakeClock, server: FakeApiServer) -> None:
    ctx, cancel = Context.background().with_cancel()
    a = Candidate("a", server, clock, lease="released", then=cancel)  # stop right after winning
    a.elector.run(ctx)
    assert server.record is not None and server.record.holder_identity == ""
    assert not a.elector.is_leader
    assert master_status("released") == 0


def test_run_keeps_the_lease_when_release_on_cancel_is_off(
    clock: FakeClock, server: FakeApiServer
) -> None:
    ctx, cancel = Context.background().with_cancel()
    a = Candidate("a", server, clock, release_on_cancel=False, then=cancel)
    a.elector.run(ctx)
    assert server.record is not None and server.record.holder_identity == "a"


def test_run_returns_when_the_lease_is_lost(clock: FakeClock, server: FakeApiServer) -> None:
    def lose_immediately() -> None:
        server.record = LeaseRecord("usurper", 15, clock.wall(), clock.wall(), 1)
        server.version += 1

    a = Candidate("a", server, clock, then=lose_immediately)
    a.elector.run(Context.background())  # returns without anyone cancelling
    assert a.elector.lost
    assert server.record.holder_identity == "usurper"


def test_a_candidate_keeps_trying_while_the_store_is_down(
    clock: FakeClock, server: FakeApiServer
) -> None:
    server.down = True
    a = Candidate("a", server, clock)
    assert a.tick() == 2.0
    assert not a.elector.is_leader
    server.down = False
    clock.advance(2)
    a.tick()
    assert a.elector.is_leader


def test_candidates_wait_with_jitter_between_attempts(
    clock: FakeClock, server: FakeApiServer
) -> None:
    server.record = LeaseRecord("other", 15, EPOCH, EPOCH, 0)
    elector = LeaderElector(
        LeaderElectionConfig("lock", "b"),
        FakeLeaseStore(server),
        clock=clock,
        wall_clock=clock.wall,
        jitter=lambda: 1.0,
    )
    assert elector.tick(Context.background()) == pytest.approx(2.4)


@pytest.mark.parametrize(
    ("duration", "deadline", "retry"),
    [(10, 10, 2), (15, 20, 2), (15, 2.4, 2), (15, 10, 0)],
)
def test_inconsistent_timings_are_rejected(duration: float, deadline: float, retry: float) -> None:
    with pytest.raises(ValueError):
        LeaderElectionConfig("lock", "me", duration, deadline, retry)


def test_a_lease_object_round_trips_with_microsecond_times() -> None:
    when = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    record = LeaseRecord("me", 15, when, when + timedelta(seconds=2), 3)
    obj = lease_object("ns", "lock", record)
    assert obj["apiVersion"] == "coordination.k8s.io/v1" and obj["kind"] == "Lease"
    assert obj["spec"]["renewTime"] == "2030-05-06T07:08:11.123456Z"
    assert lease_record_from_object(obj) == record


def test_a_lease_without_a_holder_reads_as_empty() -> None:
    record = lease_record_from_object({"spec": {}})
    assert record == LeaseRecord("", 0, None, None, 0)


def test_a_leader_paused_past_its_renew_deadline_fails_the_fence_before_its_loop_runs(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a = Candidate("a", server, clock)
    a.tick()
    assert a.elector.lease_valid()

    clock.advance(9.9)  # still within renew_deadline (10 s) of the last renewal
    assert a.elector.lease_valid()
    clock.advance(0.2)  # a SIGSTOP, a GC pause: no tick has run since

    assert a.elector.is_leader, "the election loop has not noticed yet"
    assert not a.elector.lease_valid()


def test_a_standby_never_passes_the_fence(clock: FakeClock, server: FakeApiServer) -> None:
    a = Candidate("a", server, clock)
    b = Candidate("b", server, clock)
    a.tick()
    b.tick()

    assert not b.elector.lease_valid()


def test_a_forbidden_lease_is_one_error_line_naming_the_role(
    clock: FakeClock, server: FakeApiServer
) -> None:
    a = Candidate("a", server, clock)

    def forbidden(ctx: Context) -> LeaseRecord | None:
        raise Forbidden(403, "Forbidden", 'leases.coordination.k8s.io "lock" is forbidden')

    a.store.get = forbidden  # type: ignore[method-assign]
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            a.tick()
            clock.advance(2)

    errors = [line for line in logs if line["log_level"] == "error"]
    assert len(errors) == 1
    assert "Role fluidpy-leader-election" in errors[0]["event"]
    assert "--leader-election-namespace" in errors[0]["event"]
    assert not a.elector.is_leader

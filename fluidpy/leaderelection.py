"""Leader election on a coordination.k8s.io/v1 Lease.

Several replicas of a manager may run; only the one holding the Lease runs leader-only work
(the controllers), so two processes never reconcile the same object at once. The algorithm is
the one Kubernetes components use:

- A candidate reads the Lease every `retry_period`. It takes the Lease when nobody holds it, when
  the holder released it (empty holderIdentity), or when the record has not changed for
  `lease_duration` as measured on the candidate's own monotonic clock. Measuring from the moment
  the candidate *saw* the record change, rather than from the renewTime written in it, makes the
  decision immune to clock skew between machines.
- Writes are compare-and-swap on the Lease's resourceVersion, so of two candidates racing for an
  expired Lease exactly one wins.
- The leader renews every `retry_period`. If it cannot renew for `renew_deadline` (or sees another
  holder), it has lost: it stops leading at once. Because `renew_deadline < lease_duration`, the
  old leader has stopped before any candidate can consider the Lease expired.
- On a clean exit the leader clears holderIdentity ("release"), so a successor takes over on its
  next attempt instead of waiting out the lease.

The state machine is `LeaderElector.tick()`, one attempt per call, driven by `run()`; the store
and both clocks are injected, which lets tests step through acquire, renew, loss and release
without sleeping.
"""

from __future__ import annotations

import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from fluidpy.client import GVK, Client, Forbidden
from fluidpy.context import Context
from fluidpy.log import get_logger
from fluidpy.metrics.leaderelection import MASTER_STATUS

LOGGER = "fluidpy.leaderelection"

LEASE_GVK = GVK("coordination.k8s.io", "v1", "Lease")
LEADER_ELECTION_ROLE = "fluidpy-leader-election"
"""The Role config/rbac grants for the Lease."""

JITTER_FACTOR = 0.2
"""Candidates wait retry_period * (1 + up to 0.2) between attempts: enough to keep several
candidates from hitting the API server in lockstep, small enough that a takeover still happens
within lease_duration + 1.2 * retry_period of the last renewal."""


@dataclass(frozen=True)
class LeaseRecord:
    """The part of a Lease's spec that election reads and writes."""

    holder_identity: str
    lease_duration_seconds: int
    acquire_time: datetime | None
    renew_time: datetime | None
    lease_transitions: int


class LeaseStore(Protocol):
    """Where the lease lives. Implementations remember the version they last read, and update()
    must fail when the stored lease changed since: that compare-and-swap is what keeps two
    candidates from both winning."""

    def get(self, ctx: Context) -> LeaseRecord | None: ...

    def create(self, record: LeaseRecord, ctx: Context) -> None: ...

    def update(self, record: LeaseRecord, ctx: Context) -> None: ...


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Timing and identity of one elector.

    The defaults (15 s / 10 s / 2 s) are Kubernetes' own: a crashed leader is replaced within
    about 15-20 s, while a leader survives an API server hiccup of up to 10 s without losing
    the lease.
    """

    lease_name: str
    identity: str
    lease_duration: float = 15.0
    """How long a lease is honoured after its last observed change; the failover time."""
    renew_deadline: float = 10.0
    """How long the leader keeps trying to renew before it gives up leading."""
    retry_period: float = 2.0
    """Time between attempts to acquire or renew."""
    lease_namespace: str = ""
    """Where the lease lives, for messages (the LeaseStore knows it for requests)."""
    release_on_cancel: bool = True
    """Clear the holder on a clean exit so a successor does not wait out lease_duration. On by
    default because fluidpy stops all leader-only work before it releases."""

    def __post_init__(self) -> None:
        if not self.lease_name or not self.identity:
            raise ValueError("lease_name and identity must be non-empty")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= (1 + JITTER_FACTOR) * self.retry_period:
            raise ValueError("renew_deadline must be greater than 1.2 * retry_period")
        if self.retry_period <= 0:
            raise ValueError("retry_period must be positive")


def default_identity() -> str:
    """Host name plus a random suffix: unique even for two managers in one pod or process."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LeaderElector:
    """Acquires, renews and releases one lease; see the module docstring for the algorithm."""

    def __init__(
        self,
        config: LeaderElectionConfig,
        store: LeaseStore,
        *,
        on_started_leading: Callable[[], None] = lambda: None,
        on_stopped_leading: Callable[[], None] = lambda: None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] = _utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._store = store
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._clock = clock if clock is not None else time.monotonic
        self._wall = wall_clock
        self._jitter = jitter
        self._leader = False
        self._lost = False
        self._last_renew = 0.0
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0
        self._forbidden = ""
        self._log = get_logger(LOGGER, lease=config.lease_name, identity=config.identity)
        MASTER_STATUS.labels(config.lease_name).set(0)

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def lost(self) -> bool:
        """True once leadership was held and then lost (not given up by release)."""
        return self._lost

    def lease_valid(self) -> bool:
        """Whether this process can prove, on its own monotonic clock, that it still holds the
        lease: it leads and its last successful renewal was sent less than renew_deadline ago.

        The fence of every leader-only write and reconcile. A leader that was paused (SIGSTOP,
        a long GC pause, a frozen VM) fails it the moment it resumes, before its election
        loop has even run, because the monotonic clock kept going while it was stopped.
        """
        return self._leader and self._clock() < self._last_renew + self.config.renew_deadline

    def run(self, ctx: Context) -> None:
        """Campaign and lead until `ctx` is done or the lease is lost; release on a clean exit."""
        try:
            while not ctx.done() and not self._lost:
                delay = self.tick(ctx)
                if self._lost:
                    return
                ctx.wait(delay)
        finally:
            if self._leader and self.config.release_on_cancel:
                release_ctx, cancel = Context.background().with_timeout(self.config.renew_deadline)
                try:
                    self.release(release_ctx)
                finally:
                    cancel()
            self._set_leader(False)

    def tick(self, ctx: Context) -> float:
        """Make one attempt to acquire or renew; returns the seconds to wait before the next."""
        cfg = self.config
        if self._lost:
            raise RuntimeError("leadership was lost; a new elector is needed")
        if self._leader:
            started = self._clock()
            remaining = self._last_renew + cfg.renew_deadline - started
            attempt_ctx, cancel = ctx.with_timeout(max(remaining, 0.0))
            try:
                renewed = self._try_acquire_or_renew(attempt_ctx)
            finally:
                cancel()
            if renewed:
                # From when the renewal was sent: others measure the lease from when they see
                # it change, which is later, so the lease is valid at least this long for them.
                self._last_renew = started
                return cfg.retry_period
            if self._held_by_other() or self._clock() - self._last_renew >= cfg.renew_deadline:
                self._lose()
                return 0.0
            return min(cfg.retry_period, self._last_renew + cfg.renew_deadline - self._clock())
        started = self._clock()
        attempt_ctx, cancel = ctx.with_timeout(cfg.renew_deadline)
        try:
            acquired = self._try_acquire_or_renew(attempt_ctx)
        finally:
            cancel()
        if acquired:
            self._last_renew = started
            self._set_leader(True)
            self._log.info("became leader")
            self._on_started()
            return cfg.retry_period
        return cfg.retry_period * (1 + JITTER_FACTOR * self._jitter())

    def release(self, ctx: Context) -> bool:
        """Clear the holder if we hold the lease; True when released."""
        if not self._leader:
            return False
        try:
            record = self._store.get(ctx)
            if record is None or record.holder_identity != self.config.identity:
                return False
            released = replace(record, holder_identity="", renew_time=self._wall())
            self._store.update(released, ctx)
        except Exception as exc:
            self._log.warning("could not release the lease", error=str(exc))
            return False
        self._observe(released)
        self._set_leader(False)
        self._log.info("released the lease")
        return True

    def _try_acquire_or_renew(self, ctx: Context) -> bool:
        cfg = self.config
        now = self._wall()
        try:
            record = self._store.get(ctx)
            if record is None:
                fresh = LeaseRecord(cfg.identity, _whole_seconds(cfg.lease_duration), now, now, 0)
                self._store.create(fresh, ctx)
                self._observe(fresh)
                return True
            self._observe(record)
            ours = record.holder_identity == cfg.identity
            if not ours and record.holder_identity and not self._observed_expired():
                return False
            desired = LeaseRecord(
                holder_identity=cfg.identity,
                lease_duration_seconds=_whole_seconds(cfg.lease_duration),
                acquire_time=record.acquire_time if ours else now,
                renew_time=now,
                lease_transitions=record.lease_transitions + (0 if ours else 1),
            )
            self._store.update(desired, ctx)
        except Forbidden as exc:
            self._report_forbidden(exc)
            return False
        except Exception as exc:
            self._log.info("lease attempt failed", error=str(exc) or type(exc).__name__)
            return False
        self._observe(desired)
        return True

    def _report_forbidden(self, exc: Forbidden) -> None:
        """Not a passing failure: nothing is reconciled until someone grants the Role. Said at
        error level, once per distinct refusal (the attempts go on every retry_period)."""
        if str(exc) == self._forbidden:
            return
        self._forbidden = str(exc)
        where = self.config.lease_namespace or "its namespace"
        self._log.error(
            "not allowed to use the leader election Lease; nothing is reconciled until this "
            f"is fixed: grant the manager's service account the Role {LEADER_ELECTION_ROLE} "
            f"(get, create, update on leases.coordination.k8s.io; config/rbac/"
            f"leader_election_role.yaml) in namespace {where}, or choose another namespace "
            "with --leader-election-namespace",
            error=str(exc),
        )

    def _observe(self, record: LeaseRecord) -> None:
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()

    def _observed_expired(self) -> bool:
        if self._observed is None:
            return True
        return self._clock() >= self._observed_at + self._observed.lease_duration_seconds

    def _held_by_other(self) -> bool:
        holder = self._observed.holder_identity if self._observed is not None else ""
        return holder not in ("", self.config.identity)

    def _lose(self) -> None:
        self._lost = True
        self._set_leader(False)
        self._log.error("lost the lease; leader-only work stops")
        self._on_stopped()

    def _set_leader(self, leader: bool) -> None:
        self._leader = leader
        MASTER_STATUS.labels(self.config.lease_name).set(1 if leader else 0)


def _whole_seconds(seconds: float) -> int:
    return max(round(seconds), 1)


class KubernetesLeaseStore:
    """A LeaseStore backed by a real Lease object, read and written past the informer cache."""

    def __init__(self, client: Client, namespace: str, name: str) -> None:
        self._client = client.live
        self._namespace = namespace
        self._name = name
        self._resource_version: str | None = None

    def get(self, ctx: Context) -> LeaseRecord | None:
        obj = self._client.get(LEASE_GVK, self._name, self._namespace, ctx=ctx)
        if obj is None:
            self._resource_version = None
            return None
        self._resource_version = obj["metadata"].get("resourceVersion")
        return lease_record_from_object(obj)

    def create(self, record: LeaseRecord, ctx: Context) -> None:
        created = self._client.create(self._render(record), ctx=ctx)
        self._resource_version = created["metadata"].get("resourceVersion")

    def update(self, record: LeaseRecord, ctx: Context) -> None:
        obj = self._render(record)
        obj["metadata"]["resourceVersion"] = self._resource_version
        updated = self._client.update(obj, ctx=ctx)
        self._resource_version = updated["metadata"].get("resourceVersion")

    def _render(self, record: LeaseRecord) -> dict[str, Any]:
        return lease_object(self._namespace, self._name, record)


def lease_object(namespace: str, name: str, record: LeaseRecord) -> dict[str, Any]:
    """The Lease manifest carrying `record`."""
    spec: dict[str, Any] = {
        "holderIdentity": record.holder_identity,
        "leaseDurationSeconds": record.lease_duration_seconds,
        "leaseTransitions": record.lease_transitions,
    }
    if record.acquire_time is not None:
        spec["acquireTime"] = _format_micro_time(record.acquire_time)
    if record.renew_time is not None:
        spec["renewTime"] = _format_micro_time(record.renew_time)
    return {
        "apiVersion": LEASE_GVK.api_version,
        "kind": LEASE_GVK.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def lease_record_from_object(obj: dict[str, Any]) -> LeaseRecord:
    spec = obj.get("spec") or {}
    return LeaseRecord(
        holder_identity=spec.get("holderIdentity") or "",
        lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
        acquire_time=_parse_micro_time(spec.get("acquireTime")),
        renew_time=_parse_micro_time(spec.get("renewTime")),
        lease_transitions=int(spec.get("leaseTransitions") or 0),
    )


def _format_micro_time(value: datetime) -> str:
    """Kubernetes MicroTime: RFC 3339 in UTC with exactly six fractional digits."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_micro_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

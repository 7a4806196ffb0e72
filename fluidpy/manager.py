"""The manager: one process's controllers, shared caches, probes, metrics and leader election.

Start-up order: the probe and metrics servers bind first (a busy port fails at once), then the
event writer, then the shared informer cache; runnables that do not need leadership start next.
Controllers and other leader-only runnables start when this process becomes leader, or at once
when leader election is off. Informers run on every replica, so a standby's caches (and its
controllers' queues) are warm when it takes over.

Shutdown (SIGTERM, SIGINT, the caller's Context, or a runnable failing) runs the other way:

1. controllers stop taking new keys and drain what is queued, each reconcile keeping a live
   Context, for at most `graceful_shutdown_timeout`; then in-flight reconciles are cancelled;
2. the lease is released (its holder cleared), so a successor takes over on its next attempt
   instead of waiting out the lease; this happens only after leader-only work has stopped;
3. informers stop, queued events are written, the HTTP servers close.

A second signal during shutdown exits the process at once with status 1.

Losing the lease is different: another replica may already be reconciling, so leader-only work
is aborted without draining (reconcile Contexts are cancelled at once), nothing is released,
and run() raises LeaderElectionLostError. The process is expected to exit and be restarted by
its Deployment, exactly as controller-runtime managers do; trying to carry on would mean
running with state that may already be stale.

Leadership is fenced on the leader's own monotonic clock: while it cannot prove that its last
successful renewal was sent less than renew_deadline ago, it starts no reconcile and its client
sends no write (WriteFenced, nothing leaves the process). A leader paused past its lease
(SIGSTOP, a long GC pause, a frozen VM) therefore stays silent from the moment it resumes,
before its election loop notices the loss, and an in-flight reconcile fails at its next write.
renew_deadline < lease_duration leaves the gap in which no successor can have started yet.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from fluidpy.cache import Cache, KindOptions
from fluidpy.client import GVK, ApiServerConnection, Client
from fluidpy.context import Context
from fluidpy.controller import Builder, Controller, Source
from fluidpy.events import ClientEventSink, EventBroadcaster, EventRecorder
from fluidpy.healthz import Check, CheckError, HealthProbes, ping
from fluidpy.httpserver import HTTPServer, parse_bind_address
from fluidpy.leaderelection import (
    KubernetesLeaseStore,
    LeaderElectionConfig,
    LeaderElector,
    default_identity,
)
from fluidpy.log import get_logger
from fluidpy.metrics.server import metrics_server

log = get_logger("fluidpy.manager")

Runnable = Callable[[Context], None]

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class LeaderElectionLostError(Exception):
    """This process lost its lease; leader-only work was stopped and the process should exit."""


@dataclass(frozen=True)
class ManagerOptions:
    """How a manager runs; every default is the usual one for a controller in a pod."""

    leader_election: bool = False
    """Off by default, as in controller-runtime: a single replica needs no lease, and running
    locally against a shared cluster should not steal leadership by accident. Turn it on
    whenever more than one replica may run."""
    leader_election_id: str = "fluidpy-controller-manager"
    """The Lease's name; replicas that must exclude each other share it."""
    leader_election_namespace: str | None = None
    """Where the Lease lives; defaults to the pod's own namespace, or fluid-system outside a pod
    (where config/rbac grants the Role for it)."""
    leader_election_identity: str | None = None
    """This replica's name in the Lease; defaults to host name plus a random suffix."""
    lease_duration: float = 15.0
    """Failover time after a crash (Kubernetes' default); see fluidpy.leaderelection."""
    renew_deadline: float = 10.0
    """How long the leader tolerates failed renewals before it stops leading."""
    retry_period: float = 2.0
    """Time between acquire and renew attempts."""
    leader_election_release_on_cancel: bool = True
    """Release the lease on a clean exit, so rolling updates hand over in seconds, not 15 s."""
    health_probe_bind_address: str = ":8081"
    """Where /healthz and /readyz are served (kubebuilder's port); "0" disables them."""
    metrics_bind_address: str = ":8080"
    """Where /metrics is served (controller-runtime's default); "0" disables it."""
    graceful_shutdown_timeout: float = 30.0
    """Time to drain queues and finish reconciles on shutdown: Kubernetes' default
    terminationGracePeriodSeconds, after which the kubelet kills the pod anyway."""
    namespaces: tuple[str, ...] | None = None
    """Namespaces the cache watches; None (default) watches all of them."""
    cache_kinds: Mapping[GVK, KindOptions] | None = None
    """Per-kind cache options (fluidpy.cache.KindOptions: selectors, a transform that keeps only
    the fields readers use, metadata only); None (default) caches every kind whole within
    `namespaces`, since only the product knows what its readers read."""
    resync_period: float = 36000.0
    """Informer resync period: 10 h, a safety net for missed changes, not a polling loop."""
    qps: float = 20.0
    """Client-side API request rate (Fluid's setting): polite to a shared API server while
    letting a busy controller work; bursts of `burst` requests pass at once."""
    burst: int = 30
    """Requests allowed at once above `qps` (Fluid's setting): a reconcile that writes several
    objects in a row is not slowed down, while a sustained storm still is."""
    field_manager: str = "fluidpy"
    """Field manager for server-side apply: one fixed name, so every replica and every restart
    owns the same fields and an apply never conflicts with this controller's own earlier one."""
    handle_signals: bool = True
    """Install SIGTERM/SIGINT handlers in run() (only possible on the main thread)."""


class Manager:
    """Owns the shared client and cache and runs everything registered with it."""

    def __init__(
        self,
        connection: ApiServerConnection | None = None,
        options: ManagerOptions | None = None,
        *,
        client: Client | None = None,
        cache: Cache | None = None,
    ) -> None:
        """Build from a connection (fluidpy.client.config), or from a ready `client` (and
        `cache`)."""
        self.options = options or ManagerOptions()
        opts = self.options
        if client is None:
            if connection is None:
                raise ValueError("Manager needs a connection or a client")
            client = Client(
                connection, qps=opts.qps, burst=opts.burst, field_manager=opts.field_manager
            )
        if cache is None:
            cache = Cache(
                client,
                namespaces=list(opts.namespaces) if opts.namespaces is not None else None,
                resync_period=opts.resync_period,
                by_kind=opts.cache_kinds,
            )
        self.cache = cache
        self._lease_client = client
        self._election: LeaderElector | None = None
        self.client = client.with_cache(cache)
        if opts.leader_election:
            self.client = self.client.with_write_fence(self._lease_valid)
        self.identity = opts.leader_election_identity or default_identity()
        self.probes = HealthProbes()
        self.probes.healthz.add("ping", ping)
        self.probes.readyz.add("informers-synced", self._check_synced)
        # Events have their own rate limit, as controller-runtime's recorder has its own
        # client: a burst of Warning events (bad input) never delays reconciles' requests.
        self._events = EventBroadcaster(ClientEventSink(self.client.with_own_rate_limit()))
        self._lock = threading.Lock()
        self._controllers: dict[str, tuple[Controller, bool]] = {}
        self._runnables: list[tuple[Runnable, bool, str]] = []
        self._synced = threading.Event()
        self._leader = threading.Event()
        self._stopping = False
        self._lost = False
        self._ran = False
        self._failure: BaseException | None = None
        self._health_server: HTTPServer | None = None
        self._metrics_server: HTTPServer | None = None
        self._leader_threads: list[threading.Thread] = []
        self._stop: Callable[[], None] = lambda: None
        self._cancel_leader: Callable[[], None] = lambda: None

    # Registration ------------------------------------------------------------------------

    @property
    def graceful_shutdown_timeout(self) -> float:
        return self.options.graceful_shutdown_timeout

    def controller(self, name: str) -> Builder:
        """Start building a controller; names are unique within a manager."""
        return Builder(self, name)

    def add_controller(self, controller: Controller, *, need_leader_election: bool) -> None:
        with self._lock:
            if self._ran:
                raise RuntimeError("controllers must be added before run()")
            if controller.name in self._controllers:
                raise ValueError(f"a controller named {controller.name!r} already exists")
            self._controllers[controller.name] = (controller, need_leader_election)
            if need_leader_election and self.options.leader_election:
                controller.gate_reconciles(self._lease_valid)

    def informer_for(self, gvk: GVK, label_selector: str | None = None) -> Source:
        return self.cache.informer_for(gvk, label_selector)

    def is_namespaced(self, gvk: GVK) -> bool:
        return self.client.mapping(gvk).namespaced

    def add_runnable(self, fn: Runnable, *, needs_leader: bool = True, name: str = "") -> None:
        """Run `fn(ctx)` on its own thread while the manager runs (and leads, if needs_leader).

        `fn` should return once `ctx` is done; an exception from it stops the manager.
        """
        with self._lock:
            if self._ran:
                raise RuntimeError("runnables must be added before run()")
            self._runnables.append((fn, needs_leader, name or getattr(fn, "__name__", "runnable")))

    def add_healthz_check(self, name: str, check: Check) -> None:
        self.probes.healthz.add(name, check)

    def add_readyz_check(self, name: str, check: Check) -> None:
        self.probes.readyz.add(name, check)

    def event_recorder(self, component: str) -> EventRecorder:
        return self._events.recorder(component)

    # State -------------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """True while leader-only work may run (always, once started, without election)."""
        return self._leader.is_set()

    def wait_for_leadership(self, timeout: float | None = None) -> bool:
        return self._leader.wait(timeout)

    @property
    def health_probe_port(self) -> int | None:
        """The bound probe port (useful with ":0"); None when disabled or not running."""
        return self._health_server.port if self._health_server is not None else None

    @property
    def metrics_port(self) -> int | None:
        return self._metrics_server.port if self._metrics_server is not None else None

    def _check_synced(self) -> None:
        if not self._synced.is_set():
            raise CheckError("informer caches have not synced yet")

    # Running -----------------------------------------------------------------------------

    def run(self, ctx: Context | None = None) -> None:
        """Run until `ctx` is done or a signal arrives; blocks. See the module docstring.

        Raises LeaderElectionLostError after losing the lease, or the exception of a runnable
        or controller that failed.
        """
        with self._lock:
            if self._ran:
                raise RuntimeError("a manager runs only once")
            self._ran = True
        stop_ctx, stop = (ctx or Context.background()).with_cancel()
        self._stop = stop
        restore_signals = self._install_signal_handlers(stop)
        leader_ctx, self._cancel_leader = Context.background().with_cancel()
        others_ctx, cancel_others = Context.background().with_cancel()
        cache_ctx, cancel_cache = Context.background().with_cancel()
        elector_ctx, cancel_elector = Context.background().with_cancel()
        other_threads: list[threading.Thread] = []
        elector_thread: threading.Thread | None = None
        try:
            self._start_servers()
            self._events.start()
            self.cache.start(cache_ctx)
            other_threads.append(self._spawn("cache-sync", self._wait_for_sync, stop_ctx))
            for controller, needs_leader in self._controllers.values():
                if not needs_leader:
                    other_threads.append(self._spawn(controller.name, controller.start, others_ctx))
            for fn, needs_leader, name in self._runnables:
                if not needs_leader:
                    other_threads.append(self._spawn(name, fn, others_ctx))
            if self.options.leader_election:
                elector = self._elector(leader_ctx)
                elector_thread = self._spawn("leader-election", elector.run, elector_ctx)
            else:
                self._start_leading(leader_ctx)
            while not stop_ctx.wait(1.0):
                pass
        finally:
            self._shut_down(
                cancel_others, other_threads, cancel_elector, elector_thread, cancel_cache
            )
            restore_signals()
        if self._lost:
            raise LeaderElectionLostError(
                f"lost the lease {self.options.leader_election_id!r}; leader-only work stopped"
            )
        if self._failure is not None:
            raise self._failure

    def _lease_valid(self) -> bool:
        election = self._election
        return election is not None and election.lease_valid()

    def _elector(self, leader_ctx: Context) -> LeaderElector:
        opts = self.options
        namespace = opts.leader_election_namespace or own_namespace()
        config = LeaderElectionConfig(
            lease_name=opts.leader_election_id,
            lease_namespace=namespace,
            identity=self.identity,
            lease_duration=opts.lease_duration,
            renew_deadline=opts.renew_deadline,
            retry_period=opts.retry_period,
            release_on_cancel=opts.leader_election_release_on_cancel,
        )
        self._election = LeaderElector(
            config,
            # The lease itself is not fenced: renewing it is how the fence opens again.
            KubernetesLeaseStore(self._lease_client, namespace, opts.leader_election_id),
            on_started_leading=lambda: self._start_leading(leader_ctx),
            on_stopped_leading=self._lost_leadership,
        )
        return self._election

    def _start_leading(self, leader_ctx: Context) -> None:
        with self._lock:
            if self._stopping:
                return
            self._leader.set()
            for controller, needs_leader in self._controllers.values():
                if needs_leader:
                    self._leader_threads.append(
                        self._spawn(controller.name, controller.start, leader_ctx)
                    )
            for fn, needs_leader, name in self._runnables:
                if needs_leader:
                    self._leader_threads.append(self._spawn(name, fn, leader_ctx))

    def _lost_leadership(self) -> None:
        with self._lock:
            self._lost = True
            self._leader.clear()
            leading = [c for c, needs_leader in self._controllers.values() if needs_leader]
        for controller in leading:
            controller.abort()
        self._cancel_leader()
        self._stop()

    def _wait_for_sync(self, ctx: Context) -> None:
        if self.cache.wait_for_cache_sync(ctx):
            self._synced.set()
            log.info("informer caches synced")

    def _spawn(self, name: str, fn: Runnable, ctx: Context) -> threading.Thread:
        def target() -> None:
            try:
                fn(ctx)
            except BaseException as exc:
                log.error("runnable failed; stopping the manager", runnable=name, exc_info=exc)
                with self._lock:
                    if self._failure is None:
                        self._failure = exc
                self._stop()

        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _start_servers(self) -> None:
        health = parse_bind_address(self.options.health_probe_bind_address)
        if health is not None:
            server = HTTPServer("health-probes", health, self.probes.handle)
            server.start()
            self._health_server = server
        metrics = parse_bind_address(self.options.metrics_bind_address)
        if metrics is not None:
            server = metrics_server(metrics)
            server.start()
            self._metrics_server = server

    def _shut_down(
        self,
        cancel_others: Callable[[], None],
        other_threads: list[threading.Thread],
        cancel_elector: Callable[[], None],
        elector_thread: threading.Thread | None,
        cancel_cache: Callable[[], None],
    ) -> None:
        with self._lock:
            self._stopping = True
            leader_threads = list(self._leader_threads)
        lost = self._lost
        log.info("shutting down", lease_lost=lost)
        deadline = time.monotonic() + (0.0 if lost else self.options.graceful_shutdown_timeout)
        self._cancel_leader()
        cancel_others()
        for thread in [*leader_threads, *other_threads]:
            thread.join(max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                log.warning(
                    "runnable still running after the graceful shutdown timeout",
                    runnable=thread.name,
                )
        self._leader.clear()
        cancel_elector()
        if elector_thread is not None:
            elector_thread.join(self.options.renew_deadline)
        cancel_cache()
        self._events.stop(timeout=max(deadline - time.monotonic(), 1.0))
        for server in (self._health_server, self._metrics_server):
            if server is not None:
                server.stop()
        self._health_server = self._metrics_server = None
        log.info("manager stopped")

    def _install_signal_handlers(self, stop: Callable[[], None]) -> Callable[[], None]:
        if (
            not self.options.handle_signals
            or threading.current_thread() is not threading.main_thread()
        ):
            return lambda: None
        received: list[int] = []

        def handler(signum: int, _frame: FrameType | None) -> None:
            received.append(signum)
            if len(received) > 1:
                log.error("second signal during shutdown; exiting now", signal=signum)
                os._exit(1)
            log.info("signal received; shutting down gracefully", signal=signum)
            stop()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


DEFAULT_LEASE_NAMESPACE = "fluid-system"
"""Outside a pod: where config/rbac grants the leader election Role (and what --help says)."""


def own_namespace() -> str:
    """The pod's namespace from its service account mount, or fluid-system outside a pod."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or DEFAULT_LEASE_NAMESPACE
    except OSError:
        return DEFAULT_LEASE_NAMESPACE

"""The manager's lifecycle, wiring and leader election, against an in-memory API and cache."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fluidpy import manager as manager_module
from fluidpy.client import GVK
from fluidpy.context import Context
from fluidpy.controller import EnqueueHandler, Request
from fluidpy.manager import LeaderElectionLostError, Manager, ManagerOptions
from fluidpy.testing import FakeClient, ObjectStore

WAIT = 10.0
CONFIGMAP = GVK("", "v1", "ConfigMap")
LEASE = GVK("coordination.k8s.io", "v1", "Lease")


class FakeInformer:
    def __init__(self, cache: FakeCache) -> None:
        self.cache = cache
        self.handlers: list[EnqueueHandler] = []

    def add_event_handler(self, handler: EnqueueHandler) -> None:
        self.handlers.append(handler)

    def has_synced(self) -> bool:
        return self.cache.synced.is_set()

    def emit_add(self, obj: dict[str, Any]) -> None:
        for handler in self.handlers:
            handler.on_add(obj, is_initial_list=False)


class FakeCache:
    def __init__(self, synced: bool = True) -> None:
        self.informers: dict[GVK, FakeInformer] = {}
        self.synced = threading.Event()
        if synced:
            self.synced.set()
        self.started_with: Context | None = None

    def informer_for(self, gvk: GVK, label_selector: str | None = None) -> FakeInformer:
        assert label_selector is None, "these tests watch whole kinds"
        return self.informers.setdefault(gvk, FakeInformer(self))

    def start(self, ctx: Context) -> None:
        self.started_with = ctx

    def wait_for_cache_sync(self, ctx: Context) -> bool:
        while not self.synced.is_set():
            if ctx.wait(0.01):
                return False
        return True


def options(**overrides: Any) -> ManagerOptions:
    base: dict[str, Any] = {
        "health_probe_bind_address": "127.0.0.1:0",
        "metrics_bind_address": "0",
        "handle_signals": False,
        "graceful_shutdown_timeout": 5.0,
    }
    base.update(overrides)
    return ManagerOptions(**base)


def new_manager(
    api: ObjectStore | None = None, cache: FakeCache | None = None, **overrides: Any
) -> tuple[Manager, FakeClient, FakeCache]:
    client = FakeClient(store=api or ObjectStore())
    cache = cache or FakeCache()
    manager = Manager(options=options(**overrides), client=client, cache=cache)  # type: ignore[arg-type]
    return manager, client, cache


class Running:
    """A manager running on a background thread, with its outcome."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.ctx, self.cancel = Context.background().with_cancel()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.manager.run(self.ctx)
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self.cancel()
        self.join()

    def join(self) -> None:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "manager did not stop"


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def configmap(name: str, namespace: str = "ns") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
    }


def http_status(port: int | None, path: str) -> int:
    assert port is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def stop_later() -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for r in running:
        r.cancel()
        r.thread.join(WAIT)


def test_controller_names_are_unique_within_a_manager() -> None:
    manager, _, _ = new_manager()
    manager.controller("same").for_(CONFIGMAP).complete(lambda ctx, req: None)
    with pytest.raises(ValueError):
        manager.controller("same").for_(CONFIGMAP).complete(lambda ctx, req: None)


def test_a_manager_reconciles_events_and_stops_with_its_context(
    stop_later: list[Running],
) -> None:
    manager, _, cache = new_manager()
    seen: list[Request] = []
    manager.controller("cms").for_(CONFIGMAP).complete(lambda ctx, req: seen.append(req))
    running = Running(manager)
    stop_later.append(running)
    cache.informers[CONFIGMAP].emit_add(configmap("a"))
    wait_until(lambda: seen == [Request("ns", "a")], "the reconcile")
    running.stop()
    assert running.error is None
    assert cache.started_with is not None and cache.started_with.done()


def test_readyz_fails_until_the_caches_have_synced(stop_later: list[Running]) -> None:
    manager, _, cache = new_manager(cache=FakeCache(synced=False))
    running = Running(manager)
    stop_later.append(running)
    wait_until(lambda: manager.health_probe_port is not None, "the probe server")
    port = manager.health_probe_port
    assert http_status(port, "/healthz") == 200
    assert http_status(port, "/readyz") == 500
    assert http_status(port, "/readyz/informers-synced") == 500
    cache.synced.set()
    wait_until(lambda: http_status(port, "/readyz") == 200, "readiness")
    running.stop()


def test_custom_checks_are_served(stop_later: list[Running]) -> None:
    manager, _, _ = new_manager()
    healthy = threading.Event()

    def engine_alive() -> None:
        if not healthy.is_set():
            raise RuntimeError("engine not alive")

    manager.add_healthz_check("engine", engine_alive)
    manager.add_readyz_check("always", lambda: None)
    running = Running(manager)
    stop_later.append(running)
    wait_until(lambda: manager.health_probe_port is not None, "the probe server")
    port = manager.health_probe_port
    assert http_status(port, "/healthz/engine") == 500
    healthy.set()
    assert http_status(port, "/healthz") == 200
    assert http_status(port, "/readyz/always") == 200
    running.stop()


def test_a_disabled_server_is_not_started(stop_later: list[Running]) -> None:
    manager, _, _ = new_manager(health_probe_bind_address="0", metrics_bind_address="0")
    running = Running(manager)
    stop_later.append(running)
    wait_until(lambda: manager.is_leader, "start")
    assert manager.health_probe_port is None and manager.metrics_port is None
    running.stop()


def test_runnables_run_with_the_manager_and_stop_with_it(stop_later: list[Running]) -> None:
    manager, _, _ = new_manager()
    states: dict[str, str] = {}

    def runnable(name: str) -> Any:
        def run(ctx: Context) -> None:
            states[name] = "running"
            ctx.wait()
            states[name] = "stopped"

        return run

    manager.add_runnable(runnable("leader-only"))
    manager.add_runnable(runnable("everywhere"), needs_leader=False)
    running = Running(manager)
    stop_later.append(running)
    wait_until(lambda: len(states) == 2, "runnables to start")
    running.stop()
    assert states == {"leader-only": "stopped", "everywhere": "stopped"}


def test_a_failing_runnable_stops_the_manager_and_run_raises_its_error() -> None:
    manager, _, _ = new_manager()

    def broken(ctx: Context) -> None:
        raise RuntimeError("runnable broke")

    manager.add_runnable(broken)
    running = Running(manager)
    running.join()
    assert isinstance(running.error, RuntimeError)
    assert str(running.error) == "runnable broke"


def test_registration_after_run_and_a_second_run_are_rejected(
    stop_later: list[Running],
) -> None:
    manager, _, _ = new_manager()
    running = Running(manager)
    stop_later.append(running)
    wait_until(lambda: manager.is_leader, "start")
    with pytest.raises(RuntimeError):
        manager.add_runnable(lambda ctx: None)
    with pytest.raises(RuntimeError):
        manager.controller("late").for_(CONFIGMAP).complete(lambda ctx, req: None)
    with pytest.raises(RuntimeError):
        manager.run(Context.background())
    running.stop()


def test_events_recorded_through_the_manager_are_written(stop_later: list[Running]) -> None:
    api = ObjectStore()
    manager, _, _ = new_manager(api)
    recorder = manager.event_recorder("tester")
    running = Running(manager)
    stop_later.append(running)
    recorder.event(configmap("a"), "Normal", "Tested", "hello")
    running.stop()  # stopping writes what is queued
    events = [o for (gvk, _, _), o in api.objects.items() if gvk.kind == "Event"]
    assert [(e["reason"], e["source"]["component"]) for e in events] == [("Tested", "tester")]


def test_sigterm_shuts_the_manager_down_gracefully() -> None:
    manager, _, _ = new_manager(handle_signals=True)
    stopped_cleanly = threading.Event()

    def runnable(ctx: Context) -> None:
        ctx.wait()
        stopped_cleanly.set()

    manager.add_runnable(runnable)
    previous = signal.getsignal(signal.SIGTERM)
    threading.Thread(
        target=lambda: (manager.wait_for_leadership(WAIT), os.kill(os.getpid(), signal.SIGTERM)),
        daemon=True,
    ).start()
    manager.run()  # on the main thread, where signal handlers live
    assert stopped_cleanly.is_set()
    assert signal.getsignal(signal.SIGTERM) == previous


# Leader election ---------------------------------------------------------------------------

ELECTION = {
    "leader_election": True,
    "leader_election_id": "unit-lock",
    "leader_election_namespace": "kube-system",
    "lease_duration": 2.0,
    "renew_deadline": 1.0,
    "retry_period": 0.2,
}


def electing(
    api: ObjectStore, identity: str, reconciled: list[tuple[str, Request]]
) -> tuple[Manager, FakeClient, FakeCache]:
    manager, client, cache = new_manager(api, leader_election_identity=identity, **ELECTION)
    manager.controller("cms").for_(CONFIGMAP).complete(
        lambda ctx, req: reconciled.append((identity, req))
    )
    return manager, client, cache


def lease_holder(api: ObjectStore) -> str | None:
    lease = api.objects.get(api.key(LEASE, "unit-lock", "kube-system"))
    return None if lease is None else lease["spec"]["holderIdentity"]


def test_only_the_leader_reconciles_and_a_clean_exit_hands_over(
    stop_later: list[Running],
) -> None:
    api = ObjectStore()
    reconciled: list[tuple[str, Request]] = []
    a, _, cache_a = electing(api, "a", reconciled)
    running_a = Running(a)
    stop_later.append(running_a)
    wait_until(lambda: a.is_leader, "a to lead")
    b, _, cache_b = electing(api, "b", reconciled)
    running_b = Running(b)
    stop_later.append(running_b)
    for cache in (cache_a, cache_b):
        cache.informers[CONFIGMAP].emit_add(configmap("x"))
    wait_until(lambda: reconciled == [("a", Request("ns", "x"))], "a's reconcile")
    assert not b.is_leader
    running_a.stop()
    assert running_a.error is None
    assert lease_holder(api) in ("", "b")
    # b's queue already holds the key, so it reconciles as soon as it leads.
    wait_until(lambda: ("b", Request("ns", "x")) in reconciled, "b to take over")
    assert b.is_leader
    running_b.stop()
    assert lease_holder(api) == ""


def test_losing_the_lease_aborts_leader_work_and_run_raises(stop_later: list[Running]) -> None:
    api = ObjectStore()
    started = threading.Event()
    outcome: list[Exception | None] = []
    manager, client, cache = new_manager(api, leader_election_identity="a", **ELECTION)

    def reconcile(ctx: Context, req: Request) -> None:
        started.set()
        ctx.wait(WAIT)  # a long reconcile, cancelled when leadership is lost
        outcome.append(ctx.err())

    manager.controller("cms").for_(CONFIGMAP).complete(reconcile)
    running = Running(manager)
    stop_later.append(running)
    wait_until(lambda: manager.is_leader, "leadership")
    cache.informers[CONFIGMAP].emit_add(configmap("x"))
    assert started.wait(WAIT)
    client.unreachable = True  # renewals fail from now on
    running.join()
    assert isinstance(running.error, LeaderElectionLostError)
    assert not manager.is_leader
    wait_until(lambda: outcome, "the reconcile to see cancellation")
    assert type(outcome[0]).__name__ == "Cancelled"
    assert lease_holder(api) == "a"  # nothing was released: the lease simply runs out


def test_outside_a_pod_the_lease_lives_in_fluid_system_as_the_help_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(manager_module, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "absent")

    assert manager_module.own_namespace() == "fluid-system"

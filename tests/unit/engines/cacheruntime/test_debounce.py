"""The runtime config is written at once when quiet, and at most once per interval in a burst."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

import pytest

from fluidpy.context import Context
from fluidpy.engines.cacheruntime.debounce import (
    INCOMPLETE_WRITE_INTERVAL,
    DebouncedWriter,
    Scheduler,
)

CTX = Context.background()


class ManualScheduler:
    """Holds callbacks until the test runs the ones that are due."""

    def __init__(self) -> None:
        self.due: dict[Hashable, tuple[float, Callable[[], None]]] = {}

    def schedule(self, key: Hashable, due: float, callback: Callable[[], None]) -> None:
        self.due[key] = (due, callback)

    def cancel(self, key: Hashable) -> None:
        self.due.pop(key, None)

    def run_due(self, now: float) -> None:
        for key, (due, callback) in list(self.due.items()):
            if due <= now:
                del self.due[key]
                callback()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


OWNER = {"kind": "CacheRuntime", "name": "demofs", "uid": "uid-runtime", "controller": True}
"""Every rendering names its runtime as its controller."""


def config_map(topology: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "fluid-runtime-config-demofs",
            "namespace": "default",
            "ownerReferences": [OWNER],
        },
        "data": {"runtime.json": topology},
    }


@pytest.fixture
def setup(fake_client: Any) -> tuple[DebouncedWriter, Any, ManualScheduler, Clock]:
    clock, scheduler = Clock(), ManualScheduler()
    writer = DebouncedWriter("demofs", min_interval=2.0, scheduler=scheduler, clock=clock)  # type: ignore[arg-type]
    return writer, fake_client(), scheduler, clock


def live(client: Any) -> Any:
    return client.find("ConfigMap", "fluid-runtime-config-demofs", "default")


def test_a_change_after_a_quiet_interval_is_written_at_once(setup: Any) -> None:
    writer, client, scheduler, clock = setup

    assert writer.submit(client, config_map("v1"), None, CTX)
    clock.now += 2.0
    assert writer.submit(client, config_map("v2"), live(client), CTX)

    assert live(client)["data"] == {"runtime.json": "v2"}
    assert writer.writes == 2
    assert not scheduler.due


def test_changes_inside_the_interval_are_held_and_merged_into_one_write(setup: Any) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("pods: 0"), None, CTX)

    for pods in range(1, 101):
        clock.now += 0.01
        assert not writer.submit(client, config_map(f"pods: {pods}"), live(client), CTX)

    assert writer.writes == 1
    assert writer.holding
    clock.now = 102.0
    scheduler.run_due(clock.now)
    assert live(client)["data"] == {"runtime.json": "pods: 100"}
    assert writer.writes == 2
    assert not writer.holding


def test_the_held_write_is_due_one_interval_after_the_last_write(setup: Any) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("a"), None, CTX)
    clock.now += 0.5

    writer.submit(client, config_map("b"), live(client), CTX)

    assert scheduler.due["demofs"][0] == 102.0


def test_a_missing_config_is_written_at_once_even_while_the_topology_fills_in(
    setup: Any,
) -> None:
    writer, client, _, _ = setup

    assert writer.submit(client, config_map("master: no IP"), None, CTX, complete=False)

    assert live(client)["data"] == {"runtime.json": "master: no IP"}


def test_an_incomplete_topology_is_held_until_it_completes(setup: Any) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("master: no IP"), None, CTX, complete=False)
    clock.now += 3.0  # past the interval, but the workers have no IPs yet

    assert not writer.submit(client, config_map("master: IP"), live(client), CTX, complete=False)
    assert scheduler.due["demofs"][0] == 100.0 + INCOMPLETE_WRITE_INTERVAL
    clock.now += 1.0
    assert writer.submit(client, config_map("master, workers: IPs"), live(client), CTX)

    assert live(client)["data"] == {"runtime.json": "master, workers: IPs"}
    assert writer.writes == 2
    assert not scheduler.due


def test_a_topology_that_stays_incomplete_is_still_written_after_the_longer_interval(
    setup: Any,
) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("master: no IP"), None, CTX, complete=False)
    writer.submit(client, config_map("master: IP"), live(client), CTX, complete=False)

    clock.now += INCOMPLETE_WRITE_INTERVAL
    scheduler.run_due(clock.now)

    assert live(client)["data"] == {"runtime.json": "master: IP"}


def test_a_change_that_returns_to_the_live_content_drops_the_held_write(setup: Any) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("a"), None, CTX)
    clock.now += 0.5
    writer.submit(client, config_map("b"), live(client), CTX)

    assert not writer.submit(client, config_map("a"), live(client), CTX)

    assert not writer.holding
    assert not scheduler.due
    assert writer.writes == 1


def test_nothing_is_written_while_the_cache_has_not_seen_the_last_write(setup: Any) -> None:
    writer, client, _, clock = setup
    writer.submit(client, config_map("a"), None, CTX)
    clock.now += 5

    assert not writer.submit(client, config_map("a"), None, CTX)
    assert writer.writes == 1


def test_a_config_map_deleted_after_the_cache_saw_it_is_written_again(setup: Any) -> None:
    writer, client, _, clock = setup
    writer.submit(client, config_map("a"), None, CTX)
    writer.submit(client, config_map("a"), live(client), CTX)  # the cache shows our write
    clock.now += 5

    assert writer.submit(client, config_map("a"), None, CTX)
    assert writer.writes == 2


def test_cancel_forgets_the_held_write(setup: Any) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("a"), None, CTX)
    clock.now += 0.5
    writer.submit(client, config_map("b"), live(client), CTX)

    writer.cancel()

    assert not scheduler.due
    assert not writer.holding


def test_a_failed_held_write_is_held_again_and_retried(setup: Any) -> None:
    writer, client, scheduler, clock = setup
    writer.submit(client, config_map("a"), None, CTX)
    clock.now += 0.5
    writer.submit(client, config_map("b"), live(client), CTX)
    apply = client.apply

    def failing(*_: Any, **__: Any) -> Any:
        raise ConnectionError("API server unreachable")

    client.apply = failing
    clock.now = 102.0
    with pytest.raises(ConnectionError):
        scheduler.run_due(clock.now)

    assert writer.holding
    client.apply = apply
    clock.now = 104.0
    scheduler.run_due(clock.now)
    assert live(client)["data"] == {"runtime.json": "b"}


def test_the_scheduler_runs_the_latest_callback_of_a_key_and_skips_cancelled_ones() -> None:
    scheduler = Scheduler()
    ran: list[str] = []
    done = threading.Event()
    now = scheduler._clock()

    # Due half a second ahead, so replacing and cancelling happen before the scheduler's thread
    # may run anything (a callback due "now" could run between two of these lines).
    soon = now + 0.5
    scheduler.schedule("a", soon, lambda: ran.append("a-first"))
    scheduler.schedule("a", soon, lambda: ran.append("a-second"))
    scheduler.schedule("b", soon, lambda: ran.append("b"))
    scheduler.cancel("b")

    def last() -> None:
        ran.append("c")
        done.set()

    scheduler.schedule("c", soon + 0.05, last)

    assert done.wait(30)
    assert ran == ["a-second", "c"]
    assert not scheduler.pending("a")

"""Probes run slow queries off the reconcile thread, one at a time, no more often than asked."""

from __future__ import annotations

import threading

from fluidpy.context import Context
from fluidpy.engines.masterworker.probe import Probe


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_probe_runs_in_the_background_and_keeps_the_latest_outcome() -> None:
    probe = Probe("p", lambda ctx: 42)

    assert probe.latest is None
    assert probe.start() is True
    outcome = probe.wait(10)

    assert outcome is not None
    assert (outcome.value, outcome.error) == (42, None)


def test_only_one_run_is_in_flight() -> None:
    release = threading.Event()
    runs: list[int] = []

    def query(ctx: Context) -> int:
        runs.append(1)
        release.wait(10)
        return len(runs)

    probe = Probe("p", query)
    assert probe.start() is True
    assert probe.start() is False
    release.set()
    probe.wait(10)

    assert runs == [1]


def test_starts_are_spaced_by_the_interval() -> None:
    clock = Clock()
    probe = Probe("p", lambda ctx: 1, interval=5.0, clock=clock)

    assert probe.start() is True
    probe.wait(10)
    clock.now += 4.9
    assert probe.start() is False
    clock.now += 0.1
    assert probe.start() is True
    probe.wait(10)


def test_a_failing_query_is_an_outcome_with_its_error() -> None:
    def query(ctx: Context) -> int:
        raise RuntimeError("exec failed")

    probe = Probe("p", query)
    probe.start()
    outcome = probe.wait(10)

    assert outcome is not None
    assert outcome.value is None
    assert str(outcome.error) == "exec failed"


def test_reset_drops_the_outcome_of_a_run_already_in_flight() -> None:
    release = threading.Event()
    finished = threading.Event()

    def query(ctx: Context) -> str:
        release.wait(10)
        finished.set()
        return "stale"

    probe = Probe("p", query)
    probe.start()
    probe.reset()
    release.set()
    finished.wait(10)

    assert probe.wait(0.2) is None


def test_a_stopped_probe_cancels_its_query_and_starts_no_more() -> None:
    seen: list[Context] = []
    started = threading.Event()

    def query(ctx: Context) -> bool:
        seen.append(ctx)
        started.set()
        return ctx.wait(10)

    probe = Probe("p", query)
    probe.start()
    started.wait(10)
    probe.stop()

    assert seen[0].wait(10) is True
    assert probe.start() is False

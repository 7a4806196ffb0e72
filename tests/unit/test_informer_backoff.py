"""The list/watch backoff: 0.8 s doubling to 30 s, jittered, reset after two healthy minutes."""

import pytest

from fluidpy.informer import Backoff


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_from_800_ms_up_to_30_s_without_jitter() -> None:
    backoff = Backoff(jitter=0.0, clock=FakeClock())
    delays = [backoff.next_delay() for _ in range(8)]
    assert delays == pytest.approx([0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0])


def test_jitter_adds_up_to_its_fraction_of_the_delay() -> None:
    highest = Backoff(clock=FakeClock(), rand=lambda: 0.999999)
    lowest = Backoff(clock=FakeClock(), rand=lambda: 0.0)
    assert highest.next_delay() == pytest.approx(1.6, rel=1e-5)
    assert lowest.next_delay() == pytest.approx(0.8)


def test_two_healthy_minutes_reset_the_delay() -> None:
    clock = FakeClock()
    backoff = Backoff(jitter=0.0, clock=clock)
    for _ in range(5):
        backoff.next_delay()
    clock.now += 119.0
    assert backoff.next_delay() == pytest.approx(25.6)  # not healthy long enough
    clock.now += 120.0
    assert backoff.next_delay() == pytest.approx(0.8)

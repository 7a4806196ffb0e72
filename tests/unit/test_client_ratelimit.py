"""The client-side token bucket (qps and burst)."""

import pytest

from fluidpy.client import TokenBucket
from fluidpy.context import Cancelled, Context, DeadlineExceeded


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_requests_go_out_without_waiting() -> None:
    bucket = TokenBucket(qps=20, burst=30, clock=FakeClock())
    assert [bucket.reserve() for _ in range(30)] == [0.0] * 30


def test_requests_beyond_the_burst_are_spaced_at_the_qps() -> None:
    bucket = TokenBucket(qps=20, burst=2, clock=FakeClock())
    delays = [bucket.reserve() for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.0, 0.05, 0.10, 0.15])


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock)
    for _ in range(3):
        bucket.reserve()
    clock.now += 100.0  # far longer than needed to refill: the bucket holds only `burst`
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_a_wait_longer_than_allowed_takes_no_token() -> None:
    bucket = TokenBucket(qps=1, burst=1, clock=FakeClock())
    assert bucket.reserve() == 0.0
    assert bucket.reserve(max_wait=0.5) is None
    assert bucket.reserve(max_wait=1.0) == pytest.approx(1.0)


def test_non_positive_qps_is_refused_because_it_means_no_bucket() -> None:
    with pytest.raises(ValueError):
        TokenBucket(qps=0, burst=1)


def test_wait_fails_fast_when_the_deadline_is_sooner_than_the_token() -> None:
    bucket = TokenBucket(qps=0.001, burst=1)
    bucket.reserve()
    ctx, cancel = Context.background().with_timeout(30.0)
    try:
        with pytest.raises(DeadlineExceeded):
            bucket.wait(ctx)
    finally:
        cancel()


def test_wait_ends_with_the_context_when_it_is_cancelled() -> None:
    bucket = TokenBucket(qps=0.001, burst=1)
    bucket.reserve()
    ctx, cancel = Context.background().with_cancel()
    cancel()
    with pytest.raises(Cancelled):
        bucket.wait(ctx)

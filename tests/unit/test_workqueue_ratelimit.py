"""Rate limiters: per-item exponential backoff, the shared token bucket, and their max."""

from __future__ import annotations

import pytest

from fluidpy.workqueue import (
    BucketRateLimiter,
    FakeClock,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)


def test_backoff_doubles_from_five_milliseconds_by_default() -> None:
    limiter = ItemExponentialFailureRateLimiter()
    delays = [limiter.when("a") for _ in range(5)]
    assert delays == [0.005, 0.01, 0.02, 0.04, 0.08]


def test_backoff_is_capped_at_one_thousand_seconds_by_default() -> None:
    limiter = ItemExponentialFailureRateLimiter()
    delays = [limiter.when("a") for _ in range(25)]
    # 0.005 * 2**17 = 655.36 s is the last delay below the cap.
    assert delays[17] == 655.36
    assert delays[18:] == [1000.0] * 7


def test_backoff_survives_failure_counts_that_overflow_a_float() -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=0.005, max_delay=1000.0)
    for _ in range(1100):
        delay = limiter.when("a")
    assert delay == 1000.0
    assert limiter.num_requeues("a") == 1100


def test_backoff_is_counted_per_item() -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=60.0)
    limiter.when("a")
    limiter.when("a")
    assert limiter.when("b") == 1.0
    assert limiter.num_requeues("a") == 2
    assert limiter.num_requeues("b") == 1


def test_forget_restarts_the_backoff_of_that_item_only() -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=60.0)
    limiter.when("a")
    limiter.when("a")
    limiter.when("b")
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == 1.0
    assert limiter.when("b") == 2.0


def test_negative_delays_are_rejected() -> None:
    with pytest.raises(ValueError):
        ItemExponentialFailureRateLimiter(base_delay=-1.0)


def test_bucket_lets_a_full_burst_through_without_delay() -> None:
    limiter = BucketRateLimiter(qps=10.0, burst=100, clock=FakeClock())
    assert [limiter.when(i) for i in range(100)] == [0.0] * 100


def test_bucket_spaces_callers_past_the_burst_one_token_apart() -> None:
    limiter = BucketRateLimiter(qps=10.0, burst=3, clock=FakeClock())
    delays = [limiter.when(i) for i in range(6)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:] == pytest.approx([0.1, 0.2, 0.3])


def test_bucket_refills_at_its_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=2.0, burst=4, clock=clock)
    for i in range(4):
        limiter.when(i)
    clock.advance(1.0)  # two tokens back
    assert [limiter.when(i) for i in range(3)] == pytest.approx([0.0, 0.0, 0.5])
    clock.advance(3600.0)  # far more than the burst's worth
    assert [limiter.when(i) for i in range(5)] == pytest.approx([0.0, 0.0, 0.0, 0.0, 0.5])


def test_bucket_debt_is_paid_back_before_new_tokens_count() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=1.0, burst=1, clock=clock)
    limiter.when("a")
    assert limiter.when("b") == pytest.approx(1.0)
    assert limiter.when("c") == pytest.approx(2.0)
    clock.advance(2.0)
    assert limiter.when("d") == pytest.approx(1.0)


def test_bucket_keeps_no_per_item_state() -> None:
    limiter = BucketRateLimiter(clock=FakeClock())
    limiter.when("a")
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0


def test_max_of_takes_the_longest_delay_and_consults_every_limiter() -> None:
    clock = FakeClock()
    bucket = BucketRateLimiter(qps=1.0, burst=2, clock=clock)
    backoff = ItemExponentialFailureRateLimiter(base_delay=0.5, max_delay=100.0)
    limiter = MaxOfRateLimiter(backoff, bucket)
    assert limiter.when("a") == 0.5  # backoff wins, the bucket still spends a token
    assert limiter.when("a") == 1.0
    assert limiter.when("b") == pytest.approx(1.0)  # bucket in debt wins over b's 0.5
    assert limiter.num_requeues("a") == 2
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert backoff.num_requeues("a") == 0


def test_max_of_needs_a_limiter() -> None:
    with pytest.raises(ValueError):
        MaxOfRateLimiter()


def test_default_controller_limiter_is_exponential_backoff_bounded_by_ten_qps() -> None:
    limiter = default_controller_rate_limiter(FakeClock())
    assert [limiter.when("a") for _ in range(3)] == [0.005, 0.01, 0.02]
    for i in range(97):
        limiter.when(i)
    # The burst of 100 is spent; the bucket now spaces retries 100 ms apart, which beats the
    # 5 ms first backoff of a fresh item.
    assert limiter.when("fresh") == pytest.approx(0.1)

"""Work queues and rate limiters for controllers (see `queue` for the guarantees)."""

from fluidpy.workqueue.clock import REAL_CLOCK, Clock, FakeClock, RealClock
from fluidpy.workqueue.queue import LOW_PRIORITY, WorkQueue
from fluidpy.workqueue.ratelimit import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)

__all__ = [
    "LOW_PRIORITY",
    "REAL_CLOCK",
    "BucketRateLimiter",
    "Clock",
    "FakeClock",
    "ItemExponentialFailureRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "RealClock",
    "WorkQueue",
    "default_controller_rate_limiter",
]

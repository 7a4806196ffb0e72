"""Controller metrics, with controller-runtime's exact names and labels.

Dashboards and alerts written for Go controllers work unchanged. Every label set of a controller
is created at zero when the controller starts, so rate() and absent() behave from the first
scrape rather than from the first error.
"""

from prometheus_client import Counter, Gauge, Histogram

from fluidpy.metrics import REGISTRY

RESULT_SUCCESS = "success"
RESULT_ERROR = "error"
RESULT_REQUEUE = "requeue"
RESULT_REQUEUE_AFTER = "requeue_after"
RESULTS = (RESULT_SUCCESS, RESULT_ERROR, RESULT_REQUEUE, RESULT_REQUEUE_AFTER)

RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total",
    "Reconciliations per controller and result (success, error, requeue, requeue_after).",
    ["controller", "result"],
    registry=REGISTRY,
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total",
    "Reconciliations that raised, including terminal errors and panics.",
    ["controller"],
    registry=REGISTRY,
)
TERMINAL_RECONCILE_ERRORS = Counter(
    "controller_runtime_terminal_reconcile_errors_total",
    "Reconciliations that raised TerminalError and so are not retried.",
    ["controller"],
    registry=REGISTRY,
)
RECONCILE_PANICS = Counter(
    "controller_runtime_reconcile_panics_total",
    "Reconciliations that crashed: a BaseException that is not an Exception, or a fault in "
    "fluidpy's own worker code.",
    ["controller"],
    registry=REGISTRY,
)
RECONCILE_TIMEOUTS = Counter(
    "controller_runtime_reconcile_timeouts_total",
    "Reconciliations whose per-reconcile timeout expired before they returned.",
    ["controller"],
    registry=REGISTRY,
)
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Time spent in one reconciliation.",
    ["controller"],
    # 5 ms to 60 s: a reconcile that only reads the cache takes milliseconds, one that waits on
    # several API writes takes seconds, and past a minute the exact figure no longer matters.
    buckets=(
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
        0.75,
        1.0,
        1.5,
        2.0,
        3.0,
        4.0,
        5.0,
        7.5,
        10.0,
        15.0,
        20.0,
        30.0,
        45.0,
        60.0,
    ),
    registry=REGISTRY,
)
MAX_CONCURRENT_RECONCILES = Gauge(
    "controller_runtime_max_concurrent_reconciles",
    "Worker threads configured for the controller.",
    ["controller"],
    registry=REGISTRY,
)
ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers",
    "Worker threads busy reconciling right now.",
    ["controller"],
    registry=REGISTRY,
)


def init_controller(controller: str, max_concurrent_reconciles: int) -> None:
    """Create every series of `controller` at zero and record its worker count."""
    for result in RESULTS:
        RECONCILE_TOTAL.labels(controller, result)
    for family in (
        RECONCILE_ERRORS,
        TERMINAL_RECONCILE_ERRORS,
        RECONCILE_PANICS,
        RECONCILE_TIMEOUTS,
    ):
        family.labels(controller)
    RECONCILE_TIME.labels(controller)
    ACTIVE_WORKERS.labels(controller).set(0)
    MAX_CONCURRENT_RECONCILES.labels(controller).set(max_concurrent_reconciles)

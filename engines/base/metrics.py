"""Fluid's own metrics, beside controller-runtime's, in the manager's one registry.

Upstream Fluid (pkg/metrics) exports four series, and these keep its names and labels so its
alerts and dashboards work: setup errors and health-check errors per runtime
(`runtime_type` is the lower-case kind, `runtime` is namespace/name), and each Dataset's UFS
size and file count (`dataset` is namespace/name). The `fluidpy_` series are this project's
additions for what upstream only shows in `kubectl get`: whether a runtime is ready, and the
cache figures of its Dataset.

Per-object series are removed when the runtime is deleted (upstream's Forget), so a cluster
that churns runtimes does not grow the scrape without limit.
"""

from __future__ import annotations

import contextlib
from typing import Any

from prometheus_client import Counter, Gauge

from fluidpy.engines.base.units import parse_human_bytes
from fluidpy.metrics import REGISTRY

RUNTIME_LABELS = ("runtime_type", "runtime")

RUNTIME_SETUP_ERRORS = Counter(
    "runtime_setup_error_total",
    "Errors raised while setting a runtime up (upstream Fluid's name).",
    RUNTIME_LABELS,
    registry=REGISTRY,
)
RUNTIME_HEALTH_CHECK_ERRORS = Counter(
    "runtime_sync_healthcheck_error_total",
    "Failed health checks of a set-up runtime (upstream Fluid's name).",
    RUNTIME_LABELS,
    registry=REGISTRY,
)
RUNTIME_READY = Gauge(
    "fluidpy_runtime_ready",
    "1 while the runtime's Ready condition is True, else 0.",
    RUNTIME_LABELS,
    registry=REGISTRY,
)
DATASET_UFS_FILE_NUM = Gauge(
    "dataset_ufs_file_num",
    "Files in the Dataset's under file systems (upstream Fluid's name).",
    ["dataset"],
    registry=REGISTRY,
)
DATASET_UFS_TOTAL_SIZE = Gauge(
    "dataset_ufs_total_size",
    "Bytes in the Dataset's under file systems (upstream Fluid's name).",
    ["dataset"],
    registry=REGISTRY,
)
DATASET_CACHED_BYTES = Gauge(
    "fluidpy_dataset_cached_bytes",
    "Bytes of the Dataset in the cache, as its status.cacheStates.cached reports.",
    ["dataset"],
    registry=REGISTRY,
)
DATASET_CACHE_CAPACITY_BYTES = Gauge(
    "fluidpy_dataset_cache_capacity_bytes",
    "Bytes the runtime can cache, as the Dataset's status.cacheStates.cacheCapacity reports.",
    ["dataset"],
    registry=REGISTRY,
)
_DATASET_GAUGES = (
    DATASET_UFS_FILE_NUM,
    DATASET_UFS_TOTAL_SIZE,
    DATASET_CACHED_BYTES,
    DATASET_CACHE_CAPACITY_BYTES,
)


def runtime_labels(kind: str, namespace: str, name: str) -> tuple[str, str]:
    return kind.lower(), f"{namespace}/{name}"


def record_runtime_status(kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
    """Readiness from the status; the error counters appear at zero, so rate() and alerts
    work before the first error."""
    labels = runtime_labels(kind, namespace, name)
    RUNTIME_SETUP_ERRORS.labels(*labels)
    RUNTIME_HEALTH_CHECK_ERRORS.labels(*labels)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    RUNTIME_READY.labels(*labels).set(1 if ready else 0)


def record_dataset_status(namespace: str, name: str, status: dict[str, Any]) -> None:
    """Set the Dataset's gauges from the figures its status shows; a figure not known yet
    ("[Calculating]", empty) leaves its gauge as it was."""
    key = f"{namespace}/{name}"
    cache_states = status.get("cacheStates") or {}
    for gauge, text, parse in (
        (DATASET_UFS_FILE_NUM, status.get("fileNum"), _count),
        (DATASET_UFS_TOTAL_SIZE, status.get("ufsTotal"), parse_human_bytes),
        (DATASET_CACHED_BYTES, cache_states.get("cached"), parse_human_bytes),
        (DATASET_CACHE_CAPACITY_BYTES, cache_states.get("cacheCapacity"), parse_human_bytes),
    ):
        try:
            value = parse(str(text)) if text else None
        except ValueError:
            value = None
        if value is not None:
            gauge.labels(key).set(value)


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def forget(kind: str, namespace: str, name: str) -> None:
    """Drop the series of a deleted runtime and of its Dataset."""
    labels = runtime_labels(kind, namespace, name)
    for family in (RUNTIME_SETUP_ERRORS, RUNTIME_HEALTH_CHECK_ERRORS, RUNTIME_READY):
        _remove(family, *labels)
    for gauge in _DATASET_GAUGES:
        _remove(gauge, f"{namespace}/{name}")


def _remove(family: Counter | Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        family.remove(*labels)

"""Fluid's own metrics: upstream's names beside controller-runtime's, and a dashboard for both."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import Counter, Histogram

import fluidpy.controllers  # noqa: F401  (registers every metric the manager exports)
from fluidpy.engines.base import metrics
from fluidpy.metrics import REGISTRY


def exported_names() -> set[str]:
    """Every sample name the registry can export: counters end in _total, histograms in
    _bucket, _sum and _count."""
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names.update(f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count"))
    return names


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_upstream_fluids_metrics_are_exported_under_its_names_and_labels() -> None:
    assert isinstance(metrics.RUNTIME_SETUP_ERRORS, Counter)
    assert metrics.RUNTIME_SETUP_ERRORS._labelnames == ("runtime_type", "runtime")
    assert metrics.RUNTIME_HEALTH_CHECK_ERRORS._labelnames == ("runtime_type", "runtime")
    assert metrics.DATASET_UFS_FILE_NUM._labelnames == ("dataset",)
    assert metrics.DATASET_UFS_TOTAL_SIZE._labelnames == ("dataset",)
    assert {
        "runtime_setup_error_total",
        "runtime_sync_healthcheck_error_total",
        "dataset_ufs_file_num",
        "dataset_ufs_total_size",
        "controller_runtime_reconcile_total",
    } <= exported_names()
    assert not isinstance(metrics.DATASET_UFS_TOTAL_SIZE, Histogram)


def test_a_runtimes_series_start_at_zero_and_follow_its_status() -> None:
    ready = {"conditions": [{"type": "Ready", "status": "True"}]}
    metrics.record_runtime_status("CacheRuntime", "ns-m", "demo", ready)
    labels = {"runtime_type": "cacheruntime", "runtime": "ns-m/demo"}
    assert value("runtime_setup_error_total", **labels) == 0
    assert value("fluidpy_runtime_ready", **labels) == 1
    metrics.record_runtime_status("CacheRuntime", "ns-m", "demo", {})
    assert value("fluidpy_runtime_ready", **labels) == 0


def test_dataset_figures_are_parsed_from_status_and_unknown_ones_keep_the_last_value() -> None:
    status = {
        "ufsTotal": "2.00GiB",
        "fileNum": "1,024",
        "cacheStates": {"cached": "512.00MiB", "cacheCapacity": "4.00GiB"},
    }
    metrics.record_dataset_status("ns-m", "data", status)
    assert value("dataset_ufs_total_size", dataset="ns-m/data") == 2 * 1024**3
    assert value("dataset_ufs_file_num", dataset="ns-m/data") == 1024
    assert value("fluidpy_dataset_cached_bytes", dataset="ns-m/data") == 512 * 1024**2
    assert value("fluidpy_dataset_cache_capacity_bytes", dataset="ns-m/data") == 4 * 1024**3
    metrics.record_dataset_status("ns-m", "data", {"ufsTotal": "[Calculating]", "fileNum": ""})
    assert value("dataset_ufs_total_size", dataset="ns-m/data") == 2 * 1024**3


def test_forgetting_a_runtime_drops_its_series_and_its_datasets() -> None:
    metrics.record_runtime_status("AlluxioRuntime", "ns-f", "gone", {})
    metrics.record_dataset_status("ns-f", "gone", {"ufsTotal": "1.00KiB"})
    metrics.forget("AlluxioRuntime", "ns-f", "gone")
    metrics.forget("AlluxioRuntime", "ns-f", "gone")  # a second deletion pass is harmless
    labels = {"runtime_type": "alluxioruntime", "runtime": "ns-f/gone"}
    assert value("fluidpy_runtime_ready", **labels) is None
    assert value("runtime_setup_error_total", **labels) is None
    assert value("dataset_ufs_total_size", dataset="ns-f/gone") is None


def test_every_dashboard_query_reads_metrics_the_manager_exports(
    dashboard_metrics: dict[str, set[str]],
) -> None:
    exported = exported_names()
    for expr, names in dashboard_metrics.items():
        assert names, f"{expr!r} names no metric"
        assert names <= exported, f"{expr!r} reads {sorted(names - exported)}, not exported"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (controller, le) (rate(x_bucket{a="b"}[5m]))', {"x_bucket"}),
        ("histogram_quantile(0.99, sum by (name, le) (rate(y[1m])))", {"y"}),
        ("fluidpy_runtime_ready", {"fluidpy_runtime_ready"}),
    ],
)
def test_the_query_reader_finds_the_metric_names(
    expr: str, names: set[str], promql_reader: Callable[[str], set[str]]
) -> None:
    assert promql_reader(expr) == names

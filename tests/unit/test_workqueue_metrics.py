"""Work queue metrics as Prometheus scrapes them from `fluidpy.metrics.REGISTRY`."""

from __future__ import annotations

import itertools

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from fluidpy.metrics import REGISTRY
from fluidpy.metrics.workqueue import BUCKETS
from fluidpy.workqueue import LOW_PRIORITY, FakeClock, WorkQueue

_names = (f"metrics-test-{i}" for i in itertools.count())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> WorkQueue[str]:
    # A fresh name per test: queues of earlier tests may live on until garbage-collected.
    return WorkQueue(next(_names), clock=clock)


def scrape(name: str) -> dict[str, list[Sample]]:
    """Every workqueue sample of the queue called `name`, by metric family."""
    families: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        if family.name.startswith("workqueue_"):
            families[family.name] = [s for s in family.samples if s.labels.get("name") == name]
    return families


def value(name: str, sample_name: str, **labels: str) -> float:
    family = sample_name
    for suffix in ("_total", "_count", "_sum", "_bucket"):
        family = family.removesuffix(suffix)
    for sample in scrape(name)[family]:
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {sample_name} {labels}")


def test_a_new_queue_exports_every_family_at_zero_with_controller_runtime_labels(
    queue: WorkQueue[str],
) -> None:
    families = scrape(queue.name)
    assert set(families) == {
        "workqueue_depth",
        "workqueue_adds",
        "workqueue_queue_duration_seconds",
        "workqueue_work_duration_seconds",
        "workqueue_retries",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
    }
    assert families["workqueue_depth"][0].labels == {
        "name": queue.name,
        "controller": queue.name,
        "priority": "0",
    }
    assert families["workqueue_adds"][0].name == "workqueue_adds_total"
    assert families["workqueue_adds"][0].labels == {"name": queue.name, "controller": queue.name}
    assert all(s.value == 0 for samples in families.values() for s in samples)


def test_no_created_series_are_exported(queue: WorkQueue[str]) -> None:
    names = {s.name for samples in scrape(queue.name).values() for s in samples}
    assert not any(name.endswith("_created") for name in names)


def test_duration_buckets_run_from_ten_nanoseconds_to_a_thousand_seconds(
    queue: WorkQueue[str],
) -> None:
    bounds = [
        s.labels["le"]
        for s in scrape(queue.name)["workqueue_queue_duration_seconds"]
        if s.name.endswith("_bucket")
    ]
    small = ["1e-08", "1e-07", "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1"]
    large = ["1.0", "10.0", "100.0", "1000.0", "+Inf"]
    assert bounds == small + large
    assert len(BUCKETS) == 12  # the histograms' own count, without +Inf


def test_adds_count_new_entries_not_deduplicated_ones(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.add("a")
    queue.add("b")
    assert value(queue.name, "workqueue_adds_total") == 2


def test_depth_counts_waiting_entries_by_priority(queue: WorkQueue[str]) -> None:
    queue.add("a")
    queue.add("b", priority=LOW_PRIORITY)
    queue.add("c", priority=LOW_PRIORITY)
    assert value(queue.name, "workqueue_depth", priority="0") == 1
    assert value(queue.name, "workqueue_depth", priority=str(LOW_PRIORITY)) == 2


def test_depth_of_a_drained_priority_drops_to_zero_rather_than_vanishing(
    queue: WorkQueue[str],
) -> None:
    queue.add("b", priority=LOW_PRIORITY)
    scrape(queue.name)
    queue.done(queue.get(timeout=0) or "")
    assert value(queue.name, "workqueue_depth", priority=str(LOW_PRIORITY)) == 0


def test_retries_count_adds_with_a_delay(queue: WorkQueue[str]) -> None:
    queue.add_rate_limited("a")
    queue.add_after("b", 1.0)
    queue.add_after("c", 0.0)
    assert value(queue.name, "workqueue_retries_total") == 2


def test_queue_and_work_durations_are_observed_on_the_queue_clock(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add("a")
    clock.advance(0.5)
    queue.get(timeout=0)
    clock.advance(20.0)
    queue.done("a")
    assert value(queue.name, "workqueue_queue_duration_seconds_count") == 1
    assert value(queue.name, "workqueue_queue_duration_seconds_sum") == 0.5
    assert value(queue.name, "workqueue_queue_duration_seconds_bucket", le="0.1") == 0
    assert value(queue.name, "workqueue_queue_duration_seconds_bucket", le="1.0") == 1
    assert value(queue.name, "workqueue_work_duration_seconds_sum") == 20.0
    assert value(queue.name, "workqueue_work_duration_seconds_bucket", le="10.0") == 0
    assert value(queue.name, "workqueue_work_duration_seconds_bucket", le="100.0") == 1


def test_a_delayed_entry_waits_in_the_queue_from_its_ready_time(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add_after("a", 10.0)
    clock.advance(12.0)
    queue.get(timeout=0)
    assert value(queue.name, "workqueue_queue_duration_seconds_sum") == 2.0


def test_unfinished_work_is_computed_from_held_items_at_scrape_time(
    queue: WorkQueue[str], clock: FakeClock
) -> None:
    queue.add("a")
    queue.add("b")
    queue.get(timeout=0)
    clock.advance(3.0)
    queue.get(timeout=0)
    clock.advance(1.0)
    assert value(queue.name, "workqueue_unfinished_work_seconds") == 5.0
    assert value(queue.name, "workqueue_longest_running_processor_seconds") == 4.0
    queue.done("a")
    queue.done("b")
    assert value(queue.name, "workqueue_unfinished_work_seconds") == 0.0


def test_queues_sharing_a_name_are_exported_as_one(clock: FakeClock) -> None:
    name = next(_names)
    first: WorkQueue[str] = WorkQueue(name, clock=clock)
    second: WorkQueue[str] = WorkQueue(name, clock=clock)
    first.add("a")
    second.add("a")
    second.add("b")
    assert value(name, "workqueue_adds_total") == 3
    assert value(name, "workqueue_depth", priority="0") == 3


def test_queues_without_a_name_or_with_metrics_off_export_nothing(clock: FakeClock) -> None:
    unnamed: WorkQueue[str] = WorkQueue(clock=clock)
    unnamed.add("a")
    quiet: WorkQueue[str] = WorkQueue("metrics-test-quiet", clock=clock, metrics=False)
    quiet.add("a")
    assert scrape("")["workqueue_adds"] == []
    assert scrape("metrics-test-quiet")["workqueue_adds"] == []

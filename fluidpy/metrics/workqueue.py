"""Work queue metrics under controller-runtime's names, so its dashboards work unchanged.

| metric | type | labels |
|---|---|---|
| workqueue_depth | gauge | name, controller, priority |
| workqueue_adds_total | counter | name, controller |
| workqueue_queue_duration_seconds | histogram (1e-8 to 1e3 s, x10) | name, controller |
| workqueue_work_duration_seconds | histogram (same buckets) | name, controller |
| workqueue_retries_total | counter | name, controller |
| workqueue_unfinished_work_seconds | gauge | name, controller |
| workqueue_longest_running_processor_seconds | gauge | name, controller |

`name` and `controller` both carry the queue's name, as in controller-runtime (since v0.19).
`priority` on the depth is controller-runtime's priority-queue label (since v0.21); summing over
it gives the classic depth.

Why a custom collector instead of prometheus_client's Counter and Histogram objects: every
`observe()` of theirs takes a lock and walks the buckets in Python, several microseconds, on a
queue operation that itself costs about one. Here a queue counts into the plain attributes of a
`WorkQueueStats` while holding the lock it holds anyway (an integer add, a bisect into a list),
and `WorkQueueCollector` turns the counts into metric families when Prometheus scrapes. The two
"unfinished work" gauges are computed at that moment too, from the start times of the items in
flight, so unlike client-go no ticker refreshes them every 500 ms and they are never stale.

Queues without a name export nothing (as in client-go): there would be no label to tell them
apart. Two live queues with the same name are summed (the longest-running gauge takes the
maximum), which keeps the exposition valid.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from fluidpy.metrics import REGISTRY

BUCKETS: tuple[float, ...] = tuple(10.0**exponent for exponent in range(-8, 4))
"""Upper bounds of both duration histograms: 10 ns to 1000 s, one bucket per power of ten."""

MAX_REMEMBERED_PRIORITIES = 25
"""Priority levels per queue whose depth series stay exported (at 0) after they empty.

Without remembering, a level's series would vanish when it drains and dashboards would show a
gap instead of zero; the bound keeps a controller that invents priorities from growing the
exposition without limit (levels beyond it are still exported while they hold items).
"""

_LABELS = ("name", "controller")

_format_bound: Callable[[float], str] = floatToGoString
"""Bucket bounds spelled as Go spells them (`1e-08`, `+Inf`), for byte-level parity."""


class Histogram:
    """Bucket counts and sum of observed durations; not thread-safe, its owner's lock guards it."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        # bisect_left finds the first bound >= seconds, matching Prometheus's inclusive `le`.
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def copy(self) -> Histogram:
        twin = Histogram()
        twin.counts = self.counts.copy()
        twin.total = self.total
        return twin


class WorkQueueStats:
    """The counters one queue keeps for export, updated under the queue's own lock."""

    __slots__ = ("adds", "queue_duration", "retries", "work_duration")

    def __init__(self) -> None:
        self.adds = 0
        self.retries = 0
        self.queue_duration = Histogram()
        self.work_duration = Histogram()


@dataclass(frozen=True)
class QueueSample:
    """A consistent snapshot of one queue, taken under its lock at scrape time."""

    name: str
    depth: Mapping[int, int]
    adds: int
    retries: int
    queue_duration: Histogram
    work_duration: Histogram
    unfinished_work_seconds: float
    longest_running_processor_seconds: float


class MetricsSource(Protocol):
    """What the collector needs from a queue."""

    def metrics_sample(self) -> QueueSample: ...


class WorkQueueCollector(Collector):
    """Exports every tracked queue; holds them weakly so a dropped queue stops being exported."""

    def __init__(self) -> None:
        self._sources: weakref.WeakSet[MetricsSource] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._remembered: dict[str, set[int]] = {}

    def track(self, source: MetricsSource) -> None:
        with self._lock:
            self._sources.add(source)

    def describe(self) -> Iterable[Metric]:
        return _families()

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            sources = list(self._sources)
        merged: dict[str, QueueSample] = {}
        for source in sources:
            sample = source.metrics_sample()
            if sample.name in merged:
                sample = _merge(merged[sample.name], sample)
            merged[sample.name] = sample
        with self._lock:
            self._remembered = {
                name: self._remember(name, sample.depth) for name, sample in merged.items()
            }
            remembered = self._remembered
        (depth, adds, queue_duration, work_duration, retries, unfinished, longest) = _families()
        for name, sample in sorted(merged.items()):
            labels = [name, name]
            levels = remembered[name] | sample.depth.keys()
            for level in sorted(levels):
                depth.add_metric([*labels, str(level)], sample.depth.get(level, 0))
            adds.add_metric(labels, sample.adds)
            retries.add_metric(labels, sample.retries)
            _add_histogram(queue_duration, labels, sample.queue_duration)
            _add_histogram(work_duration, labels, sample.work_duration)
            unfinished.add_metric(labels, sample.unfinished_work_seconds)
            longest.add_metric(labels, sample.longest_running_processor_seconds)
        return [depth, adds, queue_duration, work_duration, retries, unfinished, longest]

    def _remember(self, name: str, depth: Mapping[int, int]) -> set[int]:
        # Level 0 is always exported, so a fresh queue shows a zero depth rather than nothing.
        levels = self._remembered.get(name) or {0}
        for level in sorted(depth):
            if len(levels) >= MAX_REMEMBERED_PRIORITIES:
                break
            levels.add(level)
        return levels


def _families() -> tuple[
    GaugeMetricFamily,
    CounterMetricFamily,
    HistogramMetricFamily,
    HistogramMetricFamily,
    CounterMetricFamily,
    GaugeMetricFamily,
    GaugeMetricFamily,
]:
    return (
        GaugeMetricFamily(
            "workqueue_depth",
            "Items waiting in the work queue, by queue and priority.",
            labels=[*_LABELS, "priority"],
        ),
        CounterMetricFamily(
            "workqueue_adds", "Adds that put a new item into the work queue.", labels=_LABELS
        ),
        HistogramMetricFamily(
            "workqueue_queue_duration_seconds",
            "Seconds an item waited in the work queue before a worker took it.",
            labels=_LABELS,
        ),
        HistogramMetricFamily(
            "workqueue_work_duration_seconds",
            "Seconds a worker held an item before marking it done.",
            labels=_LABELS,
        ),
        CounterMetricFamily(
            "workqueue_retries", "Adds that asked for a delay (retries).", labels=_LABELS
        ),
        GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "Seconds of work in progress not yet counted by the work duration; a steady rise "
            "means stuck workers, and its slope is how many.",
            labels=_LABELS,
        ),
        GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "Seconds the longest-held item of the work queue has been held.",
            labels=_LABELS,
        ),
    )


def _add_histogram(family: HistogramMetricFamily, labels: list[str], hist: Histogram) -> None:
    cumulative = 0
    buckets: list[tuple[str, float]] = []
    for bound, count in zip((*BUCKETS, float("inf")), hist.counts, strict=True):
        cumulative += count
        buckets.append((_format_bound(bound), cumulative))
    family.add_metric(labels, buckets, hist.total)


def _merge(a: QueueSample, b: QueueSample) -> QueueSample:
    depth = dict(a.depth)
    for level, count in b.depth.items():
        depth[level] = depth.get(level, 0) + count
    return QueueSample(
        name=a.name,
        depth=depth,
        adds=a.adds + b.adds,
        retries=a.retries + b.retries,
        queue_duration=_merge_histograms(a.queue_duration, b.queue_duration),
        work_duration=_merge_histograms(a.work_duration, b.work_duration),
        unfinished_work_seconds=a.unfinished_work_seconds + b.unfinished_work_seconds,
        longest_running_processor_seconds=max(
            a.longest_running_processor_seconds, b.longest_running_processor_seconds
        ),
    )


def _merge_histograms(a: Histogram, b: Histogram) -> Histogram:
    merged = a.copy()
    merged.counts = [x + y for x, y in zip(a.counts, b.counts, strict=True)]
    merged.total += b.total
    return merged


COLLECTOR = WorkQueueCollector()
"""The one collector for every queue, registered in `fluidpy.metrics.REGISTRY` on import."""
REGISTRY.register(COLLECTOR)

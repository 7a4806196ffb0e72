"""The Alluxio commands the engine runs in the master pod, and what it makes of their output."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from fluidpy.context import Context
from fluidpy.engines.alluxio.parsers import (
    ReadMetrics,
    hit_ratios,
    parse_count,
    parse_metrics,
    parse_mount_table,
    parse_report_summary,
)
from fluidpy.engines.base.exec import PodTarget
from fluidpy.engines.masterworker.cache_system import CacheUsage, UfsUsage
from fluidpy.engines.masterworker.ufs import UfsMount

QUERY_TIMEOUT = 60.0
"""Seconds for a report or a mount listing: each starts a JVM, which can take a while on a
loaded node, and they run in the background anyway."""
COUNT_TIMEOUT = 1500.0
"""Seconds to load and count the metadata of every under file system (upstream's exec limit):
on a large bucket this is slow, and it only ever runs in a background probe."""
METRICS_INTERVAL = 60.0
"""Seconds between two samples of the read metrics (upstream's rate): hit ratios compare
consecutive samples, so they describe about the last minute of reads."""
FREE_SLACK = 15.0
"""Seconds beyond the grace period before the exec itself gives up (`timeout` in the pod stops
the free first, so the pod is not left running it)."""
MOUNT_WORDS = 3
"""Words of a mount command shown in errors (`alluxio fs mount`): options may hold secrets."""


class AlluxioCLI:
    """`alluxio fs ...` and `alluxio fsadmin ...` in the master container."""

    def __init__(
        self,
        target: PodTarget,
        *,
        mount_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self._mount_timeout = mount_timeout
        self._clock = clock
        self._metrics: ReadMetrics | None = None
        self._metrics_at: float | None = None
        self._ratios: dict[str, str] = {}

    def check_ready(self, ctx: Context) -> None:
        self.target.run(ctx, ["alluxio", "fsadmin", "report"], QUERY_TIMEOUT)

    def mounted(self, ctx: Context) -> set[str]:
        return set(
            parse_mount_table(self.target.run(ctx, ["alluxio", "fs", "mount"], QUERY_TIMEOUT))
        )

    def mount(self, ctx: Context, mount: UfsMount) -> None:
        self.target.run(
            ctx,
            mount_command(mount),
            self._mount_timeout,
            redact_after=MOUNT_WORDS if mount.secret_keys else None,
        )

    def unmount(self, ctx: Context, path: str) -> None:
        self.target.run(ctx, ["alluxio", "fs", "unmount", path], self._mount_timeout)

    def usage(self, ctx: Context) -> CacheUsage:
        summary = self.target.run(ctx, ["alluxio", "fsadmin", "report", "summary"], QUERY_TIMEOUT)
        capacity, cached = parse_report_summary(summary)
        return CacheUsage(capacity=capacity, cached=cached, extra=self._hit_ratios(ctx))

    def _hit_ratios(self, ctx: Context) -> dict[str, str]:
        """The latest ratios, sampling the metrics at most once per METRICS_INTERVAL."""
        now = self._clock()
        if self._metrics_at is None or now - self._metrics_at >= METRICS_INTERVAL:
            output = self.target.run(
                ctx, ["alluxio", "fsadmin", "report", "metrics"], QUERY_TIMEOUT
            )
            current = parse_metrics(output)
            self._ratios = hit_ratios(self._metrics, current)
            self._metrics, self._metrics_at = current, now
        return dict(self._ratios)

    def count(self, ctx: Context, paths: Sequence[str]) -> UfsUsage:
        """Everything mounts under the root, so one count of / covers every path."""
        self.target.run(ctx, ["alluxio", "fs", "loadMetadata", "-R", "/"], COUNT_TIMEOUT)
        return parse_count(self.target.run(ctx, ["alluxio", "fs", "count", "/"], COUNT_TIMEOUT))

    def free(self, ctx: Context, timeout: float) -> None:
        command = ["timeout", f"{timeout:g}", "alluxio", "fs", "free", "-f", "/"]
        self.target.run(ctx, command, timeout + FREE_SLACK)


def mount_command(mount: UfsMount) -> list[str]:
    """`alluxio fs mount [--readonly] [--shared] [--option k=v]... <path> <ufs>`."""
    command = ["alluxio", "fs", "mount"]
    if mount.read_only:
        command.append("--readonly")
    if mount.shared:
        command.append("--shared")
    for key, value in mount.options.items():
        command += ["--option", f"{key}={value}"]
    return [*command, mount.path, mount.ufs]

"""The JindoCache commands the engine runs in the master pod, and what it makes of their output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fluidpy.context import Context
from fluidpy.engines.base.exec import ExecError, PodTarget
from fluidpy.engines.jindo.parsers import parse_count, parse_mount_table, parse_report
from fluidpy.engines.masterworker.cache_system import CacheUsage, UfsUsage
from fluidpy.engines.masterworker.ufs import UfsMount

QUERY_TIMEOUT = 60.0
"""Seconds for a report or a mount listing; they run in the background anyway."""
COUNT_TIMEOUT = 1500.0
"""Seconds to count one under file system (upstream's exec limit): slow on a large bucket,
and only ever run in a background probe."""
FREE_SLACK = 15.0
"""Seconds beyond the grace period before the exec itself gives up (`timeout` in the pod stops
the command first)."""
ALREADY_MOUNTED = "Mount point already exists"


class JindoCLI:
    """`jindocache ...` and `jindo fs ...` in the master container."""

    def __init__(
        self, target: PodTarget, *, medium: Callable[[], str], mount_timeout: float
    ) -> None:
        """`medium` names the cache's medium (MEM, SSD, HDD) when usage is asked for."""
        self.target = target
        self._medium = medium
        self._mount_timeout = mount_timeout

    def check_ready(self, ctx: Context) -> None:
        self.target.run(ctx, ["jindocache", "-report"], QUERY_TIMEOUT)

    def mounted(self, ctx: Context) -> set[str]:
        return parse_mount_table(self.target.run(ctx, ["jindocache", "-mount"], QUERY_TIMEOUT))

    def mount(self, ctx: Context, mount: UfsMount) -> None:
        """Credentials reach JindoCache through its config, never the command line; a path
        mounted meanwhile counts as done."""
        command = ["jindocache", "-mount", mount.path, mount.ufs]
        try:
            self.target.run(ctx, command, self._mount_timeout)
        except ExecError as error:
            if ALREADY_MOUNTED not in error.output:
                raise

    def unmount(self, ctx: Context, path: str) -> None:
        self.target.run(ctx, ["jindocache", "-unmount", path], self._mount_timeout)

    def usage(self, ctx: Context) -> CacheUsage:
        report = self.target.run(ctx, ["jindocache", "-report"], QUERY_TIMEOUT)
        capacity, cached = parse_report(report, self._medium())
        return CacheUsage(capacity=capacity, cached=cached)

    def count(self, ctx: Context, paths: Sequence[str]) -> UfsUsage:
        """The sum of a count of every mount path."""
        total = files = 0
        for path in paths:
            output = self.target.run(
                ctx, ["jindo", "fs", "-count", f"jindo://{path}"], COUNT_TIMEOUT
            )
            usage = parse_count(output)
            total += usage.total_bytes
            files += usage.files
        return UfsUsage(total_bytes=total, files=files)

    def free(self, ctx: Context, timeout: float) -> None:
        command = ["timeout", f"{timeout:g}", "jindocache", "-formatCache"]
        self.target.run(ctx, command, timeout + FREE_SLACK)

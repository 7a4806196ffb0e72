"""What a master/worker cache system engine supplies: its CLI's answers and its objects.

`CacheCLI` is the questions an engine asks its cache system (each runs the system's CLI in the
master pod); `Workloads` is everything its renderer produces. MasterWorkerEngine drives both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fluidpy.context import Context
from fluidpy.engines.masterworker.ufs import UfsMount

DEFAULT_WORKERS = 1
"""Workers when spec.replicas is unset: a cache needs at least one (upstream would run none)."""
MOUNT_TIMEOUT = 60.0
"""Seconds one mount command may take; mounting contacts the under file system, which can be
slow, but a reconcile must not hang on it."""


@dataclass(frozen=True)
class CacheUsage:
    """What the cache holds: bytes used of its capacity, plus engine-specific figures
    (hit ratios) already formatted for cacheStates."""

    capacity: int
    cached: int
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UfsUsage:
    """The under file systems' total size and file count."""

    total_bytes: int
    files: int


class CacheCLI(Protocol):
    """The questions the engine asks its cache system; each runs the CLI in the master pod."""

    def check_ready(self, ctx: Context) -> None:
        """Raise when the cache system does not answer."""

    def mounted(self, ctx: Context) -> set[str]:
        """Paths mounted in the cache namespace."""
        ...

    def mount(self, ctx: Context, mount: UfsMount) -> None: ...

    def unmount(self, ctx: Context, path: str) -> None: ...

    def usage(self, ctx: Context) -> CacheUsage: ...

    def count(self, ctx: Context, paths: Sequence[str]) -> UfsUsage:
        """Size and files of the Dataset's under file systems (`paths` are its mount paths)."""
        ...

    def free(self, ctx: Context, timeout: float) -> None:
        """Drop everything cached, within `timeout` seconds."""


@dataclass(frozen=True)
class Workloads:
    """Every object of a runtime, rendered: applied by setup_master (config, master, fuse),
    setup_workers (workers) and sync_runtime (all)."""

    config: list[dict[str, Any]]
    """Config maps and services, which the pods need before they start."""
    master: dict[str, Any]
    workers: dict[str, Any]
    fuse: dict[str, Any] | None
    value_file: str
    """The config map holding the rendered configuration (status.valueFile)."""

    def for_master(self) -> list[dict[str, Any]]:
        return [*self.config, self.master, *([self.fuse] if self.fuse else [])]

    def all(self) -> list[dict[str, Any]]:
        return [*self.for_master(), self.workers]

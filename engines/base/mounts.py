"""Where a Dataset's mount appears in a cache's namespace: one rule for every engine.

A mount's path is its `path` when absolute, else `/<name>`, as upstream Fluid has it; a mount
without a name is named after the last segment of its mount point. Engines that mount through a
CLI (Alluxio, Jindo) and cache systems that report what they mounted (a CacheRuntimeClass's
mountUFS) must agree on it, so it lives here.
"""

from __future__ import annotations

from fluidpy.api.v1alpha1.common import Mount


def mount_name(mount: Mount) -> str:
    """The mount's name, or the last segment of its mount point when it has none."""
    if mount.name:
        return mount.name
    return mount.mount_point.rstrip("/").rsplit("/", 1)[-1] or "root"


def mount_path(mount: Mount) -> str:
    if mount.path and mount.path.startswith("/"):
        return mount.path.rstrip("/") or "/"
    return f"/{mount_name(mount)}"

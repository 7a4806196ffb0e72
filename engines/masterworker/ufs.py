"""A Dataset's mounts, as a cache system sees them.

`local://` and `pvc://` mounts are native: the workloads mount them as volumes under
`/underFSStorage/<name>` (a host path or a PersistentVolumeClaim), and the cache reads them as
local directories. Every other scheme is mounted through the cache system's CLI. A mount's path
in the cache namespace is its `path` when absolute, else `/<name>`, as upstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fluidpy.api.v1alpha1.common import EncryptOption, Mount
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.errors import ValidationError
from fluidpy.engines.base.interfaces import UFSToUpdate
from fluidpy.engines.base.mounts import mount_name, mount_path

UNDER_FS_ROOT = "/underFSStorage"
LOCAL_SCHEME = "local://"
PVC_SCHEME = "pvc://"
DATASET_SCHEME = "dataset://"


@dataclass(frozen=True)
class UfsMount:
    """One mount as the CLI mounts it: where, what, and with which options."""

    path: str
    """In the cache namespace, e.g. /spark."""
    ufs: str
    """What the cache mounts there: the mount point, or a local directory for native mounts."""
    options: dict[str, str] = field(default_factory=dict)
    read_only: bool = False
    shared: bool = False
    secret_keys: frozenset[str] = frozenset()
    """Option names whose values came from Secrets; never shown in messages."""


def is_native(mount: Mount) -> bool:
    return mount.mount_point.startswith((LOCAL_SCHEME, PVC_SCHEME))


def local_directory(mount: Mount) -> str:
    """Where a native mount appears inside the cache's pods."""
    return f"{UNDER_FS_ROOT}/{mount_name(mount)}"


def dataset_mounts(spec: DatasetSpec) -> list[Mount]:
    mounts = list(spec.mounts or [])
    for index, mount in enumerate(mounts):
        if mount.mount_point.startswith(DATASET_SCHEME):
            raise ValidationError(
                f"Dataset spec.mounts[{index}].mountPoint",
                f"{mount.mount_point} refers to another Dataset, which only the thin runtime "
                "serves",
                "mount the other Dataset's own under file system instead",
            )
    return mounts


def merged_options(spec: DatasetSpec, mount: Mount) -> dict[str, str]:
    """The Dataset's sharedOptions overlaid with the mount's own options."""
    return {**(spec.shared_options or {}), **(mount.options or {})}


def merged_encrypt_options(spec: DatasetSpec, mount: Mount) -> list[EncryptOption]:
    """Shared encrypt options then the mount's own; a name given twice is an error, because
    which Secret wins would otherwise be a guess."""
    options = [*(spec.shared_encrypt_options or []), *(mount.encrypt_options or [])]
    seen: set[str] = set()
    for option in options:
        if option.name in seen or option.name in (mount.options or {}):
            raise ValidationError(
                f"Dataset mount {mount_name(mount)!r} encryptOptions",
                f"option {option.name!r} is given more than once",
                "set each option once, either as an option or as an encrypt option",
            )
        seen.add(option.name)
    return options


def mounted_paths(mounts: Sequence[Mount]) -> list[str]:
    """Paths of the mounts the CLI mounts (native ones are volumes, not CLI mounts)."""
    return [mount_path(m) for m in mounts if not is_native(m)]


def ufs_changes(wanted: Sequence[Mount], applied: Sequence[Mount]) -> UFSToUpdate:
    """Mount paths added to and removed from a Dataset since its mounts were last applied."""
    now, before = mounted_paths(wanted), set(mounted_paths(applied))
    return UFSToUpdate(
        to_add=[p for p in now if p not in before],
        to_remove=sorted(before - set(now)),
    )

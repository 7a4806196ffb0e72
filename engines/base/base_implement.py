"""BaseImplement: Implement with the answers a simple cache system gives.

Fluid's interface has 31 methods because Alluxio-like systems need them all; a cache system
with no master/worker split, no CLI and no UFS metadata needs three. The defaults here are what
upstream's engines answer where a concept does not apply (no-op, "ready", "nothing to do"),
plus the conventions every engine shares: bind the Dataset, set its phase, make and delete the
PV and PVC at the FUSE path. What stays abstract is the cache itself: `setup_master` and
`check_master_ready`. A subclass missing them cannot be built, and the error names them.
"""

from __future__ import annotations

from abc import abstractmethod

from fluidpy.engines.base import status, volume
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.interfaces import Implement, UFSToUpdate
from fluidpy.engines.base.runtime_info import RuntimeInfo, owner_dataset_uid, placement_of


class BaseImplement(Implement):
    """Implement for one pass of a simple cache system; override what the system does."""

    def __init__(self, ctx: ReconcileRequestContext) -> None:
        self.ctx = ctx

    # What every cache system must say ----------------------------------------------------

    @abstractmethod
    def setup_master(self) -> None:
        """Create or update the cache (safe to repeat: it runs on every pass until ready)."""

    @abstractmethod
    def check_master_ready(self) -> bool:
        """Whether the cache serves; the Dataset is bound once it does."""

    # Conventions shared by every engine ---------------------------------------------------

    @property
    def info(self) -> RuntimeInfo:
        """Names, labels and placement of this runtime (engines.base.runtime_info)."""
        return RuntimeInfo(
            name=self.ctx.name,
            namespace=self.ctx.namespace,
            runtime_type=self.ctx.runtime_type,
            owner_dataset_uid=owner_dataset_uid(self.ctx.runtime),
            placement=placement_of(self.ctx.dataset),
        )

    @property
    def fuse_path(self) -> str:
        """The PV's path on the nodes: `<mount root>/<type>/<ns>/<name>/<type>-fuse`."""
        return self.info.fuse_mount_path(self.ctx.mount_root, f"{self.ctx.runtime_type}-fuse")

    def create_volume(self, ctx: ReconcileRequestContext) -> None:
        """The Dataset's PV and PVC (mount type: the runtime type), as every engine makes them."""
        volume.create_volume(ctx, self.info, fuse_path=self.fuse_path, mount_type=ctx.runtime_type)

    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        volume.delete_volume(ctx, self.info)

    def bind_to_dataset(self) -> None:
        status.bind_dataset(self.ctx, self.ctx.runtime_type)

    def update_dataset_status(self, phase: str) -> None:
        status.set_dataset_phase(self.ctx, phase, self.ctx.runtime_type)

    # Setup steps a single-piece cache does not have -------------------------------------------

    def should_setup_master(self) -> bool:
        """Always: setting the cache up converges, so every pass repairs what went missing."""
        return True

    def should_check_ufs(self) -> bool:
        """No under file systems to mount from here."""
        return False

    def prepare_ufs(self) -> None:
        """Nothing to prepare."""

    def should_setup_workers(self) -> bool:
        """No workers apart from the cache itself."""
        return False

    def setup_workers(self) -> None:
        """No workers."""

    def check_workers_ready(self) -> bool:
        """Ready: there are no workers to wait for."""
        return True

    def check_and_update_runtime_status(self) -> bool:
        """Ready once the master is: nothing else to check."""
        return True

    def validate(self, ctx: ReconcileRequestContext) -> None:
        """Every spec the CRD admits is valid."""

    # Sync steps with nothing to do ------------------------------------------------------------

    def sync_metadata(self) -> None:
        """No UFS metadata to count."""

    def sync_replicas(self, ctx: ReconcileRequestContext) -> None:
        """No replicas apart from what setup made."""

    def sync_runtime(self, ctx: ReconcileRequestContext) -> bool:
        """Nothing changed: setup already converges every pass."""
        return False

    def check_runtime_healthy(self) -> None:
        """Healthy while it exists."""

    def check_runtime_ready(self) -> bool:
        return True

    def update_cache_of_dataset(self) -> None:
        """No cache figures to report."""

    def should_sync_dataset_mounts(self) -> bool:
        return False

    def sync_dataset_mounts(self) -> None:
        """Never asked for (should_sync_dataset_mounts is False)."""

    def should_update_ufs(self) -> UFSToUpdate | None:
        return None

    def update_on_ufs_change(self, to_update: UFSToUpdate) -> bool:
        """Never asked for (should_update_ufs is None)."""
        return False

    def sync_schedule_info_to_cache_nodes(self) -> None:
        """No cache node labels for Fluid's scheduler."""

    def assign_nodes_to_cache(self, desired: int) -> int:
        """The scheduler places the cache: every desired replica is assignable."""
        return desired

    def shutdown(self) -> None:
        """Nothing outside owner references: garbage collection removes the rest."""

    # UnderFileSystemService: no figures --------------------------------------------------------

    def used_storage_bytes(self) -> int:
        return 0

    def free_storage_bytes(self) -> int:
        return 0

    def total_storage_bytes(self) -> int:
        return 0

    def total_file_nums(self) -> int:
        return 0

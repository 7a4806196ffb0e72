"""The Alluxio engine: the facts and hooks MasterWorkerEngine needs for Alluxio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fluidpy.api.v1alpha1.alluxio import AlluxioRuntime
from fluidpy.api.v1alpha1.common import CleanCachePolicy, NetworkMode
from fluidpy.engines.alluxio import render as alluxio
from fluidpy.engines.alluxio.cli import AlluxioCLI
from fluidpy.engines.alluxio.dataload import loader_pod_spec
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.dataoperation import DataOperation
from fluidpy.engines.base.exec import PodTarget
from fluidpy.engines.base.models import parse_model
from fluidpy.engines.base.mounts import mount_path
from fluidpy.engines.masterworker import secrets, ufs
from fluidpy.engines.masterworker.cache_system import MOUNT_TIMEOUT
from fluidpy.engines.masterworker.engine import MasterWorkerEngine

COMPONENTS = ("master", "job_master", "worker", "job_worker", "api_gateway")
WIRE_NAMES = {
    "master": "master",
    "job_master": "jobMaster",
    "worker": "worker",
    "job_worker": "jobWorker",
    "api_gateway": "apiGateway",
}


def ignored_fields(runtime: AlluxioRuntime) -> list[str]:
    """Fields set in the spec that this controller keeps but does not act on."""
    spec = runtime.spec
    ignored = [f"spec.{name}" for name in sorted(spec.model_extra or {})]
    if spec.init_users is not None:
        ignored.append("spec.initUsers")
    if spec.data and spec.data.pin is not None:
        ignored.append("spec.data.pin")
    for name in COMPONENTS:
        component = getattr(spec, name)
        if component is None:
            continue
        wire = WIRE_NAMES[name]
        if component.network_mode == NetworkMode.HOST_NETWORK:
            ignored.append(f"spec.{wire}.networkMode (pods use the pod network)")
        if component.enabled is False and name != "api_gateway":
            ignored.append(f"spec.{wire}.enabled (the {wire} always runs)")
    if spec.fuse and spec.fuse.network_mode == NetworkMode.HOST_NETWORK:
        ignored.append("spec.fuse.networkMode (pods use the pod network)")
    return ignored


class AlluxioEngine(MasterWorkerEngine):
    runtime_type = "alluxio"
    mount_type = "fuse.alluxio-fuse"
    renderer = alluxio.AlluxioRenderer
    image_variables = alluxio.IMAGE_VARIABLES

    @classmethod
    def make_cli(cls, target: PodTarget, latest_spec: Callable[[], dict[str, Any]]) -> AlluxioCLI:
        return AlluxioCLI(target, mount_timeout=MOUNT_TIMEOUT)

    def runtime(self) -> AlluxioRuntime:
        return parse_model(AlluxioRuntime, self.ctx.runtime, "AlluxioRuntime")

    def validate_spec(self) -> None:
        self.runtime()

    def data_operation_pod_spec(
        self, ctx: ReconcileRequestContext, operation: DataOperation
    ) -> dict[str, Any]:
        runtime = parse_model(AlluxioRuntime, ctx.runtime, "AlluxioRuntime")
        return loader_pod_spec(runtime, operation, self.images)

    def ufs_mounts(self) -> list[ufs.UfsMount]:
        """Every mount but the root one (a property) and, while the root is the native mounts'
        directory, the native ones (they appear under it by themselves). Encrypt options are
        resolved here, and only here, into `--option` values."""
        spec = self.dataset_spec()
        native_root = alluxio.root_ufs(spec) == ufs.UNDER_FS_ROOT
        mounts = []
        for mount in ufs.dataset_mounts(spec):
            path = mount_path(mount)
            if path == "/" or (ufs.is_native(mount) and native_root):
                continue
            options = ufs.merged_options(spec, mount)
            hidden = secrets.resolve(self.ctx, ufs.merged_encrypt_options(spec, mount))
            mounts.append(
                ufs.UfsMount(
                    path=path,
                    ufs=ufs.local_directory(mount) if ufs.is_native(mount) else mount.mount_point,
                    options={**options, **hidden},
                    read_only=bool(mount.read_only),
                    shared=bool(mount.shared),
                    secret_keys=frozenset(hidden),
                )
            )
        return mounts

    def hcfs_endpoint(self) -> str:
        rpc = alluxio.PORTS["master"]["rpc"]
        master = self.runtime().spec.master
        rpc = ((master.ports if master else None) or {}).get("rpc", rpc)
        return f"alluxio://{self.layout.master_host()}:{rpc}"

    def ignored_fields(self) -> list[str]:
        return ignored_fields(self.runtime())

    def clean_cache_policy(self) -> CleanCachePolicy:
        management = self.runtime().spec.management
        return (management.clean_cache_policy if management else None) or CleanCachePolicy()

    def metadata_sync_enabled(self) -> bool:
        management = self.runtime().spec.management
        policy = management.metadata_sync_policy if management else None
        return policy is None or policy.auto_sync is not False

    def check_and_update_runtime_status(self) -> bool:
        ready = super().check_and_update_runtime_status()
        gateway = self.runtime().spec.api_gateway
        if ready and gateway and gateway.enabled:
            rest = ((gateway.ports or {}).get("rest")) or alluxio.PORTS["api_gateway"]["rest"]
            self.ctx.runtime_status["apiGateway"] = {
                "endpoint": f"{self.layout.master_host()}:{rest}"
            }
        return ready

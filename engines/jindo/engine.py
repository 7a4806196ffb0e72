"""The Jindo engine: the facts and hooks MasterWorkerEngine needs for JindoCache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fluidpy.api.v1alpha1.common import CleanCachePolicy, NetworkMode
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.api.v1alpha1.jindo import JindoRuntime
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.dataoperation import DataOperation
from fluidpy.engines.base.errors import ValidationError
from fluidpy.engines.base.exec import PodTarget
from fluidpy.engines.base.models import parse_model
from fluidpy.engines.base.mounts import mount_name, mount_path
from fluidpy.engines.base.runtime_info import MEMORY
from fluidpy.engines.jindo import render as jindo
from fluidpy.engines.jindo.cli import JindoCLI
from fluidpy.engines.jindo.dataload import loader_pod_spec
from fluidpy.engines.masterworker import ufs
from fluidpy.engines.masterworker.cache_system import MOUNT_TIMEOUT
from fluidpy.engines.masterworker.engine import MasterWorkerEngine

RAFT_MASTERS = 3


def ignored_fields(runtime: JindoRuntime) -> list[str]:
    """Fields set in the spec that this controller keeps but does not act on."""
    spec = runtime.spec
    ignored = [f"spec.{name}" for name in sorted(spec.model_extra or {})]
    if spec.user:
        ignored.append("spec.user")
    if spec.networkmode == NetworkMode.HOST_NETWORK:
        ignored.append("spec.networkmode (pods use the pod network)")
    if spec.fuse and spec.fuse.metrics is not None:
        ignored.append("spec.fuse.metrics")
    if len((spec.tieredstore.levels if spec.tieredstore else None) or []) > 1:
        ignored.append("spec.tieredstore.levels[1:] (JindoCache caches on the first level)")
    return ignored


def ignored_mount_options(dataset: DatasetSpec) -> list[str]:
    """Mount options JindoCache is not configured with: only `fs.*` options and access-key
    encrypt options reach its config."""
    ignored = []
    for mount in dataset.mounts or []:
        if ufs.is_native(mount):
            continue
        name = mount_name(mount)
        for key in ufs.merged_options(dataset, mount):
            if not key.startswith("fs."):
                ignored.append(f"Dataset mount {name!r} option {key}")
        for option in ufs.merged_encrypt_options(dataset, mount):
            if option.name.rsplit(".", 1)[-1] not in jindo.CREDENTIAL_FILES:
                ignored.append(f"Dataset mount {name!r} encrypt option {option.name}")
    return ignored


def cache_medium(spec: dict[str, Any]) -> str:
    """The medium of the first tiered-store level (JindoCache reports usage per medium)."""
    levels = (spec.get("tieredstore") or {}).get("levels") or [{}]
    return str(levels[0].get("mediumtype") or MEMORY)


class JindoEngine(MasterWorkerEngine):
    runtime_type = jindo.RUNTIME_TYPE
    mount_type = jindo.RUNTIME_TYPE
    renderer = jindo.JindoRenderer
    image_variables = jindo.IMAGE_VARIABLES

    @classmethod
    def make_cli(cls, target: PodTarget, latest_spec: Callable[[], dict[str, Any]]) -> JindoCLI:
        return JindoCLI(
            target, medium=lambda: cache_medium(latest_spec()), mount_timeout=MOUNT_TIMEOUT
        )

    def runtime(self) -> JindoRuntime:
        return parse_model(JindoRuntime, self.ctx.runtime, "JindoRuntime")

    def validate_spec(self) -> None:
        spec = self.runtime().spec
        replicas = jindo.master_replicas(self.runtime())
        if replicas not in (1, RAFT_MASTERS):
            raise ValidationError(
                "spec.master.replicas",
                f"is {replicas}; JindoCache runs one master, or three in a Raft quorum",
                "set it to 1 or 3",
            )
        for name in ("master", "worker"):
            component = getattr(spec, name)
            if component is not None and component.disabled:
                raise ValidationError(
                    f"spec.{name}.disabled",
                    "is true, but this controller always runs the master and the workers",
                    f"remove spec.{name}.disabled",
                )

    def data_operation_pod_spec(
        self, ctx: ReconcileRequestContext, operation: DataOperation
    ) -> dict[str, Any]:
        runtime = parse_model(JindoRuntime, ctx.runtime, "JindoRuntime")
        return loader_pod_spec(runtime, operation, self.images)

    def ufs_mounts(self) -> list[ufs.UfsMount]:
        """Every mount, native ones as `local://` directories of the pods; credentials stay in
        the config (see render.credentials), so none are resolved here."""
        mounts = []
        for mount in ufs.dataset_mounts(self.dataset_spec()):
            source = (
                f"local://{ufs.local_directory(mount)}"
                if ufs.is_native(mount)
                else mount.mount_point
            )
            mounts.append(ufs.UfsMount(path=mount_path(mount), ufs=source))
        return mounts

    def hcfs_endpoint(self) -> str:
        master = self.runtime().spec.master
        rpc = ((master.ports if master else None) or {}).get("rpc", jindo.PORTS["master"]["rpc"])
        return f"{self.layout.master_host()}:{rpc}"

    def ignored_fields(self) -> list[str]:
        return ignored_fields(self.runtime()) + ignored_mount_options(self.dataset_spec())

    def clean_cache_policy(self) -> CleanCachePolicy:
        return self.runtime().spec.clean_cache_policy or CleanCachePolicy()

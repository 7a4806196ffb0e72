"""Everything a JindoRuntime runs, rendered natively from its spec (no Helm).

Shapes follow upstream's jindocache chart: a master StatefulSet (the JindoCache namespace
service) behind a headless Service, a worker StatefulSet (the storage service), a FUSE
DaemonSet that runs only on nodes Fluid's CSI plugin labels, and two config maps with
JindoCache's own files: `<name>-jindofs-config` (jindocache.cfg, read by master and workers) and
`<name>-jindofs-client-config` (jindosdk.cfg, read by FUSE). Credentials never enter a config
map: encrypt options are mounted from their Secrets as files under /token, and the config names
those files. Pods use the pod network with JindoCache's standard ports (`PORTS`).

`render()` is a pure function of the runtime, its Dataset's spec and the RuntimeInfo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fluidpy.api.v1alpha1.common import Mount
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.api.v1alpha1.jindo import JindoCompTemplateSpec, JindoRuntime
from fluidpy.engines.base.placement import (
    dataset_tolerations,
    placement_labels,
    worker_affinity,
)
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.masterworker import rendering
from fluidpy.engines.masterworker.cache_system import DEFAULT_WORKERS, Workloads
from fluidpy.engines.masterworker.layout import MASTER, WORKER
from fluidpy.engines.masterworker.renderer import Images, WorkloadRenderer
from fluidpy.engines.masterworker.ufs import is_native, merged_encrypt_options, merged_options

APP = "jindofs"
RUNTIME_TYPE = "jindo"
CONFIG_DIRECTORY = "/etc/jindocache"
TOKEN_DIRECTORY = "/token"
FUSE_CONTAINER_ROOT = "/jfs"
DEFAULT_FUSE_ARGS = ("-okernel_cache", "-oattr_timeout=7200", "-oentry_timeout=7200")

PORTS: dict[str, dict[str, int]] = {
    "master": {"rpc": 8101, "raft": 8103},
    "worker": {"rpc": 6101},
}
"""JindoCache's default ports; `spec.master.ports` / `spec.worker.ports` override them by name."""

CREDENTIAL_FILES = {"accessKeyId": "AccessKeyId", "accessKeySecret": "AccessKeySecret"}
"""Encrypt option suffix -> the file JindoSDK's secrets provider reads it from."""
_BUCKET = re.compile(r"^oss://([^/]+)")


IMAGES = Images(
    runtime="registry.cn-shanghai.aliyuncs.com/jindofs/smartdata:6.2.0",
    fuse="registry.cn-shanghai.aliyuncs.com/jindofs/jindo-fuse:6.2.0",
)
IMAGE_VARIABLES = ("JINDO_SMARTDATA_IMAGE_ENV", "JINDO_FUSE_IMAGE_ENV")
"""Upstream's variables that override the default images."""


def config_map_name(name: str) -> str:
    return f"{name}-jindofs-config"


def client_config_map_name(name: str) -> str:
    return f"{name}-jindofs-client-config"


def master_replicas(runtime: JindoRuntime) -> int:
    master = runtime.spec.master
    return (master.replicas if master else None) or 1


def ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    """JindoCache's INI format: `[section]` then `key = value` lines, keys sorted."""
    blocks = []
    for section, values in sections.items():
        lines = [f"[{section}]", *(f"{k} = {v}" for k, v in sorted(values.items()))]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


@dataclass(frozen=True)
class Credential:
    """An access key pair option of a mount, as a file of a mounted Secret."""

    scheme: str
    bucket: str | None
    secret: str
    key: str
    file: str


def credentials(dataset: DatasetSpec, runtime: JindoRuntime) -> list[Credential]:
    """The access keys of every mount (its encrypt options, or the runtime's legacy `secret`
    holding fs.oss.accessKeyId/fs.oss.accessKeySecret). Other encrypt options are not used
    (the engine reports them as ignored)."""
    found: list[Credential] = []
    for mount in dataset.mounts or []:
        if is_native(mount):
            continue
        scheme, bucket = _scheme(mount), _bucket(mount)
        for option in merged_encrypt_options(dataset, mount):
            file = CREDENTIAL_FILES.get(option.name.rsplit(".", 1)[-1])
            reference = option.value_from.secret_key_ref if option.value_from else None
            if file and reference:
                found.append(
                    Credential(scheme, bucket, reference.name, reference.key or option.name, file)
                )
        if runtime.spec.secret and scheme == "oss" and not merged_encrypt_options(dataset, mount):
            for suffix, file in CREDENTIAL_FILES.items():
                found.append(
                    Credential(scheme, bucket, runtime.spec.secret, f"fs.oss.{suffix}", file)
                )
    return found


def _scheme(mount: Mount) -> str:
    return mount.mount_point.split("://", 1)[0]


def _bucket(mount: Mount) -> str | None:
    match = _BUCKET.match(mount.mount_point)
    return match.group(1) if match else None


class JindoRenderer(WorkloadRenderer[JindoRuntime, JindoCompTemplateSpec]):
    app = APP
    default_images = IMAGES
    default_ports = PORTS
    component_model = JindoCompTemplateSpec

    def __init__(
        self,
        runtime: JindoRuntime,
        dataset: DatasetSpec,
        info: RuntimeInfo,
        *,
        owner: rendering.Obj,
        mount_root: str,
        images: Images,
    ) -> None:
        super().__init__(runtime, dataset, info, owner=owner, mount_root=mount_root, images=images)
        self.credentials = credentials(dataset, runtime)

    def workloads(self) -> Workloads:
        service = rendering.master_service(self.layout, self.owner, self.ports("master"))
        fuse = self.spec.fuse
        return Workloads(
            config=[
                rendering.with_render_hash(self.server_config()),
                rendering.with_render_hash(self.client_config()),
                rendering.with_render_hash(service),
            ],
            master=rendering.with_render_hash(self.master()),
            workers=rendering.with_render_hash(self.workers()),
            fuse=None if fuse and fuse.disabled else rendering.with_render_hash(self.fuse()),
            value_file=config_map_name(self.info.name),
        )

    # Configuration --------------------------------------------------------------------------

    def ports(self, component: str) -> dict[str, int]:
        chosen = self.configured_ports(component)
        if component == "master" and master_replicas(self.runtime) == 1:
            chosen.pop("raft", None)
        return chosen

    def master_address(self) -> str:
        return f"{self.layout.master_host()}:{self.ports('master')['rpc']}"

    def cache_directories(self) -> list[str]:
        """Where workers keep blocks: `jindocache` under each directory of the first level
        (JindoCache caches on one medium)."""
        levels = self.info.tiered_store[:1]
        return [
            f"{rendering.cache_directory(path, self.layout)}/jindocache"
            for level in levels
            for path, _ in level.paths
        ]

    def meta_directory(self) -> str:
        first = self.info.tiered_store[0].paths[0][0] if self.info.tiered_store else "/dev/shm"
        return f"{rendering.cache_directory(first, self.layout)}/jindocache"

    def store_properties(self, client: bool) -> dict[str, str]:
        """Per-bucket endpoints and options from the mounts, and where the access keys are;
        `jindocache.*` keys for the servers, `fs.*` for the client."""
        fs_props: dict[str, str] = {}
        for mount in self.dataset.mounts or []:
            if is_native(mount):
                continue
            bucket = _bucket(mount)
            for key, value in merged_options(self.dataset, mount).items():
                if key == "fs.oss.endpoint" and bucket:
                    fs_props[f"fs.oss.bucket.{bucket}.endpoint"] = value
                elif key.startswith("fs."):
                    fs_props[key] = value
        for credential in self.credentials:
            scope = credential.scheme
            if credential.bucket:
                scope += f".bucket.{credential.bucket}"
            endpoint = f"secrets://{TOKEN_DIRECTORY}/{credential.secret}/"
            fs_props[f"fs.{scope}.provider.endpoint"] = endpoint
        if client:
            return fs_props
        return {"jindocache." + key.removeprefix("fs."): v for key, v in fs_props.items()}

    def server_config(self) -> rendering.Obj:
        level = self.info.tiered_store[0] if self.info.tiered_store else None
        storage = {
            "storage.rpc.port": str(self.ports("worker")["rpc"]),
            "storage.data-dirs": ",".join(self.cache_directories()),
            "storage.compaction.enable": "true",
        }
        if level is not None:
            if level.medium == "MEM":
                storage["storage.ram.cache.size"] = str(sum(int(q) for _, q in level.paths))
            if level.high:
                storage["storage.watermark.high.ratio"] = level.high
            if level.low:
                storage["storage.watermark.low.ratio"] = level.low
        namespace = {
            "namespace.rpc.port": str(self.ports("master")["rpc"]),
            "namespace.meta-dir": f"{self.meta_directory()}/server",
            "namespace.backend.type": "rocksdb",
            **self.raft_properties(),
        }
        common = {
            "logger.dir": "/tmp/jindocache-log",
            **self.store_properties(client=False),
            **(self.spec.log_config or {}),
            **(self.spec.properties or {}),
        }
        data = {
            "jindocache.cfg": ini(
                {
                    "jindocache-common": common,
                    "jindocache-storage": {
                        **storage,
                        **(self.component("worker").properties or {}),
                    },
                    "jindocache-namespace": {
                        **namespace,
                        **(self.component("master").properties or {}),
                    },
                }
            )
        }
        return self.config_map(config_map_name(self.info.name), data)

    def raft_properties(self) -> dict[str, str]:
        """Three masters keep their namespace in Raft; one keeps it in RocksDB."""
        count = master_replicas(self.runtime)
        if count == 1:
            return {}
        raft = self.ports("master")["raft"]
        peers = ",".join(f"{self.layout.master_host(i)}:{raft}:0" for i in range(count))
        return {"namespace.backend.type": "raft", "namespace.backend.raft.initial-conf": peers}

    def client_config(self) -> rendering.Obj:
        fuse = self.spec.fuse
        jindosdk = {
            "fs.jindocache.namespace.rpc.address": self.master_address(),
            "fs.jindocache.data.cache.enable": "true",
            **self.store_properties(client=True),
            **((fuse.properties if fuse else None) or {}),
        }
        common = {"logger.dir": "/tmp/fuse-log", **((fuse.log_config if fuse else None) or {})}
        data = {"jindosdk.cfg": ini({"common": common, "jindosdk": jindosdk})}
        return self.config_map(client_config_map_name(self.info.name), data)

    def config_map(self, name: str, data: dict[str, str]) -> rendering.Obj:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": rendering.metadata(self.layout, name, MASTER, self.owner),
            "data": data,
        }

    # Volumes --------------------------------------------------------------------------------

    def config_volume(self, name: str) -> tuple[rendering.Obj, rendering.Obj]:
        return (
            {"name": "jindo-config", "configMap": {"name": name}},
            {"name": "jindo-config", "mountPath": CONFIG_DIRECTORY, "readOnly": True},
        )

    def token_volumes(self) -> tuple[list[rendering.Obj], list[rendering.Obj]]:
        """Each Secret holding access keys, mounted as files under /token/<secret>/."""
        items: dict[str, dict[str, str]] = {}
        for credential in self.credentials:
            items.setdefault(credential.secret, {})[credential.key] = credential.file
        volumes, mounts = [], []
        for index, (secret, files) in enumerate(sorted(items.items())):
            name = f"token-{index}"
            volumes.append(
                {
                    "name": name,
                    "secret": {
                        "secretName": secret,
                        "items": [{"key": k, "path": v} for k, v in sorted(files.items())],
                    },
                }
            )
            mounts.append(
                {"name": name, "mountPath": f"{TOKEN_DIRECTORY}/{secret}", "readOnly": True}
            )
        return volumes, mounts

    # Workloads ------------------------------------------------------------------------------

    def image(self) -> str:
        version = self.spec.jindo_version
        return rendering.image_of(
            version.image if version else None,
            version.image_tag if version else None,
            self.images.runtime,
        )

    def server_container(
        self, component: str, mounts: list[rendering.Obj], env: list[rendering.Obj]
    ) -> rendering.Obj:
        spec = self.component(component)
        version = self.spec.jindo_version
        container: rendering.Obj = {
            "name": f"{APP}-{component}",
            "image": self.image(),
            "command": ["/entrypoint.sh"],
            "args": [component],
            "env": [*env, *rendering.env_list({"JINDOCACHE_CONF_DIR": CONFIG_DIRECTORY}, spec.env)],
            "ports": rendering.container_ports(self.ports(component)),
            "resources": spec.resources or {},
            "volumeMounts": [*mounts, *(spec.volume_mounts or [])],
            "readinessProbe": rendering.rpc_readiness(),
        }
        return self.with_pull_policy_and_user(container, version and version.image_pull_policy)

    def pod_template(
        self, component: str, labels: Mapping[str, str], pod_spec: rendering.Obj
    ) -> rendering.Obj:
        spec = self.component(component)
        user_labels = {**(self.spec.labels or {}), **(spec.labels or {})}
        return {
            "metadata": rendering.pod_metadata(
                {**user_labels, **labels}, self.spec.pod_metadata, spec.pod_metadata
            ),
            "spec": pod_spec,
        }

    def master(self) -> rendering.Obj:
        spec = self.component("master")
        config_volume, config_mount = self.config_volume(config_map_name(self.info.name))
        token_volumes, token_mounts = self.token_volumes()
        ufs_volumes, ufs_mounts = rendering.native_ufs_volumes(self.dataset)
        hadoop_volumes, hadoop_mounts = self.hadoop_volumes()
        meta = {"name": "meta", "mountPath": self.meta_directory()}
        mounts = [config_mount, meta, *token_mounts, *ufs_mounts, *hadoop_mounts]
        env = rendering.env_list({"CLIENT_NAMESPACE_RPC_ADDRESS": self.master_address()})
        pod_spec: rendering.Obj = {
            "containers": [self.server_container("master", mounts, env)],
            "volumes": [
                config_volume,
                {"name": "meta", "emptyDir": {}},
                *token_volumes,
                *ufs_volumes,
                *hadoop_volumes,
                *(self.spec.volumes or []),
            ],
            "nodeSelector": dict(spec.node_selector or {}),
            "tolerations": dataset_tolerations(self.dataset, spec.tolerations),
            "imagePullSecrets": rendering.pull_secrets(
                self.spec.image_pull_secrets, spec.image_pull_secrets
            ),
        }
        template = self.pod_template("master", self.layout.labels(MASTER), pod_spec)
        return rendering.statefulset(
            self.layout, MASTER, self.owner, master_replicas(self.runtime), template
        )

    def workers(self) -> rendering.Obj:
        spec = self.component("worker")
        config_volume, config_mount = self.config_volume(config_map_name(self.info.name))
        cache_volumes, cache_mounts = rendering.tiered_store_volumes(
            self.info.tiered_store[:1], self.layout
        )
        token_volumes, token_mounts = self.token_volumes()
        ufs_volumes, ufs_mounts = rendering.native_ufs_volumes(self.dataset)
        hadoop_volumes, hadoop_mounts = self.hadoop_volumes()
        mounts = [config_mount, *cache_mounts, *token_mounts, *ufs_mounts, *hadoop_mounts]
        env = [
            *rendering.pod_ip_env("STORAGE_ADDRESS"),
            *rendering.env_list({"STORAGE_NAMESPACE_RPC_ADDRESS": self.master_address()}),
        ]
        pod_spec: rendering.Obj = {
            "containers": [self.server_container("worker", mounts, env)],
            "volumes": [
                config_volume,
                *cache_volumes,
                *token_volumes,
                *ufs_volumes,
                *hadoop_volumes,
                *(self.spec.volumes or []),
            ],
            "nodeSelector": dict(spec.node_selector or {}),
            "affinity": worker_affinity(self.info, self.dataset),
            "tolerations": dataset_tolerations(self.dataset, spec.tolerations),
            "imagePullSecrets": rendering.pull_secrets(
                self.spec.image_pull_secrets, spec.image_pull_secrets
            ),
        }
        labels = {**self.layout.labels(WORKER), **placement_labels(self.info)}
        template = self.pod_template("worker", labels, pod_spec)
        replicas = DEFAULT_WORKERS if self.spec.replicas is None else self.spec.replicas
        sts = rendering.statefulset(self.layout, WORKER, self.owner, replicas, template)
        sts["metadata"]["labels"].update(placement_labels(self.info))
        return sts

    def fuse_args(self) -> list[str]:
        fuse = self.spec.fuse
        if fuse and fuse.args:
            return list(fuse.args)
        modes = [str(mode) for mode in self.dataset.access_modes or []] or ["ReadOnlyMany"]
        read_only = ["-oro"] if modes == ["ReadOnlyMany"] else []
        return [*DEFAULT_FUSE_ARGS, *read_only]

    def fuse(self) -> rendering.Obj:
        fuse = self.spec.fuse
        config_volume, config_mount = self.config_volume(client_config_map_name(self.info.name))
        device_volume, device_mount = rendering.fuse_device_volume()
        mount_volume, mount_mount = rendering.fuse_mount_volume(
            self.fuse_host_directory(), FUSE_CONTAINER_ROOT
        )
        token_volumes, token_mounts = self.token_volumes()
        env = {
            "FLUID_FUSE_MOUNTPOINT": f"{FUSE_CONTAINER_ROOT}/{self.fuse_directory()}",
            "FLUID_RUNTIME_TYPE": RUNTIME_TYPE,
            "FLUID_RUNTIME_NS": self.info.namespace,
            "FLUID_RUNTIME_NAME": self.info.name,
            "JINDOSDK_CONF_DIR": CONFIG_DIRECTORY,
        }
        container: rendering.Obj = {
            "name": "jindofs-fuse",
            "image": rendering.image_of(
                fuse.image if fuse else None, fuse.image_tag if fuse else None, self.images.fuse
            ),
            "command": ["/entrypoint.sh"],
            "args": self.fuse_args(),
            "env": rendering.env_list(env, fuse.env if fuse else None),
            "resources": (fuse.resources if fuse else None) or {},
            "securityContext": {"privileged": True},
            "lifecycle": {"preStop": {"exec": {"command": ["/prestop.sh"]}}},
            "volumeMounts": [config_mount, device_mount, mount_mount, *token_mounts],
        }
        if fuse and fuse.image_pull_policy:
            container["imagePullPolicy"] = fuse.image_pull_policy
        pod_spec: rendering.Obj = {
            "containers": [container],
            "volumes": [
                config_volume,
                device_volume,
                mount_volume,
                *token_volumes,
                *(self.spec.volumes or []),
            ],
            "nodeSelector": rendering.fuse_node_selector(
                self.info, fuse.node_selector if fuse else None
            ),
            "tolerations": dataset_tolerations(self.dataset, fuse.tolerations if fuse else None),
            "imagePullSecrets": rendering.pull_secrets(
                self.spec.image_pull_secrets, fuse.image_pull_secrets if fuse else None
            ),
        }
        user_labels = {**(self.spec.labels or {}), **((fuse.labels if fuse else None) or {})}
        return self.fuse_daemonset(pod_spec, user_labels)


render = JindoRenderer.render

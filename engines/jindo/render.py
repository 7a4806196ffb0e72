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

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from fluidpy.api.v1alpha1.common import Mount
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.api.v1alpha1.jindo import JindoCompTemplateSpec, JindoRuntime
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.masterworker.cache_system import DEFAULT_WORKERS, Workloads
from fluidpy.engines.masterworker.layout import FUSE, MASTER, WORKER, Layout
from fluidpy.engines.masterworker.rendering import (
    Obj,
    cache_directory,
    container_ports,
    env_list,
    fuse_daemonset,
    fuse_device_volume,
    fuse_mount_volume,
    fuse_node_selector,
    image_of,
    master_service,
    metadata,
    native_ufs_volumes,
    pod_ip_env,
    pod_metadata,
    pull_secrets,
    rpc_readiness,
    security_context,
    statefulset,
    tiered_store_volumes,
    with_render_hash,
    worker_affinity,
    worker_labels,
)
from fluidpy.engines.masterworker.ufs import is_native, merged_encrypt_options, merged_options

APP = "jindofs"
RUNTIME_TYPE = "jindo"
FUSE_DIRECTORY = "jindofs-fuse"
MASTER_CONTAINER = "jindofs-master"
DEFAULT_IMAGE = "registry.cn-shanghai.aliyuncs.com/jindofs/smartdata:6.2.0"
DEFAULT_FUSE_IMAGE = "registry.cn-shanghai.aliyuncs.com/jindofs/jindo-fuse:6.2.0"
CONFIG_DIRECTORY = "/etc/jindocache"
TOKEN_DIRECTORY = "/token"
FUSE_CONTAINER_ROOT = "/jfs"
HADOOP_CONFIG_DIRECTORY = "/hdfs-config"
DEFAULT_FUSE_ARGS = ("-okernel_cache", "-oattr_timeout=7200", "-oentry_timeout=7200")

PORTS: dict[str, dict[str, int]] = {
    "master": {"rpc": 8101, "raft": 8103},
    "worker": {"rpc": 6101},
}
"""JindoCache's default ports; `spec.master.ports` / `spec.worker.ports` override them by name."""

CREDENTIAL_FILES = {"accessKeyId": "AccessKeyId", "accessKeySecret": "AccessKeySecret"}
"""Encrypt option suffix -> the file JindoSDK's secrets provider reads it from."""
_BUCKET = re.compile(r"^oss://([^/]+)")


@dataclass(frozen=True)
class Images:
    """Default images (image:tag): upstream's JINDO_SMARTDATA_IMAGE_ENV and JINDO_FUSE_IMAGE_ENV
    when set; a runtime's jindoVersion and fuse.image win over them."""

    runtime: str = DEFAULT_IMAGE
    fuse: str = DEFAULT_FUSE_IMAGE

    @classmethod
    def from_env(cls) -> Images:
        return cls(
            runtime=os.environ.get("JINDO_SMARTDATA_IMAGE_ENV") or DEFAULT_IMAGE,
            fuse=os.environ.get("JINDO_FUSE_IMAGE_ENV") or DEFAULT_FUSE_IMAGE,
        )


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


def render(
    runtime: JindoRuntime,
    dataset: DatasetSpec,
    info: RuntimeInfo,
    *,
    owner: Obj,
    mount_root: str,
    images: Images,
) -> Workloads:
    """Every object of the runtime; `owner` is the controller owner reference they carry."""
    return _Renderer(
        runtime, dataset, info, owner=owner, mount_root=mount_root, images=images
    ).workloads()


class _Renderer:
    """One rendering: the inputs, and a method per object."""

    def __init__(
        self,
        runtime: JindoRuntime,
        dataset: DatasetSpec,
        info: RuntimeInfo,
        *,
        owner: Obj,
        mount_root: str,
        images: Images,
    ) -> None:
        self.runtime = runtime
        self.spec = runtime.spec
        self.dataset = dataset
        self.info = info
        self.owner = owner
        self.mount_root = mount_root
        self.images = images
        self.layout = Layout.of(info, APP)
        self.credentials = credentials(dataset, runtime)

    def workloads(self) -> Workloads:
        service = master_service(self.layout, self.owner, self.ports("master"))
        fuse = self.spec.fuse
        return Workloads(
            config=[
                with_render_hash(self.server_config()),
                with_render_hash(self.client_config()),
                with_render_hash(service),
            ],
            master=with_render_hash(self.master()),
            workers=with_render_hash(self.workers()),
            fuse=None if fuse and fuse.disabled else with_render_hash(self.fuse()),
            value_file=config_map_name(self.info.name),
        )

    # Configuration --------------------------------------------------------------------------

    def component(self, name: str) -> JindoCompTemplateSpec:
        spec: JindoCompTemplateSpec | None = getattr(self.spec, name)
        return spec or JindoCompTemplateSpec()

    def ports(self, component: str) -> dict[str, int]:
        chosen = {**PORTS[component], **(self.component(component).ports or {})}
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
            f"{cache_directory(path, self.layout)}/jindocache"
            for level in levels
            for path, _ in level.paths
        ]

    def meta_directory(self) -> str:
        first = self.info.tiered_store[0].paths[0][0] if self.info.tiered_store else "/dev/shm"
        return f"{cache_directory(first, self.layout)}/jindocache"

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

    def server_config(self) -> Obj:
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

    def client_config(self) -> Obj:
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

    def config_map(self, name: str, data: dict[str, str]) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(self.layout, name, MASTER, self.owner),
            "data": data,
        }

    # Volumes --------------------------------------------------------------------------------

    def config_volume(self, name: str) -> tuple[Obj, Obj]:
        return (
            {"name": "jindo-config", "configMap": {"name": name}},
            {"name": "jindo-config", "mountPath": CONFIG_DIRECTORY, "readOnly": True},
        )

    def token_volumes(self) -> tuple[list[Obj], list[Obj]]:
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

    def hadoop_volumes(self) -> tuple[list[Obj], list[Obj]]:
        name = self.spec.hadoop_config
        if not name:
            return [], []
        return (
            [{"name": "hdfs-config", "configMap": {"name": name}}],
            [{"name": "hdfs-config", "mountPath": HADOOP_CONFIG_DIRECTORY, "readOnly": True}],
        )

    # Workloads ------------------------------------------------------------------------------

    def image(self) -> str:
        version = self.spec.jindo_version
        return image_of(
            version.image if version else None,
            version.image_tag if version else None,
            self.images.runtime,
        )

    def server_container(self, component: str, mounts: list[Obj], env: list[Obj]) -> Obj:
        spec = self.component(component)
        version = self.spec.jindo_version
        container: Obj = {
            "name": f"{APP}-{component}",
            "image": self.image(),
            "command": ["/entrypoint.sh"],
            "args": [component],
            "env": [*env, *env_list({"JINDOCACHE_CONF_DIR": CONFIG_DIRECTORY}, spec.env)],
            "ports": container_ports(self.ports(component)),
            "resources": spec.resources or {},
            "volumeMounts": [*mounts, *(spec.volume_mounts or [])],
            "readinessProbe": rpc_readiness(),
        }
        if version and version.image_pull_policy:
            container["imagePullPolicy"] = version.image_pull_policy
        context = security_context(self.spec.run_as)
        if context:
            container["securityContext"] = context
        return container

    def pod_template(self, component: str, labels: Mapping[str, str], pod_spec: Obj) -> Obj:
        spec = self.component(component)
        user_labels = {**(self.spec.labels or {}), **(spec.labels or {})}
        return {
            "metadata": pod_metadata(
                {**user_labels, **labels}, self.spec.pod_metadata, spec.pod_metadata
            ),
            "spec": pod_spec,
        }

    def master(self) -> Obj:
        spec = self.component("master")
        config_volume, config_mount = self.config_volume(config_map_name(self.info.name))
        token_volumes, token_mounts = self.token_volumes()
        ufs_volumes, ufs_mounts = native_ufs_volumes(self.dataset)
        hadoop_volumes, hadoop_mounts = self.hadoop_volumes()
        meta = {"name": "meta", "mountPath": self.meta_directory()}
        mounts = [config_mount, meta, *token_mounts, *ufs_mounts, *hadoop_mounts]
        env = env_list({"CLIENT_NAMESPACE_RPC_ADDRESS": self.master_address()})
        pod_spec: Obj = {
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
            "tolerations": list(spec.tolerations or []),
            "imagePullSecrets": pull_secrets(self.spec.image_pull_secrets, spec.image_pull_secrets),
        }
        template = self.pod_template("master", self.layout.labels(MASTER), pod_spec)
        return statefulset(self.layout, MASTER, self.owner, master_replicas(self.runtime), template)

    def workers(self) -> Obj:
        spec = self.component("worker")
        config_volume, config_mount = self.config_volume(config_map_name(self.info.name))
        cache_volumes, cache_mounts = tiered_store_volumes(self.info.tiered_store[:1], self.layout)
        token_volumes, token_mounts = self.token_volumes()
        ufs_volumes, ufs_mounts = native_ufs_volumes(self.dataset)
        hadoop_volumes, hadoop_mounts = self.hadoop_volumes()
        mounts = [config_mount, *cache_mounts, *token_mounts, *ufs_mounts, *hadoop_mounts]
        env = [
            *pod_ip_env("STORAGE_ADDRESS"),
            *env_list({"STORAGE_NAMESPACE_RPC_ADDRESS": self.master_address()}),
        ]
        pod_spec: Obj = {
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
            "tolerations": [*(self.dataset.tolerations or []), *(spec.tolerations or [])],
            "imagePullSecrets": pull_secrets(self.spec.image_pull_secrets, spec.image_pull_secrets),
        }
        labels = {**self.layout.labels(WORKER), **worker_labels(self.layout, self.info)}
        template = self.pod_template("worker", labels, pod_spec)
        replicas = DEFAULT_WORKERS if self.spec.replicas is None else self.spec.replicas
        sts = statefulset(self.layout, WORKER, self.owner, replicas, template)
        sts["metadata"]["labels"].update(worker_labels(self.layout, self.info))
        return sts

    def fuse_args(self) -> list[str]:
        fuse = self.spec.fuse
        if fuse and fuse.args:
            return list(fuse.args)
        modes = [str(mode) for mode in self.dataset.access_modes or []] or ["ReadOnlyMany"]
        read_only = ["-oro"] if modes == ["ReadOnlyMany"] else []
        return [*DEFAULT_FUSE_ARGS, *read_only]

    def fuse_host_directory(self) -> str:
        root = self.mount_root.rstrip("/")
        return f"{root}/{RUNTIME_TYPE}/{self.info.namespace}/{self.info.name}"

    def fuse(self) -> Obj:
        fuse = self.spec.fuse
        config_volume, config_mount = self.config_volume(client_config_map_name(self.info.name))
        device_volume, device_mount = fuse_device_volume()
        mount_volume, mount_mount = fuse_mount_volume(
            self.fuse_host_directory(), FUSE_CONTAINER_ROOT
        )
        token_volumes, token_mounts = self.token_volumes()
        env = {
            "FLUID_FUSE_MOUNTPOINT": f"{FUSE_CONTAINER_ROOT}/{FUSE_DIRECTORY}",
            "FLUID_RUNTIME_TYPE": RUNTIME_TYPE,
            "FLUID_RUNTIME_NS": self.info.namespace,
            "FLUID_RUNTIME_NAME": self.info.name,
            "JINDOSDK_CONF_DIR": CONFIG_DIRECTORY,
        }
        container: Obj = {
            "name": "jindofs-fuse",
            "image": image_of(
                fuse.image if fuse else None, fuse.image_tag if fuse else None, self.images.fuse
            ),
            "command": ["/entrypoint.sh"],
            "args": self.fuse_args(),
            "env": env_list(env, fuse.env if fuse else None),
            "resources": (fuse.resources if fuse else None) or {},
            "securityContext": {"privileged": True},
            "lifecycle": {"preStop": {"exec": {"command": ["/prestop.sh"]}}},
            "volumeMounts": [config_mount, device_mount, mount_mount, *token_mounts],
        }
        if fuse and fuse.image_pull_policy:
            container["imagePullPolicy"] = fuse.image_pull_policy
        pod_spec: Obj = {
            "containers": [container],
            "volumes": [
                config_volume,
                device_volume,
                mount_volume,
                *token_volumes,
                *(self.spec.volumes or []),
            ],
            "nodeSelector": fuse_node_selector(self.info, fuse.node_selector if fuse else None),
            "tolerations": list((fuse.tolerations if fuse else None) or []),
            "imagePullSecrets": pull_secrets(
                self.spec.image_pull_secrets, fuse.image_pull_secrets if fuse else None
            ),
        }
        user_labels = {**(self.spec.labels or {}), **((fuse.labels if fuse else None) or {})}
        template = {
            "metadata": pod_metadata(
                {**user_labels, **self.layout.labels(FUSE)},
                self.spec.pod_metadata,
                fuse.pod_metadata if fuse else None,
            ),
            "spec": pod_spec,
        }
        return fuse_daemonset(self.layout, self.owner, template)

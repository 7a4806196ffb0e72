"""Everything an AlluxioRuntime runs, rendered natively from its spec (no Helm).

Shapes follow upstream's Alluxio chart: a master StatefulSet (Alluxio master and job master,
plus the REST gateway when enabled) behind a headless Service, a worker StatefulSet (worker and
job worker), a FUSE DaemonSet that runs only on nodes Fluid's CSI plugin labels, and the config
map `<name>-config` whose ALLUXIO_*_JAVA_OPTS every container reads through envFrom. Pods use
the pod network with Alluxio's standard ports (`PORTS`).

`render()` is a pure function of the runtime, its Dataset's spec and the RuntimeInfo.
"""

from __future__ import annotations

from collections.abc import Mapping

from fluidpy.api.v1alpha1.alluxio import AlluxioCompTemplateSpec, AlluxioRuntime
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.placement import (
    dataset_tolerations,
    placement_labels,
    worker_affinity,
)
from fluidpy.engines.masterworker import rendering
from fluidpy.engines.masterworker.cache_system import DEFAULT_WORKERS, Workloads
from fluidpy.engines.masterworker.layout import MASTER, WORKER
from fluidpy.engines.masterworker.renderer import HADOOP_CONFIG_DIRECTORY, Images, WorkloadRenderer
from fluidpy.engines.masterworker.ufs import UNDER_FS_ROOT, is_native, mount_path

APP = "alluxio"
JOURNAL_DIRECTORY = "/journal"
MONITOR_LABEL = "monitor"
MONITOR_VALUE = "alluxio_runtime_metrics"
"""The label Fluid's ServiceMonitor selects master Services by, unless disablePrometheus."""
READ_ONLY_FUSE_OPTIONS = "kernel_cache,ro,attr_timeout=7200,entry_timeout=7200"
READ_WRITE_FUSE_OPTIONS = "kernel_cache,rw,attr_timeout=7200,entry_timeout=7200"

PORTS: dict[str, dict[str, int]] = {
    "master": {"rpc": 19998, "web": 19999, "embedded": 19200},
    "job_master": {"rpc": 20001, "web": 20002, "embedded": 20003},
    "worker": {"rpc": 29999, "web": 30000},
    "job_worker": {"rpc": 30001, "data": 30002, "web": 30003},
    "api_gateway": {"rest": 39999},
}
"""Alluxio's default ports per component; `spec.<component>.ports` overrides them by name."""

JAVA_OPTS = {
    "master": "ALLUXIO_MASTER_JAVA_OPTS",
    "job_master": "ALLUXIO_JOB_MASTER_JAVA_OPTS",
    "worker": "ALLUXIO_WORKER_JAVA_OPTS",
    "job_worker": "ALLUXIO_JOB_WORKER_JAVA_OPTS",
    "api_gateway": "ALLUXIO_PROXY_JAVA_OPTS",
}
"""The variable each component's jvmOptions and properties go to."""


IMAGES = Images(runtime="alluxio/alluxio:2.9.3", fuse="alluxio/alluxio-fuse:2.9.3")
IMAGE_VARIABLES = ("ALLUXIO_RUNTIME_IMAGE_ENV", "ALLUXIO_FUSE_IMAGE_ENV")
"""Upstream's variables that override the default images."""


def config_map_name(name: str) -> str:
    return f"{name}-config"


def master_replicas(runtime: AlluxioRuntime) -> int:
    master = runtime.spec.master
    return (master.replicas if master else None) or 1


def root_ufs(dataset: DatasetSpec) -> str:
    """What Alluxio mounts at its root: the mount whose path is `/`, else the directory where
    native (local://, pvc://) mounts appear."""
    for mount in dataset.mounts or []:
        if mount_path(mount) == "/" and not is_native(mount):
            return mount.mount_point
    return UNDER_FS_ROOT


def java_opts(properties: Mapping[str, str] | None, jvm_options: list[str] | None) -> str:
    """`<jvm options> -Dkey=value ...`, as Alluxio's scripts read ALLUXIO_*_JAVA_OPTS."""
    words = list(jvm_options or [])
    words += [f"-D{key}={value}" for key, value in sorted((properties or {}).items())]
    return " ".join(words)


class AlluxioRenderer(WorkloadRenderer[AlluxioRuntime, AlluxioCompTemplateSpec]):
    app = APP
    default_images = IMAGES
    default_ports = PORTS
    component_model = AlluxioCompTemplateSpec

    def workloads(self) -> Workloads:
        service = rendering.master_service(self.layout, self.owner, self.master_ports())
        if not self.spec.disable_prometheus:
            service["metadata"]["labels"][MONITOR_LABEL] = MONITOR_VALUE
        return Workloads(
            config=[
                rendering.with_render_hash(self.config_map()),
                rendering.with_render_hash(service),
            ],
            master=rendering.with_render_hash(self.master()),
            workers=rendering.with_render_hash(self.workers()),
            fuse=rendering.with_render_hash(self.fuse()),
            value_file=config_map_name(self.info.name),
        )

    # Ports and properties ----------------------------------------------------------------

    def ports(self, component: str) -> dict[str, int]:
        chosen = self.configured_ports(component)
        if master_replicas(self.runtime) == 1:
            chosen.pop("embedded", None)
        return chosen

    def master_ports(self) -> dict[str, int]:
        """The master pod's ports as its Service names them (job master ports prefixed)."""
        named = dict(self.ports("master"))
        named |= {f"job-{k}": v for k, v in self.ports("job_master").items()}
        if self.api_gateway_enabled():
            named |= self.ports("api_gateway")
        return named

    def api_gateway_enabled(self) -> bool:
        return bool(self.spec.api_gateway and self.spec.api_gateway.enabled)

    def site_properties(self) -> dict[str, str]:
        """Alluxio properties for every component: ours, then `spec.properties` over them."""
        master, job_master = self.ports("master"), self.ports("job_master")
        worker, job_worker = self.ports("worker"), self.ports("job_worker")
        host = self.layout.master_host()
        props = {
            "alluxio.master.hostname": host,
            "alluxio.job.master.hostname": host,
            "alluxio.master.rpc.port": str(master["rpc"]),
            "alluxio.master.web.port": str(master["web"]),
            "alluxio.job.master.rpc.port": str(job_master["rpc"]),
            "alluxio.job.master.web.port": str(job_master["web"]),
            "alluxio.worker.rpc.port": str(worker["rpc"]),
            "alluxio.worker.web.port": str(worker["web"]),
            "alluxio.job.worker.rpc.port": str(job_worker["rpc"]),
            "alluxio.job.worker.data.port": str(job_worker["data"]),
            "alluxio.job.worker.web.port": str(job_worker["web"]),
            "alluxio.proxy.web.port": str(self.ports("api_gateway")["rest"]),
            "alluxio.master.mount.table.root.ufs": root_ufs(self.dataset),
            "alluxio.master.journal.folder": JOURNAL_DIRECTORY,
            "alluxio.master.journal.type": "UFS",
            **self.ha_properties(),
            **self.tiered_store_properties(),
        }
        if self.spec.data and self.spec.data.replicas:
            props["alluxio.user.file.replication.max"] = str(max(self.spec.data.replicas, 1))
        if self.spec.hadoop_config:
            props["alluxio.underfs.hdfs.configuration"] = (
                f"{HADOOP_CONFIG_DIRECTORY}/hdfs-site.xml:{HADOOP_CONFIG_DIRECTORY}/core-site.xml"
            )
        return {**props, **(self.spec.properties or {})}

    def ha_properties(self) -> dict[str, str]:
        """Several masters share an embedded (Raft) journal; one master keeps a UFS journal."""
        count = master_replicas(self.runtime)
        if count == 1:
            return {}
        hosts = [self.layout.master_host(index) for index in range(count)]
        master, job = self.ports("master")["embedded"], self.ports("job_master")["embedded"]
        return {
            "alluxio.master.journal.type": "EMBEDDED",
            "alluxio.master.embedded.journal.addresses": ",".join(f"{h}:{master}" for h in hosts),
            "alluxio.job.master.embedded.journal.addresses": ",".join(f"{h}:{job}" for h in hosts),
        }

    def tiered_store_properties(self) -> dict[str, str]:
        levels = self.info.tiered_store
        props = {"alluxio.worker.tieredstore.levels": str(len(levels))}
        for index, level in enumerate(levels):
            prefix = f"alluxio.worker.tieredstore.level{index}"
            directories = [rendering.cache_directory(path, self.layout) for path, _ in level.paths]
            props[f"{prefix}.alias"] = level.medium
            props[f"{prefix}.dirs.path"] = ",".join(directories)
            props[f"{prefix}.dirs.mediumtype"] = ",".join(level.medium for _ in level.paths)
            props[f"{prefix}.dirs.quota"] = ",".join(quota for _, quota in level.paths)
            if level.high:
                props[f"{prefix}.watermark.high.ratio"] = level.high
            if level.low:
                props[f"{prefix}.watermark.low.ratio"] = level.low
        return props

    # Objects -------------------------------------------------------------------------------

    def config_map(self) -> rendering.Obj:
        data = {"ALLUXIO_JAVA_OPTS": java_opts(self.site_properties(), self.spec.jvm_options)}
        for component, variable in JAVA_OPTS.items():
            spec = self.component(component)
            data[variable] = java_opts(spec.properties, spec.jvm_options)
        fuse = self.spec.fuse
        data["ALLUXIO_FUSE_JAVA_OPTS"] = java_opts(
            fuse.properties if fuse else None, fuse.jvm_options if fuse else None
        )
        name = config_map_name(self.info.name)
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": rendering.metadata(self.layout, name, MASTER, self.owner),
            "data": data,
        }

    def container(
        self, component: str, name: str, args: list[str], mounts: list[rendering.Obj], **env: str
    ) -> rendering.Obj:
        spec = self.component(component)
        version = self.spec.alluxio_version
        prefix = "job-" if component.startswith("job_") else ""
        container: rendering.Obj = {
            "name": name,
            "image": rendering.image_of(
                version.image if version else None,
                version.image_tag if version else None,
                self.images.runtime,
            ),
            "args": args,
            "envFrom": [{"configMapRef": {"name": config_map_name(self.info.name)}}],
            "env": rendering.env_list(env, spec.env),
            "ports": rendering.container_ports(
                {prefix + k: v for k, v in self.ports(component).items()}
            ),
            "resources": spec.resources or {},
            "volumeMounts": [*mounts, *(spec.volume_mounts or [])],
        }
        return self.with_pull_policy_and_user(container, version and version.image_pull_policy)

    def master(self) -> rendering.Obj:
        spec = self.component("master")
        ufs_volumes, ufs_mounts = rendering.native_ufs_volumes(self.dataset)
        hadoop_volumes, hadoop_mounts = self.hadoop_volumes()
        journal = {"name": "journal", "mountPath": JOURNAL_DIRECTORY}
        shared = [*ufs_mounts, *hadoop_mounts]
        master = self.container(
            "master", self.master_container(), ["master-only", "--no-format"], [journal, *shared]
        )
        master["readinessProbe"] = rendering.rpc_readiness()
        containers = [
            master,
            self.container("job_master", "alluxio-job-master", ["job-master"], shared),
        ]
        if self.api_gateway_enabled():
            containers.append(self.container("api_gateway", "alluxio-api-gateway", ["proxy"], []))
        pod_spec: rendering.Obj = {
            "containers": containers,
            "volumes": [
                {"name": "journal", "emptyDir": {}},
                *ufs_volumes,
                *hadoop_volumes,
                *(self.spec.volumes or []),
            ],
            "nodeSelector": dict(spec.node_selector or {}),
            "tolerations": dataset_tolerations(self.dataset),
            "imagePullSecrets": rendering.pull_secrets(
                self.spec.image_pull_secrets, spec.image_pull_secrets
            ),
        }
        template = {
            "metadata": rendering.pod_metadata(
                self.layout.labels(MASTER), self.spec.pod_metadata, spec.pod_metadata
            ),
            "spec": pod_spec,
        }
        replicas = master_replicas(self.runtime)
        return rendering.statefulset(self.layout, MASTER, self.owner, replicas, template)

    def workers(self) -> rendering.Obj:
        spec = self.component("worker")
        cache_volumes, cache_mounts = rendering.tiered_store_volumes(
            self.info.tiered_store, self.layout
        )
        ufs_volumes, ufs_mounts = rendering.native_ufs_volumes(self.dataset)
        hadoop_volumes, hadoop_mounts = self.hadoop_volumes()
        shared = [*cache_mounts, *ufs_mounts, *hadoop_mounts]
        worker = self.container("worker", "alluxio-worker", ["worker-only", "--no-format"], shared)
        worker["readinessProbe"] = rendering.rpc_readiness()
        worker["env"] = [
            *rendering.pod_ip_env("ALLUXIO_WORKER_HOSTNAME", "ALLUXIO_WORKER_CONTAINER_HOSTNAME"),
            *worker["env"],
        ]
        containers = [
            worker,
            self.container("job_worker", "alluxio-job-worker", ["job-worker"], shared),
        ]
        labels = {**self.layout.labels(WORKER), **placement_labels(self.info)}
        pod_spec: rendering.Obj = {
            "containers": containers,
            "volumes": [*cache_volumes, *ufs_volumes, *hadoop_volumes, *(self.spec.volumes or [])],
            "nodeSelector": dict(spec.node_selector or {}),
            "affinity": worker_affinity(self.info, self.dataset),
            "tolerations": dataset_tolerations(self.dataset),
            "imagePullSecrets": rendering.pull_secrets(
                self.spec.image_pull_secrets, spec.image_pull_secrets
            ),
        }
        template = {
            "metadata": rendering.pod_metadata(labels, self.spec.pod_metadata, spec.pod_metadata),
            "spec": pod_spec,
        }
        replicas = DEFAULT_WORKERS if self.spec.replicas is None else self.spec.replicas
        sts = rendering.statefulset(self.layout, WORKER, self.owner, replicas, template)
        sts["metadata"]["labels"].update(placement_labels(self.info))
        return sts

    def fuse_args(self) -> list[str]:
        """The FUSE command line: the spec's, or read-only kernel-cached options (read-write
        when the Dataset allows writes) mounting Alluxio's root at the node's mount point."""
        fuse = self.spec.fuse
        if fuse and fuse.args:
            return list(fuse.args)
        modes = [str(mode) for mode in self.dataset.access_modes or []] or ["ReadOnlyMany"]
        options = READ_ONLY_FUSE_OPTIONS if modes == ["ReadOnlyMany"] else READ_WRITE_FUSE_OPTIONS
        options += ",allow_other"
        if self.dataset.owner is not None:
            options += f",uid={self.dataset.owner.uid},gid={self.dataset.owner.gid}"
        return ["fuse", f"--fuse-opts={options}", self.fuse_mount_path(), "/"]

    def fuse(self) -> rendering.Obj:
        fuse = self.spec.fuse
        device_volume, device_mount = rendering.fuse_device_volume()
        mount_volume, mount_mount = rendering.fuse_mount_volume(
            self.fuse_host_directory(), self.fuse_host_directory()
        )
        ufs_volumes, ufs_mounts = rendering.native_ufs_volumes(self.dataset)
        env = {
            "FLUID_RUNTIME_TYPE": APP,
            "FLUID_RUNTIME_NS": self.info.namespace,
            "FLUID_RUNTIME_NAME": self.info.name,
            "FLUID_FUSE_MOUNTPOINT": self.fuse_mount_path(),
        }
        container: rendering.Obj = {
            "name": "alluxio-fuse",
            "image": rendering.image_of(
                fuse.image if fuse else None, fuse.image_tag if fuse else None, self.images.fuse
            ),
            "args": self.fuse_args(),
            "envFrom": [{"configMapRef": {"name": config_map_name(self.info.name)}}],
            "env": [
                *rendering.pod_ip_env("ALLUXIO_CLIENT_HOSTNAME"),
                *rendering.env_list(env, fuse.env if fuse else None),
            ],
            "resources": (fuse.resources if fuse else None) or {},
            "securityContext": {"privileged": True},
            "lifecycle": {
                "preStop": {
                    "exec": {"command": ["alluxio-fuse", "unmount", self.fuse_mount_path()]}
                }
            },
            "volumeMounts": [
                device_mount,
                mount_mount,
                *ufs_mounts,
                *((fuse.volume_mounts if fuse else None) or []),
            ],
        }
        if fuse and fuse.image_pull_policy:
            container["imagePullPolicy"] = fuse.image_pull_policy
        pod_spec: rendering.Obj = {
            "containers": [container],
            "volumes": [device_volume, mount_volume, *ufs_volumes, *(self.spec.volumes or [])],
            "nodeSelector": rendering.fuse_node_selector(
                self.info, fuse.node_selector if fuse else None
            ),
            "tolerations": dataset_tolerations(self.dataset),
            "imagePullSecrets": rendering.pull_secrets(
                self.spec.image_pull_secrets, fuse.image_pull_secrets if fuse else None
            ),
        }
        return self.fuse_daemonset(pod_spec)


render = AlluxioRenderer.render

"""The Alluxio renderer turns upstream manifests into the objects the spec asks for.

Inputs are upstream Fluid's own manifests (copied under tests/fixtures/upstream-fluid,
sources in tests/fixtures/README.md) and our samples in config/samples/alluxio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.api.v1alpha1.alluxio import AlluxioRuntime
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.alluxio.render import IMAGES, render
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.masterworker.cache_system import Workloads
from fluidpy.engines.masterworker.rendering import RENDER_HASH_ANNOTATION
from fluidpy.engines.masterworker.tieredstore import tiered_store_levels

REPO = Path(__file__).resolve().parents[4]
UPSTREAM = REPO / "tests" / "fixtures" / "upstream-fluid"
OURS = REPO / "config" / "samples" / "alluxio"
OWNER = {
    "apiVersion": "data.fluid.io/v1alpha1",
    "kind": "AlluxioRuntime",
    "name": "spark",
    "uid": "uid-1",
    "controller": True,
    "blockOwnerDeletion": True,
}
DATASET = {"mounts": [{"mountPoint": "https://mirrors.example/spark/", "name": "spark"}]}


def documents(path: Path, kind: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == kind]


def upstream_runtimes() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{doc['metadata']['name']}", doc)
        for path in sorted(UPSTREAM.glob("*.yaml"))
        for doc in documents(path, "AlluxioRuntime")
    ]


def rendered(
    runtime: dict[str, Any],
    dataset: dict[str, Any] | None = None,
    *,
    placement: str = "Exclusive",
    namespace: str = "default",
) -> Workloads:
    model = AlluxioRuntime.from_dict(
        {**runtime, "metadata": {**runtime["metadata"], "namespace": namespace, "uid": "uid-1"}}
    )
    name = model.metadata.name or ""
    info = RuntimeInfo(
        name=name,
        namespace=namespace,
        runtime_type="alluxio",
        placement=placement,
        tiered_store=tiered_store_levels(model.spec.tieredstore),
    )
    return render(
        model,
        DatasetSpec.model_validate(dataset or DATASET),
        info,
        owner={**OWNER, "name": name},
        mount_root="/runtime-mnt",
        images=IMAGES,
    )


def runtime(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "AlluxioRuntime",
        "metadata": {"name": "spark"},
        "spec": {
            "replicas": 2,
            "tieredstore": {
                "levels": [
                    {"mediumtype": "MEM", "path": "/dev/shm", "quota": "2Gi", "high": "0.95"}
                ]
            },
            **spec,
        },
    }


def java_opts(workloads: Workloads) -> str:
    return str(workloads.config[0]["data"]["ALLUXIO_JAVA_OPTS"])


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize(("name", "manifest"), upstream_runtimes())
def test_every_upstream_runtime_renders_the_objects_the_spec_names(
    name: str, manifest: dict[str, Any]
) -> None:
    workloads = rendered(manifest)
    runtime_name = manifest["metadata"]["name"]

    assert workloads.master["metadata"]["name"] == f"{runtime_name}-master"
    assert workloads.workers["metadata"]["name"] == f"{runtime_name}-worker"
    assert workloads.fuse is not None
    assert workloads.fuse["metadata"]["name"] == f"{runtime_name}-fuse"
    assert [obj["kind"] for obj in workloads.config] == ["ConfigMap", "Service"]
    assert workloads.workers["spec"]["replicas"] == manifest["spec"]["replicas"]
    for obj in workloads.all():
        assert obj["metadata"]["ownerReferences"][0]["controller"] is True
        assert obj["metadata"]["labels"]["release"] == runtime_name
        assert obj["metadata"]["labels"]["fluid.io/dataset-id"] == f"default-{runtime_name}"
        assert RENDER_HASH_ANNOTATION in obj["metadata"]["annotations"]


def test_every_sample_of_ours_renders() -> None:
    samples = sorted(OURS.glob("*.yaml"))
    assert samples, "config/samples/alluxio has no samples"
    for path in samples:
        dataset = documents(path, "Dataset")[0]["spec"]
        for manifest in documents(path, "AlluxioRuntime"):
            assert rendered(manifest, dataset).master["kind"] == "StatefulSet"


def test_workloads_are_updated_only_on_delete_and_select_their_own_pods() -> None:
    workloads = rendered(runtime())

    for workload, role in [
        (workloads.master, "alluxio-master"),
        (workloads.workers, "alluxio-worker"),
        (workloads.fuse, "alluxio-fuse"),
    ]:
        assert workload is not None
        assert workload["spec"]["updateStrategy"] == {"type": "OnDelete"}
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selector == {"app": "alluxio", "release": "spark", "role": role}
        template_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= template_labels.items()


def test_worker_replicas_follow_spec_replicas() -> None:
    assert rendered(runtime(replicas=5)).workers["spec"]["replicas"] == 5
    assert rendered(runtime(replicas=0)).workers["spec"]["replicas"] == 0


def test_fuse_runs_only_on_nodes_the_csi_plugin_labels_for_this_dataset() -> None:
    fuse = rendered(runtime(fuse={"nodeSelector": {"gpu": "true"}}), namespace="team").fuse

    assert fuse is not None
    assert pod_spec(fuse)["nodeSelector"] == {"gpu": "true", "fluid.io/f-team-spark": "true"}


def test_fuse_mounts_read_only_at_the_path_the_persistent_volume_names() -> None:
    fuse = rendered(runtime()).fuse
    assert fuse is not None
    container = pod_spec(fuse)["containers"][0]
    mount_point = "/runtime-mnt/alluxio/default/spark/alluxio-fuse"

    assert container["args"] == [
        "fuse",
        "--fuse-opts=kernel_cache,ro,attr_timeout=7200,entry_timeout=7200,allow_other",
        mount_point,
        "/",
    ]
    assert container["securityContext"] == {"privileged": True}
    bidirectional = [m for m in container["volumeMounts"] if m.get("mountPropagation")]
    assert bidirectional == [
        {
            "name": "fuse-mount",
            "mountPath": "/runtime-mnt/alluxio/default/spark",
            "mountPropagation": "Bidirectional",
        }
    ]


def test_a_writable_dataset_gets_a_read_write_fuse_with_its_owner() -> None:
    dataset = {**DATASET, "accessModes": ["ReadWriteMany"]}
    dataset["owner"] = {"uid": 1000, "gid": 1000, "user": "u", "group": "g"}

    fuse = rendered(runtime(), dataset).fuse

    assert fuse is not None
    options = pod_spec(fuse)["containers"][0]["args"][1]
    assert ",rw," in options
    assert options.endswith(",allow_other,uid=1000,gid=1000")


def test_tiered_store_levels_become_volumes_and_alluxio_quotas() -> None:
    workloads = rendered(
        runtime(
            tieredstore={
                "levels": [
                    {
                        "mediumtype": "MEM",
                        "path": "/dev/shm",
                        "quota": "1Gi",
                        "volumeType": "emptyDir",
                    },
                    {"mediumtype": "SSD", "path": "/mnt/a,/mnt/b", "quotaList": "10Gi,20Gi"},
                ]
            }
        )
    )
    volumes = {v["name"]: v for v in pod_spec(workloads.workers)["volumes"]}
    opts = java_opts(workloads)

    assert volumes["cache-0-0"]["emptyDir"] == {"sizeLimit": str(1024**3), "medium": "Memory"}
    assert volumes["cache-1-1"]["hostPath"] == {
        "path": "/mnt/b/default/spark",
        "type": "DirectoryOrCreate",
    }
    assert "-Dalluxio.worker.tieredstore.levels=2" in opts
    assert (
        "-Dalluxio.worker.tieredstore.level1.dirs.path=/mnt/a/default/spark,/mnt/b/default/spark"
        in opts
    )
    assert f"-Dalluxio.worker.tieredstore.level1.dirs.quota={10 * 1024**3},{20 * 1024**3}" in opts


def test_properties_and_jvm_options_reach_the_config_map_over_our_defaults() -> None:
    workloads = rendered(
        runtime(
            properties={"alluxio.master.journal.type": "NOOP", "alluxio.user.block.size": "64MB"},
            jvmOptions=["-Xmx4G"],
            master={"jvmOptions": ["-Xmx8G"], "properties": {"alluxio.master.x": "1"}},
            fuse={"jvmOptions": ["-Xmx1G"]},
        )
    )
    data = workloads.config[0]["data"]

    assert data["ALLUXIO_JAVA_OPTS"].startswith("-Xmx4G ")
    assert "-Dalluxio.master.journal.type=NOOP" in data["ALLUXIO_JAVA_OPTS"]
    assert "-Dalluxio.master.journal.type=UFS" not in data["ALLUXIO_JAVA_OPTS"]
    assert "-Dalluxio.user.block.size=64MB" in data["ALLUXIO_JAVA_OPTS"]
    assert data["ALLUXIO_MASTER_JAVA_OPTS"] == "-Xmx8G -Dalluxio.master.x=1"
    assert data["ALLUXIO_FUSE_JAVA_OPTS"] == "-Xmx1G"
    assert workloads.value_file == "spark-config"


def test_the_root_ufs_is_the_mount_at_slash_or_the_native_mounts_directory() -> None:
    at_root = {"mounts": [{"mountPoint": "s3://bucket/data", "name": "d", "path": "/"}]}

    assert "-Dalluxio.master.mount.table.root.ufs=s3://bucket/data" in java_opts(
        rendered(runtime(), at_root)
    )
    assert "-Dalluxio.master.mount.table.root.ufs=/underFSStorage" in java_opts(rendered(runtime()))


def test_native_mounts_are_volumes_under_the_ufs_root_of_master_and_workers() -> None:
    dataset = {"mounts": [{"mountPoint": "pvc://imagenet/train", "name": "imagenet"}]}

    workloads = rendered(runtime(), dataset)

    for workload in (workloads.master, workloads.workers):
        volumes = pod_spec(workload)["volumes"]
        assert {"name": "ufs-0", "persistentVolumeClaim": {"claimName": "imagenet"}} in volumes
        mounts = pod_spec(workload)["containers"][0]["volumeMounts"]
        assert {
            "name": "ufs-0",
            "mountPath": "/underFSStorage/imagenet",
            "subPath": "train",
        } in mounts


def test_several_masters_share_an_embedded_journal() -> None:
    workloads = rendered(runtime(master={"replicas": 3}))
    opts = java_opts(workloads)

    assert workloads.master["spec"]["replicas"] == 3
    assert "-Dalluxio.master.journal.type=EMBEDDED" in opts
    assert (
        "-Dalluxio.master.embedded.journal.addresses="
        "spark-master-0.spark-master.default.svc:19200,"
        "spark-master-1.spark-master.default.svc:19200,"
        "spark-master-2.spark-master.default.svc:19200"
    ) in opts


def test_the_master_service_is_headless_with_the_master_ports_and_the_metrics_label() -> None:
    service = rendered(runtime()).config[1]

    assert service["metadata"]["name"] == "spark-master"
    assert service["spec"]["clusterIP"] == "None"
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "rpc": 19998,
        "web": 19999,
        "job-rpc": 20001,
        "job-web": 20002,
    }
    assert service["metadata"]["labels"]["monitor"] == "alluxio_runtime_metrics"
    quiet = rendered(runtime(disablePrometheus=True)).config[1]
    assert "monitor" not in quiet["metadata"]["labels"]


def test_the_api_gateway_runs_in_the_master_pod_when_enabled() -> None:
    workloads = rendered(runtime(apiGateway={"enabled": True}))

    names = [c["name"] for c in pod_spec(workloads.master)["containers"]]
    assert names == ["alluxio-master", "alluxio-job-master", "alluxio-api-gateway"]
    assert {p["name"] for p in workloads.config[1]["spec"]["ports"]} >= {"rest"}


def test_exclusive_workers_never_share_a_node_with_another_datasets_workers() -> None:
    affinity = pod_spec(rendered(runtime()).workers)["affinity"]

    required = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["labelSelector"]["matchExpressions"] == [
        {"key": "fluid.io/dataset", "operator": "Exists"}
    ]
    preferred = affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"][0]["key"] == "fluid.io/f-default-spark"


def test_shared_workers_avoid_only_exclusive_ones_and_honour_the_datasets_node_affinity() -> None:
    node_affinity = {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "fluid", "operator": "In", "values": ["x"]}]}
        ]
    }
    dataset = {**DATASET, "placement": "Shared", "nodeAffinity": {"required": node_affinity}}

    workers = rendered(runtime(), dataset, placement="Shared").workers
    affinity = pod_spec(workers)["affinity"]

    required = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert (
        required[0]["labelSelector"]["matchExpressions"][0]["key"] == "fluid.io/dataset-placement"
    )
    assert (
        affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == node_affinity
    )
    labels = workers["spec"]["template"]["metadata"]["labels"]
    assert labels["fluid.io/dataset-placement"] == "Shared"
    assert labels["fluid.io/dataset"] == "default-spark"


def test_images_pod_metadata_and_run_as_come_from_the_spec() -> None:
    workloads = rendered(
        runtime(
            alluxioVersion={"image": "registry/alluxio", "imageTag": "2.8.1"},
            fuse={"image": "registry/fuse", "imageTag": "2.8.1"},
            podMetadata={"labels": {"team": "ml", "role": "hijack"}, "annotations": {"a": "b"}},
            runAs={"uid": 1201, "gid": 1201, "user": "u", "group": "g"},
        )
    )
    master = workloads.master["spec"]["template"]
    fuse = workloads.fuse

    assert master["spec"]["containers"][0]["image"] == "registry/alluxio:2.8.1"
    assert master["spec"]["containers"][0]["securityContext"] == {
        "runAsUser": 1201,
        "runAsGroup": 1201,
    }
    assert fuse is not None
    assert pod_spec(fuse)["containers"][0]["image"] == "registry/fuse:2.8.1"
    assert master["metadata"]["labels"]["team"] == "ml"
    assert master["metadata"]["labels"]["role"] == "alluxio-master"
    assert master["metadata"]["annotations"] == {"a": "b"}


def test_rendering_is_deterministic_and_the_hash_follows_the_spec() -> None:
    first, again = rendered(runtime()), rendered(runtime())
    scaled = rendered(runtime(replicas=3))

    def digest(obj: dict[str, Any]) -> str:
        return str(obj["metadata"]["annotations"][RENDER_HASH_ANNOTATION])

    assert first.all() == again.all()
    assert digest(first.workers) != digest(scaled.workers)
    assert digest(first.master) == digest(scaled.master)

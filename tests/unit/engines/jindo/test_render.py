"""The Jindo renderer turns upstream manifests into the objects the spec asks for.

Inputs are upstream Fluid's own manifests (copied under tests/fixtures/upstream-fluid,
sources in tests/fixtures/README.md) and our samples in config/samples/jindo.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.api.v1alpha1.jindo import JindoRuntime
from fluidpy.engines.base.runtime_info import RuntimeInfo
from fluidpy.engines.jindo.engine import ignored_fields, ignored_mount_options
from fluidpy.engines.jindo.render import IMAGES, render
from fluidpy.engines.masterworker.cache_system import Workloads
from fluidpy.engines.masterworker.rendering import RENDER_HASH_ANNOTATION
from fluidpy.engines.masterworker.tieredstore import tiered_store_levels

REPO = Path(__file__).resolve().parents[4]
UPSTREAM = REPO / "tests" / "fixtures" / "upstream-fluid"
OURS = REPO / "config" / "samples" / "jindo"
MULTI_OSS = UPSTREAM / "test-gha-e2e-jindo-multi-oss-dataset.yaml"
DATASET = {"mounts": [{"mountPoint": "https://mirrors.example/hbase/", "name": "hbase"}]}


def documents(path: Path, kind: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == kind]


def upstream_runtimes() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{doc['metadata']['name']}", doc)
        for path in sorted(UPSTREAM.glob("*.yaml"))
        for doc in documents(path, "JindoRuntime")
    ]


def rendered(runtime: dict[str, Any], dataset: dict[str, Any] | None = None) -> Workloads:
    model = JindoRuntime.from_dict(
        {**runtime, "metadata": {**runtime["metadata"], "namespace": "default", "uid": "uid-1"}}
    )
    name = model.metadata.name or ""
    info = RuntimeInfo(
        name=name,
        namespace="default",
        runtime_type="jindo",
        tiered_store=tiered_store_levels(model.spec.tieredstore),
    )
    owner = {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "JindoRuntime",
        "name": name,
        "uid": "uid-1",
        "controller": True,
    }
    return render(
        model,
        DatasetSpec.model_validate(dataset or DATASET),
        info,
        owner=owner,
        mount_root="/runtime-mnt",
        images=IMAGES,
    )


def runtime(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "JindoRuntime",
        "metadata": {"name": "hbase"},
        "spec": {
            "replicas": 2,
            "tieredstore": {
                "levels": [
                    {
                        "mediumtype": "SSD",
                        "path": "/mnt/jindo",
                        "quota": "10Gi",
                        "high": "0.9",
                        "low": "0.8",
                    }
                ]
            },
            **spec,
        },
    }


def config(workloads: Workloads, index: int, key: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(workloads.config[index]["data"][key])
    return parser


def pod_spec(workload: dict[str, Any] | None) -> dict[str, Any]:
    assert workload is not None
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize(("name", "manifest"), upstream_runtimes())
def test_every_upstream_runtime_renders_the_objects_the_spec_names(
    name: str, manifest: dict[str, Any]
) -> None:
    datasets = documents(MULTI_OSS, "Dataset") if "multi-oss" in name else []
    workloads = rendered(manifest, datasets[0]["spec"] if datasets else None)
    runtime_name = manifest["metadata"]["name"]

    assert workloads.master["metadata"]["name"] == f"{runtime_name}-master"
    assert workloads.workers["metadata"]["name"] == f"{runtime_name}-worker"
    assert workloads.fuse is not None
    assert workloads.fuse["metadata"]["name"] == f"{runtime_name}-fuse"
    assert [o["metadata"]["name"] for o in workloads.config] == [
        f"{runtime_name}-jindofs-config",
        f"{runtime_name}-jindofs-client-config",
        f"{runtime_name}-master",
    ]
    assert workloads.workers["spec"]["replicas"] == manifest["spec"]["replicas"]
    for obj in workloads.all():
        assert obj["metadata"]["ownerReferences"][0]["controller"] is True
        assert obj["metadata"]["labels"]["app"] == "jindofs"
        assert RENDER_HASH_ANNOTATION in obj["metadata"]["annotations"]


def test_every_sample_of_ours_renders() -> None:
    samples = sorted(OURS.glob("*.yaml"))
    assert samples, "config/samples/jindo has no samples"
    for path in samples:
        dataset = documents(path, "Dataset")[0]["spec"]
        for manifest in documents(path, "JindoRuntime"):
            assert rendered(manifest, dataset).workers["kind"] == "StatefulSet"


def test_workers_carry_upstreams_chart_labels_and_the_status_selector_matches_them() -> None:
    workers = rendered(runtime()).workers
    labels = workers["spec"]["template"]["metadata"]["labels"]

    assert {
        "app": "jindofs",
        "release": "hbase",
        "role": "jindofs-worker",
    }.items() <= labels.items()
    assert workers["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_jindocache_cfg_configures_namespace_and_storage_from_the_spec() -> None:
    workloads = rendered(
        runtime(
            properties={"logger.verbose": "1"},
            master={"properties": {"namespace.filelet.cache.size": "200000"}},
            worker={"properties": {"storage.compaction.enable": "false"}},
        )
    )
    cfg = config(workloads, 0, "jindocache.cfg")

    assert cfg["jindocache-namespace"]["namespace.rpc.port"] == "8101"
    assert cfg["jindocache-namespace"]["namespace.backend.type"] == "rocksdb"
    assert cfg["jindocache-namespace"]["namespace.filelet.cache.size"] == "200000"
    assert cfg["jindocache-storage"]["storage.data-dirs"] == "/mnt/jindo/default/hbase/jindocache"
    assert cfg["jindocache-storage"]["storage.watermark.high.ratio"] == "0.9"
    assert cfg["jindocache-storage"]["storage.compaction.enable"] == "false"
    assert cfg["jindocache-common"]["logger.verbose"] == "1"
    assert workloads.value_file == "hbase-jindofs-config"


def test_a_memory_cache_sizes_the_ram_cache_by_the_quota() -> None:
    level = {"mediumtype": "MEM", "path": "/dev/shm", "quota": "4Gi"}
    cfg = config(rendered(runtime(tieredstore={"levels": [level]})), 0, "jindocache.cfg")

    assert cfg["jindocache-storage"]["storage.ram.cache.size"] == str(4 * 1024**3)


def test_three_masters_form_a_raft_quorum() -> None:
    workloads = rendered(runtime(master={"replicas": 3}))
    namespace = config(workloads, 0, "jindocache.cfg")["jindocache-namespace"]

    assert workloads.master["spec"]["replicas"] == 3
    assert namespace["namespace.backend.type"] == "raft"
    assert namespace["namespace.backend.raft.initial-conf"] == ",".join(
        f"hbase-master-{i}.hbase-master.default.svc:8103:0" for i in range(3)
    )


def test_the_client_config_points_fuse_at_the_master() -> None:
    sdk = config(rendered(runtime()), 1, "jindosdk.cfg")["jindosdk"]

    assert (
        sdk["fs.jindocache.namespace.rpc.address"] == "hbase-master-0.hbase-master.default.svc:8101"
    )


def test_oss_credentials_are_mounted_from_their_secrets_and_never_written_to_a_config_map() -> None:
    [manifest] = documents(MULTI_OSS, "JindoRuntime")
    [dataset] = documents(MULTI_OSS, "Dataset")

    workloads = rendered(manifest, dataset["spec"])
    server = config(workloads, 0, "jindocache.cfg")["jindocache-common"]
    client = config(workloads, 1, "jindosdk.cfg")["jindosdk"]

    assert server["jindocache.oss.bucket.__BUCKET_A__.endpoint"] == "__ENDPOINT_A__"
    assert server["jindocache.oss.bucket.__BUCKET_B__.provider.endpoint"] == (
        "secrets:///token/access-key-b/"
    )
    assert (
        client["fs.oss.bucket.__BUCKET_A__.provider.endpoint"] == "secrets:///token/access-key-a/"
    )
    volumes = {v["name"]: v for v in pod_spec(workloads.workers)["volumes"]}
    assert volumes["token-0"]["secret"] == {
        "secretName": "access-key-a",
        "items": [
            {"key": "fs.oss.accessKeyId", "path": "AccessKeyId"},
            {"key": "fs.oss.accessKeySecret", "path": "AccessKeySecret"},
        ],
    }
    for obj in workloads.config:
        assert "secret" not in str(obj.get("data", "")).lower().replace("secrets://", "")


def test_fuse_mounts_where_the_persistent_volume_points_on_the_nodes_the_csi_plugin_labels() -> (
    None
):
    fuse = rendered(runtime(fuse={"args": ["-okernel_cache"], "nodeSelector": {"a": "b"}})).fuse
    spec = pod_spec(fuse)
    container = spec["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}

    assert spec["nodeSelector"] == {"a": "b", "fluid.io/f-default-hbase": "true"}
    assert container["args"] == ["-okernel_cache"]
    assert env["FLUID_FUSE_MOUNTPOINT"] == "/jfs/jindofs-fuse"
    host = {v["name"]: v for v in spec["volumes"]}["fuse-mount"]["hostPath"]["path"]
    assert host == "/runtime-mnt/jindo/default/hbase"
    assert fuse is not None
    assert fuse["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_a_disabled_fuse_renders_no_daemonset() -> None:
    assert rendered(runtime(fuse={"disabled": True})).fuse is None


def test_fields_not_acted_on_are_reported_not_dropped() -> None:
    model = JindoRuntime.from_dict(
        runtime(user="hadoop", networkmode="HostNetwork", futureField={"x": 1})
    )
    dataset = DatasetSpec.model_validate(
        {"mounts": [{"mountPoint": "oss://b/", "name": "b", "options": {"metaPolicy": "ONCE"}}]}
    )

    assert ignored_fields(model) == [
        "spec.futureField",
        "spec.user",
        "spec.networkmode (pods use the pod network)",
    ]
    assert ignored_mount_options(dataset) == ["Dataset mount 'b' option metaPolicy"]

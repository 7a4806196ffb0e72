"""The generated CRDs on a real API server: installed, accepting what they must, refusing the rest.

Objects are created with strict field validation, so "accepted" also means nothing was pruned.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient, ApiextensionsV1Api, CustomObjectsApi
from kubernetes.client.exceptions import ApiException
from kubernetes.config import new_client_from_config

from fluidpy.api.install import install_crds
from fluidpy.api.v1alpha1 import (
    API_VERSION,
    GROUP,
    KINDS,
    VERSION,
    CacheRuntime,
    CacheRuntimeComponent,
    CacheRuntimeComponentStatus,
    CacheRuntimeReplicatedComponent,
    CacheRuntimeSpec,
    CacheRuntimeStatus,
    ObjectMeta,
    Resource,
    RuntimePhase,
)
from fluidpy.client import ApiServerConnection
from fluidpy.testing.localcluster import LocalCluster

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = FIXTURES / "seeds" / "000_44288d8b0261317a.txt"
SAMPLES = FIXTURES / "upstream-fluid"
MODELS: dict[str, type[Resource]] = {kind.KIND: kind for kind in KINDS}
MERGE_PATCH = "application/merge-patch+json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def seed_examples() -> dict[str, dict[str, Any]]:
    """The seed's CacheRuntimeClass, Dataset and CacheRuntime, by kind, exactly as written."""
    docs: dict[str, dict[str, Any]] = {}
    for block in re.findall(r"```yaml\n(.*?)```", SEED.read_text(), re.S):
        try:
            loaded = list(yaml.safe_load_all(block))
        except yaml.YAMLError:
            continue
        docs |= {
            d["kind"]: d
            for d in loaded
            if isinstance(d, dict) and d.get("apiVersion") == API_VERSION
        }
    assert set(docs) == {"CacheRuntimeClass", "Dataset", "CacheRuntime"}
    return docs


def upstream_samples() -> list[tuple[str, dict[str, Any]]]:
    """(file, object) for every Dataset/AlluxioRuntime/JindoRuntime in upstream's manifests."""
    return [
        (path.name, doc)
        for path in sorted(SAMPLES.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if isinstance(doc, dict) and doc.get("kind") in MODELS
    ]


@pytest.fixture(scope="module")
def crds(connection: ApiServerConnection) -> list[str]:
    return install_crds(connection)


@pytest.fixture(scope="module")
def official_client(cluster: LocalCluster) -> Iterator[ApiClient]:
    """The official Python client, as an independent check of what fluidpy installed."""
    with new_client_from_config(config_file=str(cluster.kubeconfig)) as client:
        yield client


@pytest.fixture
def custom(official_client: ApiClient, crds: list[str]) -> CustomObjectsApi:
    return CustomObjectsApi(official_client)


@pytest.fixture
def cluster_scoped(custom: CustomObjectsApi) -> Iterator[list[str]]:
    """Names of CacheRuntimeClasses a test created; deleted afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        custom.delete_cluster_custom_object(GROUP, VERSION, "cacheruntimeclasses", name)


def create(
    custom: CustomObjectsApi, obj: dict[str, Any], namespace: str, dry_run: bool = False
) -> dict[str, Any]:
    kind = MODELS[obj["kind"]]
    options: dict[str, Any] = {"field_validation": "Strict", "dry_run": "All" if dry_run else None}
    if kind.NAMESPACED:
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = namespace
        created = custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, kind.PLURAL, obj, **options
        )
    else:
        created = custom.create_cluster_custom_object(GROUP, VERSION, kind.PLURAL, obj, **options)
    result: dict[str, Any] = created
    return result


def contains(stored: Any, written: Any, path: str = "") -> None:
    """Assert that everything written was stored (the API server may add defaults)."""
    if isinstance(written, dict):
        assert isinstance(stored, dict), path
        for key, value in written.items():
            assert key in stored, f"{path}.{key} was pruned"
            contains(stored[key], value, f"{path}.{key}")
    elif isinstance(written, list):
        assert isinstance(stored, list) and len(stored) == len(written), path
        for i, (s, w) in enumerate(zip(stored, written, strict=True)):
            contains(s, w, f"{path}[{i}]")
    else:
        assert stored == written, path


def without_namespace(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"].pop("namespace", None)
    return obj


def test_every_crd_is_established_and_installing_again_changes_nothing(
    connection: ApiServerConnection, official_client: ApiClient, crds: list[str]
) -> None:
    api = ApiextensionsV1Api(official_client)

    def versions() -> dict[str, str]:
        found = {}
        for name in crds:
            crd = json.loads(api.read_custom_resource_definition(name, _preload_content=False).data)
            established = [c for c in crd["status"]["conditions"] if c["type"] == "Established"]
            assert established[0]["status"] == "True", name
            found[name] = crd["metadata"]["resourceVersion"]
        return found

    before = versions()
    assert install_crds(connection) == crds
    assert versions() == before
    assert sorted(crds) == sorted(kind.crd_name() for kind in KINDS)


def test_the_seed_examples_are_accepted_as_written(
    custom: CustomObjectsApi, namespace: str, cluster_scoped: list[str]
) -> None:
    examples = seed_examples()
    runtime_class = examples["CacheRuntimeClass"]
    contains(create(custom, runtime_class, namespace, dry_run=True), runtime_class)

    own_class = copy.deepcopy(runtime_class)
    own_class["metadata"]["name"] = f"demofs-{secrets.token_hex(4)}"
    cluster_scoped.append(own_class["metadata"]["name"])
    contains(create(custom, own_class, namespace), own_class)

    for kind in ("Dataset", "CacheRuntime"):
        stored = create(custom, examples[kind], namespace)
        contains(stored, without_namespace(examples[kind]))


@pytest.mark.parametrize(
    ("source", "obj"), upstream_samples(), ids=lambda v: v if isinstance(v, str) else v["kind"]
)
def test_upstream_fluid_manifests_are_accepted_unchanged(
    custom: CustomObjectsApi, namespace: str, source: str, obj: dict[str, Any]
) -> None:
    stored = create(custom, obj, namespace)

    contains(stored, without_namespace(obj))
    assert MODELS[obj["kind"]].from_dict(stored).to_dict() == stored


def test_pod_templates_are_kept_whole_labels_and_annotations_included(
    custom: CustomObjectsApi, namespace: str, cluster_scoped: list[str]
) -> None:
    template = {
        "metadata": {
            "labels": {"app": "demofs", "tier": "cache"},
            "annotations": {"prometheus.io/scrape": "true"},
        },
        "spec": {
            "hostNetwork": True,
            "containers": [
                {
                    "name": "worker",
                    "image": "demofs:1.0",
                    "resources": {"limits": {"memory": "1Gi"}},
                    "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                }
            ],
            "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
        },
    }
    name = f"whole-{secrets.token_hex(4)}"
    cluster_scoped.append(name)
    obj = {
        "apiVersion": API_VERSION,
        "kind": "CacheRuntimeClass",
        "metadata": {"name": name},
        "fileSystemType": "demofs",
        "topology": {
            "worker": {
                "workloadType": {"apiVersion": "apps/v1", "kind": "StatefulSet"},
                "podTemplateSpec": template,
            }
        },
    }

    create(custom, obj, namespace)

    stored = custom.get_cluster_custom_object(GROUP, VERSION, "cacheruntimeclasses", name)
    assert stored["topology"]["worker"]["podTemplateSpec"] == template


def test_component_replicas_default_to_one(custom: CustomObjectsApi, namespace: str) -> None:
    runtime = CacheRuntime(
        metadata=ObjectMeta(name="demo"),
        spec=CacheRuntimeSpec(
            runtime_class_name="demofs",
            master=CacheRuntimeReplicatedComponent(),
            client=CacheRuntimeComponent(),
        ),
    )

    stored = create(custom, runtime.to_dict(), namespace)

    assert stored["spec"]["master"] == {"replicas": 1}
    assert stored["spec"]["client"] == {}
    assert "worker" not in stored["spec"]


def cacheruntime(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "CacheRuntime",
        "metadata": {"name": "demo"},
        "spec": {"runtimeClassName": "demofs", **spec},
    }


def level(**fields: Any) -> dict[str, Any]:
    return {"tieredStore": {"levels": [{"path": "/cache", "quota": "1Gi", **fields}]}}


def runtime_class(name: str, **component: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "CacheRuntimeClass",
        "metadata": {"name": name},
        "fileSystemType": "demofs",
        "topology": {
            "client": {
                "workloadType": {"apiVersion": "apps/v1", "kind": "DaemonSet"},
                "podTemplateSpec": {"spec": {"containers": [{"name": "c", "image": "i"}]}},
                **component,
            }
        },
    }


def renamed(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return obj | {"metadata": {"name": name}}


def removed(obj: dict[str, Any], *path: str) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    node = obj
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return obj


def class_without_topology(name: str) -> dict[str, Any]:
    obj = runtime_class(name)
    obj["topology"] = {}
    return obj


def alluxio(medium: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "AlluxioRuntime",
        "metadata": {"name": "demo"},
        "spec": {"tieredstore": {"levels": [{"mediumtype": medium, "path": "/x", "quota": "1Gi"}]}},
    }


def dataset_with(*mounts: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Dataset",
        "metadata": {"name": "demo"},
        "spec": {"mounts": list(mounts)},
    }


INVALID = [
    pytest.param(
        lambda _: dataset_with(
            {"name": "data", "mountPoint": "s3://a/1"}, {"name": "data", "mountPoint": "s3://a/2"}
        ),
        "spec",
        "mount names must be unique",
        id="duplicate mount names",
    ),
    pytest.param(
        lambda _: dataset_with({"name": "data", "mountPoint": "bucket/data"}),
        "spec",
        "mountPoint needs a scheme",
        id="mountPoint without a scheme",
    ),
    pytest.param(
        lambda _: dataset_with({"name": "data", "mountPoint": "s3://a", "path": "data"}),
        "spec",
        "path must be absolute",
        id="relative mount path",
    ),
    pytest.param(
        lambda _: dataset_with({"name": "data", "mountPoint": "s3://a", "path": "/a/../etc"}),
        "spec",
        "must not contain ..",
        id="mount path with ..",
    ),
    pytest.param(
        lambda _: cacheruntime(worker={"replicas": -1}),
        "spec.worker.replicas",
        "greater than or equal to 0",
        id="negative replicas",
    ),
    pytest.param(
        lambda _: removed(cacheruntime(), "spec", "runtimeClassName"),
        "spec.runtimeClassName",
        "Required value",
        id="missing runtimeClassName",
    ),
    pytest.param(
        lambda _: alluxio("NVME"),
        "spec.tieredstore.levels[0].mediumtype",
        'supported values: "MEM", "SSD", "HDD"',
        id="unknown tiered-store medium",
    ),
    pytest.param(
        lambda _: cacheruntime(worker=level(medium={"emptyDir": {"medium": "SSD"}})),
        "spec.worker.tieredStore.levels[0].medium.emptyDir.medium",
        "should match",
        id="unknown emptyDir medium",
    ),
    pytest.param(
        lambda _: cacheruntime(
            client=level(medium={"emptyDir": {}, "hostPath": {"path": "/mnt/cache"}})
        ),
        "spec.client.tieredStore.levels[0].medium",
        "exactly one of emptyDir or hostPath",
        id="two media in one level",
    ),
    pytest.param(
        lambda _: cacheruntime(worker=level(low="0.9", high="0.5", medium={"emptyDir": {}})),
        "spec.worker.tieredStore.levels[0]",
        "low must not be above high",
        id="watermarks upside down",
    ),
    pytest.param(
        lambda _: {"apiVersion": API_VERSION, "kind": "Dataset", "metadata": {"name": "my.data"}},
        "metadata.name",
        "must be a DNS-1035 label",
        id="dataset name that is not a DNS label",
    ),
    pytest.param(
        lambda _: renamed(cacheruntime(), "9demo"),
        "metadata.name",
        "must be a DNS-1035 label",
        id="runtime name starting with a digit",
    ),
    pytest.param(
        lambda _: renamed(alluxio("MEM"), "a" * 64),
        "metadata.name",
        "at most 63 characters",
        id="runtime name of 64 characters",
    ),
    pytest.param(
        lambda name: removed(runtime_class(name), "fileSystemType"),
        "fileSystemType",
        "Required value",
        id="class without fileSystemType",
    ),
    pytest.param(
        lambda name: runtime_class(name, workloadType={"apiVersion": "apps/v1", "kind": "Job"}),
        "topology.client.workloadType.kind",
        'supported values: "StatefulSet", "DaemonSet", "Deployment"',
        id="class with an unknown workload kind",
    ),
    pytest.param(
        lambda name: runtime_class(name, service={"headless": {}}),
        "topology.client",
        "service.headless needs workloadType.kind StatefulSet",
        id="headless service on a DaemonSet",
    ),
    pytest.param(
        class_without_topology,
        "topology",
        "at least one of master, worker, client",
        id="class without components",
    ),
]


@pytest.mark.parametrize(("build", "field", "message"), INVALID)
def test_invalid_objects_are_refused_with_a_message_naming_the_field(
    custom: CustomObjectsApi,
    namespace: str,
    build: Callable[[str], dict[str, Any]],
    field: str,
    message: str,
) -> None:
    obj = build(f"invalid-{secrets.token_hex(4)}")

    with pytest.raises(ApiException) as refused:
        create(custom, obj, namespace)

    assert refused.value.status == 422
    causes = json.loads(refused.value.body)["details"]["causes"]
    assert any(c["field"] == field and message in c["message"] for c in causes), causes


def table_cells(custom: CustomObjectsApi, namespace: str, plural: str, name: str) -> dict[str, Any]:
    """`kubectl get -o wide` for one object: column name -> cell."""
    response = custom.get_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name, _headers={"Accept": TABLE}, _preload_content=False
    )
    table = json.loads(response.data)
    names = [c["name"] for c in table["columnDefinitions"]]
    return dict(zip(names, table["rows"][0]["cells"], strict=True))


def test_cacheruntime_columns_show_the_status_controllers_write(
    custom: CustomObjectsApi, namespace: str
) -> None:
    runtime = CacheRuntime.from_dict(
        create(custom, cacheruntime(master={}, worker={"replicas": 2}), namespace)
    )
    runtime.status = CacheRuntimeStatus(
        phase=RuntimePhase.READY,
        master=CacheRuntimeComponentStatus(
            phase=RuntimePhase.READY, ready_replicas=1, desired_replicas=1
        ),
        worker=CacheRuntimeComponentStatus(
            phase=RuntimePhase.PARTIAL_READY, ready_replicas=1, desired_replicas=2
        ),
        client=CacheRuntimeComponentStatus(
            phase=RuntimePhase.NOT_READY, ready_replicas=0, desired_replicas=0
        ),
    )

    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        "cacheruntimes",
        "demo",
        {"status": runtime.to_dict()["status"]},
        _content_type=MERGE_PATCH,
    )

    cells = table_cells(custom, namespace, "cacheruntimes", "demo")
    assert cells["Class"] == "demofs"
    assert (cells["Master Phase"], cells["Worker Phase"], cells["Client Phase"]) == (
        "Ready",
        "PartialReady",
        "NotReady",
    )
    assert (cells["Ready Workers"], cells["Desired Workers"]) == (1, 2)
    assert cells["Phase"] == "Ready"


def test_status_is_only_written_through_the_status_subresource(
    custom: CustomObjectsApi, namespace: str
) -> None:
    dataset = {"apiVersion": API_VERSION, "kind": "Dataset", "metadata": {"name": "demo"}}
    create(custom, dataset | {"status": {"phase": "Bound", "conditions": []}}, namespace)
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "datasets", "demo")
    assert "status" not in stored

    with pytest.raises(ApiException) as refused:
        custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            "datasets",
            "demo",
            {"status": {"phase": "NotBound"}},
            _content_type=MERGE_PATCH,
        )
    assert refused.value.status == 422
    assert "status.conditions: Required value" in json.loads(refused.value.body)["message"]

    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        "datasets",
        "demo",
        {"status": {"phase": "NotBound", "conditions": []}},
        _content_type=MERGE_PATCH,
    )
    cells = table_cells(custom, namespace, "datasets", "demo")
    assert cells["Phase"] == "NotBound"


@pytest.mark.parametrize("kind", ["AlluxioRuntime", "JindoRuntime"])
def test_alluxio_and_jindo_workers_scale_through_the_scale_subresource(
    custom: CustomObjectsApi, namespace: str, kind: str
) -> None:
    plural = MODELS[kind].PLURAL
    create(
        custom,
        {
            "apiVersion": API_VERSION,
            "kind": kind,
            "metadata": {"name": "demo"},
            "spec": {"replicas": 1},
        },
        namespace,
    )
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        plural,
        "demo",
        {"status": {"currentWorkerNumberScheduled": 1, "selector": "app=demo"}},
        _content_type=MERGE_PATCH,
    )

    custom.patch_namespaced_custom_object_scale(
        GROUP,
        VERSION,
        namespace,
        plural,
        "demo",
        {"spec": {"replicas": 3}},
        _content_type=MERGE_PATCH,
    )

    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, plural, "demo")
    assert scale["spec"]["replicas"] == 3
    assert scale["status"] == {"replicas": 1, "selector": "app=demo"}
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, "demo")
    assert stored["spec"]["replicas"] == 3

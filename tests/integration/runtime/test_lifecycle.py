"""The generic runtime lifecycle, driven through an engine found only by its entry point.

The engine lives in a test package (engine_package/) whose only registration is the
`fluidpy.engines` entry point in its dist-info metadata: nothing in the repository imports it.
It serves JindoRuntime objects here (`--engine jindoruntime=testengine`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fluidpy.client import GVK, Client, Invalid
from fluidpy.controllers import JINDO_RUNTIME, RuntimeKind
from fluidpy.controllers.kinds import DATASET
from fluidpy.engines.factory import EngineFactory
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

RUNTIME = JINDO_RUNTIME.gvk
PV = GVK("", "v1", "PersistentVolume")
PVC = GVK("", "v1", "PersistentVolumeClaim")
POD = GVK("", "v1", "Pod")
EVENT = GVK("", "v1", "Event")
STATEFULSET = GVK("apps", "v1", "StatefulSet")
FINALIZER = "jindo-runtime-controller-finalizer"


@pytest.fixture
def running(
    start_manager: Any, engine_factory: EngineFactory, test_kind: RuntimeKind
) -> Iterator[Manager]:
    with start_manager(kinds=[test_kind], factory=engine_factory) as manager:
        yield manager


@pytest.fixture
def client(cluster: LocalCluster) -> Client:
    return Client(cluster.connection(), qps=0)


def dataset(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "Dataset",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"mounts": [{"mountPoint": "https://mirrors.example/data/", "name": "data"}]},
    }


def runtime(namespace: str, name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "JindoRuntime",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {"replicas": 2},
    }


def condition(obj: dict[str, Any] | None, type_: str = "Ready") -> dict[str, Any]:
    for item in ((obj or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return dict(item)
    return {}


def events_for(client: Client, namespace: str, name: str) -> list[dict[str, Any]]:
    return [e for e in client.list(EVENT, namespace) if e["involvedObject"].get("name") == name]


def warning_with(client: Client, namespace: str, name: str, reason: str) -> dict[str, Any] | None:
    for event in events_for(client, namespace, name):
        if event["type"] == "Warning" and event["reason"] == reason:
            return event
    return None


def bound(client: Client, namespace: str, name: str) -> dict[str, Any] | None:
    ds = client.get(DATASET, name, namespace)
    return ds if ds and (ds.get("status") or {}).get("phase") == "Bound" else None


def test_a_runtime_goes_from_creation_to_bound_and_is_deleted_without_leftovers(
    running: Manager, client: Client, namespace: str
) -> None:
    client.create(dataset(namespace, "demo"))
    client.create(runtime(namespace, "demo"))

    ds = wait_for(lambda: bound(client, namespace, "demo"), "Dataset demo Bound")
    rt = client.get(RUNTIME, "demo", namespace)
    assert rt is not None
    assert FINALIZER in rt["metadata"]["finalizers"]
    assert [(o["kind"], o["name"], o["uid"]) for o in rt["metadata"]["ownerReferences"]] == [
        ("Dataset", "demo", ds["metadata"]["uid"])
    ]
    assert rt["metadata"]["labels"]["fluid.io/dataset-id"] == f"{namespace}-demo"
    assert ds["metadata"]["labels"]["fluid.io/dataset-id"] == f"{namespace}-demo"
    assert ds["status"]["runtimes"] == [
        {"name": "demo", "namespace": namespace, "category": "Accelerate", "type": "testengine"}
    ]
    assert condition(ds)["status"] == "True"
    assert condition(rt)["status"] == "True"

    pv = wait_for(lambda: client.get(PV, f"{namespace}-demo"), "the PersistentVolume")
    assert pv["spec"]["csi"]["driver"] == "fuse.csi.fluid.io"
    assert pv["spec"]["csi"]["volumeAttributes"] == {
        "fluid_path": f"/runtime-mnt/testengine/{namespace}/demo/fuse",
        "mount_type": "testengine",
        "runtime_name": "demo",
        "runtime_namespace": namespace,
        # `fluid.io/f-<ns>-demo` would pass a label name's 63 characters: the Dataset's UID
        # stands in for `<ns>-demo`, as upstream does.
        "mount_pod_node_selector_key": f"fluid.io/f-{ds['metadata']['uid']}",
    }
    assert pv["spec"]["storageClassName"] == "fluid"
    assert pv["metadata"]["annotations"] == {"CreatedBy": "fluid"}
    assert pv["metadata"]["labels"]["fluid.io/dataset-id"] == f"{namespace}-demo"
    pvc = client.get(PVC, "demo", namespace)
    assert pvc is not None
    assert pvc["spec"]["volumeName"] == f"{namespace}-demo"
    assert pvc["spec"]["accessModes"] == ["ReadOnlyMany"]

    client.delete(RUNTIME, "demo", namespace)

    wait_for(lambda: client.get(RUNTIME, "demo", namespace) is None, "the runtime to go")
    wait_for(lambda: client.get(PVC, "demo", namespace) is None, "the PVC to go")
    wait_for(lambda: client.get(PV, f"{namespace}-demo") is None, "the PV to go")
    wait_for(lambda: not client.list(STATEFULSET, namespace), "the workloads to be collected")
    ds = client.get(DATASET, "demo", namespace)
    assert ds is not None
    assert ds["status"]["phase"] == "NotBound"
    assert ds["status"]["runtimes"] == []
    assert ds["status"]["conditions"] == []


def test_a_pod_using_the_volume_blocks_dataset_deletion_with_an_event_naming_it(
    running: Manager, client: Client, namespace: str
) -> None:
    client.create(dataset(namespace, "inuse"))
    client.create(runtime(namespace, "inuse"))
    wait_for(lambda: bound(client, namespace, "inuse"), "Dataset Bound")
    wait_for(lambda: client.get(PVC, "inuse", namespace), "the PVC")
    client.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "reader", "namespace": namespace},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "busybox:1.36",
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    }
                ],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "inuse"}}],
            },
        }
    )

    client.delete(DATASET, "inuse", namespace)

    event = wait_for(
        lambda: warning_with(client, namespace, "inuse", "ErrorDeleteDataset"),
        "a Warning event on the Dataset",
    )
    assert "reader" in event["message"]
    assert client.get(DATASET, "inuse", namespace) is not None

    client.delete(POD, "reader", namespace)

    wait_for(lambda: client.get(DATASET, "inuse", namespace) is None, "the Dataset to go")
    wait_for(lambda: client.get(RUNTIME, "inuse", namespace) is None, "the runtime to follow")
    wait_for(lambda: client.get(PV, f"{namespace}-inuse") is None, "the PV to go")


def test_a_runtime_without_its_dataset_waits_and_binds_once_the_dataset_appears(
    running: Manager, client: Client, namespace: str
) -> None:
    client.create(runtime(namespace, "early"))

    event = wait_for(
        lambda: warning_with(client, namespace, "early", "DatasetNotFound"),
        "a DatasetNotFound event",
    )
    assert "create it" in event["message"]
    waiting = condition(client.get(RUNTIME, "early", namespace))
    assert (waiting["status"], waiting["reason"]) == ("False", "DatasetNotFound")

    client.create(dataset(namespace, "early"))

    wait_for(lambda: bound(client, namespace, "early"), "Dataset Bound after it appeared")


def test_a_dataset_bound_to_another_runtime_is_refused_with_the_other_runtime_named(
    running: Manager, client: Client, namespace: str
) -> None:
    client.create(dataset(namespace, "shared"))
    client.create(runtime(namespace, "shared"))
    wait_for(lambda: bound(client, namespace, "shared"), "Dataset Bound")
    client.patch_status(
        DATASET,
        "shared",
        namespace,
        {
            "status": {
                "runtimes": [
                    {
                        "name": "other",
                        "namespace": namespace,
                        "category": "Accelerate",
                        "type": "alluxio",
                    }
                ]
            }
        },
    )
    client.patch(RUNTIME, "shared", namespace, {"spec": {"replicas": 3}})

    event = wait_for(
        lambda: warning_with(client, namespace, "shared", "DatasetBoundToOtherRuntime"),
        "a DatasetBoundToOtherRuntime event",
    )
    assert f"{namespace}/other" in event["message"]


def test_a_name_that_is_not_a_dns_1035_label_is_refused_with_the_field_and_the_fix(
    client: Client, namespace: str
) -> None:
    with pytest.raises(Invalid) as error:
        client.create(runtime(namespace, "1st"))

    assert "metadata.name" in error.value.message
    assert "DNS-1035" in error.value.message


@pytest.mark.parametrize(
    "method",
    [
        "validate",
        "setup_master",
        "check_workers_ready",
        "bind_to_dataset",
        "create_volume",
        "sync_replicas",
    ],
)
def test_an_engine_that_raises_is_reported_and_other_runtimes_carry_on(
    running: Manager, client: Client, namespace: str, method: str
) -> None:
    client.create(dataset(namespace, "broken"))
    client.create(runtime(namespace, "broken", **{"testengine.fluidpy.io/fail-in": method}))
    client.create(dataset(namespace, "healthy"))
    client.create(runtime(namespace, "healthy"))

    event = wait_for(
        lambda: warning_with(client, namespace, "broken", "ErrorProcessRuntime"),
        f"an event for the failure in {method}",
    )
    assert f"injected failure in {method}" in event["message"]
    # Events go out on their own rate limit, so the event may be seen before the status write.
    wait_for(
        lambda: "status" in (client.get(RUNTIME, "broken", namespace) or {}),
        "the broken runtime's status",
    )
    assert condition(client.get(RUNTIME, "broken", namespace))["status"] == "False"
    wait_for(lambda: bound(client, namespace, "healthy"), "the healthy runtime to bind")

    client.delete(RUNTIME, "broken", namespace)
    wait_for(
        lambda: client.get(RUNTIME, "broken", namespace) is None,
        "the broken runtime's deletion to finish",
    )


def test_a_claim_of_the_same_name_made_by_someone_else_is_reported_not_overwritten(
    running: Manager, client: Client, namespace: str
) -> None:
    client.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "taken", "namespace": namespace},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "manual",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )
    client.create(dataset(namespace, "taken"))
    client.create(runtime(namespace, "taken"))

    event = wait_for(
        lambda: warning_with(client, namespace, "taken", "NameConflict"),
        "an event about the foreign claim",
    )
    assert event["message"].startswith(
        f"PersistentVolumeClaim {namespace}/taken already exists and is not this runtime's"
    )
    claim = client.get(PVC, "taken", namespace)
    assert claim is not None
    assert claim["spec"]["storageClassName"] == "manual"

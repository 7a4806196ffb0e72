"""The manager works with nothing but the ServiceAccount and roles of config/rbac.

The manager authenticates with a token of its ServiceAccount, exactly as in a pod, against the
RBAC-enabled API server; leader election is on, so the leader-election Role is exercised too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.client import GVK, Client
from fluidpy.controllers import CACHE_RUNTIME, RuntimeKind
from fluidpy.controllers.dataload import DATALOAD, JOB
from fluidpy.controllers.kinds import DATASET
from fluidpy.engines.cacheruntime.naming import CLASS_GVK
from fluidpy.engines.factory import EngineFactory
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).resolve().parents[3] / "config"
NAMESPACE = "fluid-system"
SERVICE_ACCOUNT = "fluidpy-controller-manager"
PV = GVK("", "v1", "PersistentVolume")
PVC = GVK("", "v1", "PersistentVolumeClaim")
LEASE = GVK("coordination.k8s.io", "v1", "Lease")
EVENT = GVK("", "v1", "Event")


@pytest.fixture(scope="module")
def rbac_installed(cluster: LocalCluster) -> None:
    admin = Client(cluster.connection(), qps=0)
    documents = [yaml.safe_load((CONFIG / "manager" / "namespace.yaml").read_text())]
    for path in sorted((CONFIG / "rbac").glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    for document in documents:
        admin.apply(document)


@pytest.fixture
def service_account_client(cluster: LocalCluster, rbac_installed: None) -> Iterator[Any]:
    connection = cluster.connection(token=cluster.service_account_token(NAMESPACE, SERVICE_ACCOUNT))
    yield connection
    connection.close()


def test_the_lifecycle_passes_with_only_the_managers_own_rbac(
    cluster: LocalCluster,
    start_manager: Any,
    engine_factory: EngineFactory,
    test_kind: RuntimeKind,
    service_account_client: Any,
    namespace: str,
) -> None:
    admin = Client(cluster.connection(), qps=0)

    with start_manager(
        kinds=[test_kind],
        factory=engine_factory,
        connection=service_account_client,
        leader_election=True,
        leader_election_namespace=NAMESPACE,
        leader_election_id="fluidpy-rbac-test",
    ):
        admin.create(
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "Dataset",
                "metadata": {"name": "rbac", "namespace": namespace},
                "spec": {"mounts": [{"mountPoint": "https://data.example/", "name": "d"}]},
            }
        )
        admin.create(
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "JindoRuntime",
                "metadata": {"name": "rbac", "namespace": namespace},
                "spec": {"replicas": 1},
            }
        )
        wait_for(
            lambda: (
                (admin.get(DATASET, "rbac", namespace) or {}).get("status", {}).get("phase")
                == "Bound"
            ),
            "the Dataset to be Bound",
        )
        wait_for(lambda: admin.get(PVC, "rbac", namespace), "the PVC")
        lease = admin.get(LEASE, "fluidpy-rbac-test", NAMESPACE)
        assert lease is not None
        assert lease["spec"]["holderIdentity"]

        admin.delete(test_kind.gvk, "rbac", namespace)
        wait_for(
            lambda: admin.get(test_kind.gvk, "rbac", namespace) is None,
            "the runtime's deletion to finish",
        )
        wait_for(lambda: admin.get(PV, f"{namespace}-rbac") is None, "the PV to go")

    events = admin.list(EVENT, namespace)
    assert any(
        e["reason"] == "Deleted" and e["involvedObject"]["name"] == "rbac" for e in events
    ), "the manager could not record its events"


def test_a_dataload_runs_its_loader_job_with_only_the_managers_own_rbac(
    cluster: LocalCluster, start_manager: Any, service_account_client: Any, namespace: str
) -> None:
    admin = Client(cluster.connection(), qps=0)
    sample = (CONFIG / "samples" / "cacheruntime" / "masterslave.yaml").read_text()
    objects = {d["kind"]: d for d in yaml.safe_load_all(sample)}
    runtime_class = objects["CacheRuntimeClass"]
    runtime_class["metadata"]["name"] = f"rbac-{namespace}"
    runtime_class["dataOperationSpecs"] = [
        {"name": "DataLoad", "command": ["/bin/sh", "-c"], "args": ["load"]}
    ]
    objects["CacheRuntime"]["spec"]["runtimeClassName"] = runtime_class["metadata"]["name"]
    admin.create(runtime_class)
    try:
        with start_manager(kinds=[CACHE_RUNTIME], connection=service_account_client):
            for kind in ("Dataset", "CacheRuntime"):
                obj = objects[kind]
                obj["metadata"] |= {"name": "rbac", "namespace": namespace}
                admin.create(obj)
            admin.create(
                {
                    "apiVersion": "data.fluid.io/v1alpha1",
                    "kind": "DataLoad",
                    "metadata": {"name": "rbac-load", "namespace": namespace},
                    "spec": {"dataset": {"name": "rbac"}},
                }
            )

            def complete() -> bool:
                load = admin.get(DATALOAD, "rbac-load", namespace) or {}
                return (load.get("status") or {}).get("phase") == "Complete"

            wait_for(complete, "the DataLoad to complete", timeout=120)
    finally:
        admin.delete(CLASS_GVK, runtime_class["metadata"]["name"])
    assert admin.get(JOB, "rbac-load-loader-job", namespace) is not None

"""The ConfigMap cache on a real control plane, served by `fluidpy manager --engine`."""

from typing import Any

from fluidpy.client import GVK, Client
from fluidpy.testing import LocalCluster, wait_for
from fluidpy_cli.testing import manager_process

DATASET = GVK("data.fluid.io", "v1alpha1", "Dataset")
RUNTIME = GVK("data.fluid.io", "v1alpha1", "JindoRuntime")
CONFIGMAP, PV = GVK("", "v1", "ConfigMap"), GVK("", "v1", "PersistentVolume")
FLAGS = ["--engine", "jindoruntime=configmap", "--controllers", "dataset,jindoruntime"]


def new(gvk: GVK, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    metadata = {"name": "demo", "namespace": namespace}
    return {"apiVersion": gvk.api_version, "kind": gvk.kind, "metadata": metadata, "spec": spec}


def test_the_dataset_binds_to_its_configmap_and_all_goes_with_the_runtime(
    fluidpy_cluster: LocalCluster, fluidpy_namespace: str
) -> None:
    client, ns = Client(fluidpy_cluster.connection()).live, fluidpy_namespace
    with manager_process(fluidpy_cluster.kubeconfig, *FLAGS, "--namespace", ns):
        client.create(new(DATASET, ns, {"mounts": [{"name": "d", "mountPoint": "https://x/d/"}]}))
        client.create(new(RUNTIME, ns, {}))
        bound = lambda: client.get(DATASET, "demo", ns).get("status", {}).get("phase") == "Bound"  # noqa: E731
        wait_for(bound, "the Dataset Bound")
        assert client.get(CONFIGMAP, "demo-cache", ns)["data"] == {"mounts": "https://x/d/"}

        client.delete(RUNTIME, "demo", ns)
        leftovers = [(RUNTIME, "demo", ns), (CONFIGMAP, "demo-cache", ns), (PV, f"{ns}-demo")]
        wait_for(lambda: not any(client.get(*key) for key in leftovers), "everything gone")

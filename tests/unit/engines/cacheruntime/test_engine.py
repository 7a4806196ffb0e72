"""The engine driven as the RuntimeReconciler drives it, over an in-memory API server."""

from __future__ import annotations

import copy
import gc
import json
import weakref
from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.engines.base import EngineError, ReconcileRequestContext, WaitingFor
from fluidpy.engines.cacheruntime import build
from fluidpy.engines.cacheruntime.debounce import DebouncedWriter
from fluidpy.engines.cacheruntime.dependents import Dependents
from fluidpy.engines.cacheruntime.engine import CacheRuntimeEngine


class Harness:
    """One runtime, its engine and the objects of an in-memory API server."""

    def __init__(self, fake_client: Any, pass_context: Any, objects: dict[str, dict[str, Any]]):
        self.client = fake_client(*objects.values())
        self.runtime = objects["CacheRuntime"]
        self.dataset = objects["Dataset"]
        self.namespace = self.runtime["metadata"]["namespace"]
        self.name = self.runtime["metadata"]["name"]
        self.dependents = Dependents()
        self.engine = CacheRuntimeEngine(
            self.namespace,
            self.name,
            dependents=self.dependents,
            writer=DebouncedWriter((self.namespace, self.name), min_interval=0),
        )
        self._context = pass_context

    def context(self) -> ReconcileRequestContext:
        ctx: ReconcileRequestContext = self._context(self.client, self.runtime, self.dataset)
        return ctx

    def reconcile(self) -> bool:
        """validate, setup until ready, then volume and sync; statuses written back."""
        ctx = self.context()
        try:
            self.engine.validate(ctx)
            ready = self.engine.setup(ctx)
            if ready:
                self.engine.create_volume(ctx)
                self.engine.sync(ctx)
            return ready
        finally:
            self.obj("CacheRuntime", self.name)["status"] = ctx.runtime_status
            self.obj("Dataset", self.name)["status"] = ctx.dataset_status

    def obj(self, kind: str, name: str) -> dict[str, Any]:
        found = self.client.find(kind, name, self.namespace)
        assert found is not None, f"no {kind} {name}"
        return found  # type: ignore[no-any-return]

    def missing(self, kind: str, name: str) -> bool:
        return self.client.find(kind, name, self.namespace) is None

    def ready(self, component: str, ready: int) -> None:
        workload = next(
            obj
            for obj in self.client.objects()
            if obj["metadata"].get("namespace") == self.namespace
            and obj["metadata"]["name"] == f"{self.name}-{component}"
            and obj["apiVersion"] == "apps/v1"
        )
        if workload["kind"] == "DaemonSet":
            self.client.set_status(
                "DaemonSet",
                workload["metadata"]["name"],
                self.namespace,
                desiredNumberScheduled=ready,
                numberReady=ready,
                updatedNumberScheduled=ready,
            )
        else:
            self.client.set_status(
                workload["kind"],
                workload["metadata"]["name"],
                self.namespace,
                readyReplicas=ready,
                updatedReplicas=workload["spec"]["replicas"],
            )

    def pod(self, component: str, name: str, ip: str = "", *, node: str = "") -> None:
        """A pod of the component; `node`: placed there by the component's StatefulSet."""
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {
                    "cacheruntime.fluid.io/name": self.name,
                    "cacheruntime.fluid.io/component-name": component,
                },
            },
            "status": {"phase": "Running", **({"podIP": ip} if ip else {})},
        }
        if node:
            pod["spec"] = {"nodeName": node}
            pod["metadata"]["ownerReferences"] = [
                {"kind": "StatefulSet", "name": f"{self.name}-{component}", "controller": True}
            ]
        self.client.put(pod)

    def config(self) -> dict[str, Any]:
        text = self.obj("ConfigMap", f"fluid-runtime-config-{self.name}")["data"]["runtime.json"]
        document: dict[str, Any] = json.loads(text)
        return document

    def bring_up(self) -> None:
        assert not self.reconcile()
        self.ready("master", self.runtime["spec"]["master"]["replicas"])
        assert not self.reconcile()
        self.ready("worker", self.runtime["spec"]["worker"]["replicas"])
        assert self.reconcile()


@pytest.fixture
def harness(fake_client: Any, pass_context: Any, seed: dict[str, Any]) -> Harness:
    return Harness(fake_client, pass_context, seed)


def test_the_first_pass_creates_every_component_and_waits_for_the_master(
    harness: Harness,
) -> None:
    assert not harness.reconcile()

    assert harness.obj("StatefulSet", "demofs-master")["spec"]["replicas"] == 2
    assert harness.obj("Service", "demofs-master")["spec"]["clusterIP"] == "None"
    assert harness.obj("StatefulSet", "demofs-worker")["spec"]["replicas"] == 2
    assert harness.obj("Service", "demofs-worker")
    assert harness.obj("DaemonSet", "demofs-client")["spec"]["updateStrategy"] == {
        "type": "OnDelete"
    }
    assert harness.missing("Service", "demofs-client")
    assert harness.config()["master"]["enabled"]
    status = harness.obj("CacheRuntime", "demofs")["status"]
    assert status["master"] == {
        "phase": "NotReady",
        "desiredReplicas": 2,
        "readyReplicas": 0,
    }
    assert harness.obj("Dataset", "demofs")["status"].get("phase") != "Bound"


def test_ready_workers_without_a_ready_master_do_not_bind(harness: Harness) -> None:
    harness.reconcile()
    harness.ready("worker", 2)

    assert not harness.reconcile()

    assert harness.obj("CacheRuntime", "demofs")["status"]["phase"] == "NotReady"


def test_one_ready_worker_binds_the_dataset(harness: Harness) -> None:
    harness.reconcile()
    harness.ready("master", 2)
    harness.reconcile()
    harness.ready("worker", 1)
    harness.ready("client", 0)

    assert harness.reconcile()

    dataset = harness.obj("Dataset", "demofs")["status"]
    assert dataset["phase"] == "Bound"
    assert dataset["runtimes"] == [
        {
            "name": "demofs",
            "namespace": "default",
            "category": "Accelerate",
            "type": "cache",
            "masterReplicas": 2,
        }
    ]
    ready = next(c for c in dataset["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    status = harness.obj("CacheRuntime", "demofs")["status"]
    assert status["phase"] == "PartialReady"
    assert status["worker"] == {"phase": "PartialReady", "desiredReplicas": 2, "readyReplicas": 1}
    assert status["valueFile"] == "fluid-runtime-config-demofs"
    assert status["setupDuration"] and status["mountTime"]
    assert status["client"] == {"phase": "NotReady", "desiredReplicas": 0, "readyReplicas": 0}
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"MasterReady": "True", "WorkersReady": "True", "ClientReady": "False"}


def test_once_ready_the_volume_is_created_for_fluids_csi_plugin(harness: Harness) -> None:
    harness.bring_up()

    pv = harness.client.find("PersistentVolume", "default-demofs")
    attributes = pv["spec"]["csi"]["volumeAttributes"]
    assert attributes["mount_type"] == "cache"
    assert attributes["fluid_path"] == "/runtime-mnt/cache/default/demofs/cache-fuse"
    assert harness.obj("PersistentVolumeClaim", "demofs")["spec"]["volumeName"] == "default-demofs"


def test_the_claim_carries_the_client_daemonsets_generation_and_follows_it(
    harness: Harness,
) -> None:
    harness.bring_up()
    label = "fuse.runtime.fluid.io/generation"
    generation = harness.obj("DaemonSet", "demofs-client")["metadata"]["generation"]
    assert harness.obj("PersistentVolumeClaim", "demofs")["metadata"]["labels"][label] == str(
        generation
    )

    harness.obj("CacheRuntime", "demofs")["spec"]["client"]["env"] = [{"name": "A", "value": "b"}]
    harness.reconcile()  # the DaemonSet's template changes
    harness.reconcile()  # the claim follows

    moved = harness.obj("DaemonSet", "demofs-client")["metadata"]["generation"]
    assert moved == generation + 1
    assert harness.obj("PersistentVolumeClaim", "demofs")["metadata"]["labels"][label] == str(moved)


def test_the_claim_loses_the_generation_when_the_client_is_disabled(harness: Harness) -> None:
    harness.bring_up()

    harness.obj("CacheRuntime", "demofs")["spec"]["client"]["disabled"] = True
    harness.reconcile()  # the DaemonSet goes
    harness.reconcile()  # the claim follows

    assert harness.missing("DaemonSet", "demofs-client")
    labels = harness.obj("PersistentVolumeClaim", "demofs")["metadata"]["labels"]
    assert "fuse.runtime.fluid.io/generation" not in labels


def test_a_runtime_without_a_client_daemonset_gives_its_claim_no_generation(
    fake_client: Any, pass_context: Any, samples: Any
) -> None:
    harness = Harness(fake_client, pass_context, samples("deployment-client.yaml"))
    harness.reconcile()
    harness.ready("worker", 1)
    assert harness.reconcile()

    claim = harness.obj("PersistentVolumeClaim", harness.name)
    assert "fuse.runtime.fluid.io/generation" not in claim["metadata"]["labels"]


def test_a_long_names_client_selects_nodes_by_the_datasets_uid_from_the_first_pass(
    fake_client: Any, pass_context: Any, samples: Any
) -> None:
    objects = samples("demofs.yaml", namespace="n" * 50)  # fluid.io/f-<ns>-<name> is too long
    harness = Harness(fake_client, pass_context, objects)

    harness.reconcile()

    uid = harness.obj("Dataset", "demofs")["metadata"]["uid"]
    selector = harness.obj("DaemonSet", "demofs-client")["spec"]["template"]["spec"]["nodeSelector"]
    assert selector == {f"fluid.io/f-{uid}": "true"}


def test_an_existing_volume_is_not_read_again_without_a_cache_for_it(harness: Harness) -> None:
    harness.bring_up()
    harness.client.reads.clear()

    harness.reconcile()

    assert ("PersistentVolume", "default-demofs") not in harness.client.reads
    assert ("PersistentVolumeClaim", "demofs") not in harness.client.reads


def test_a_pod_becoming_ready_without_a_phase_change_is_no_status_change(
    harness: Harness,
) -> None:
    harness.bring_up()
    client_pods = {"desiredNumberScheduled": 3, "numberReady": 1}
    harness.client.set_status("DaemonSet", "demofs-client", harness.namespace, **client_pods)
    harness.reconcile()
    before = copy.deepcopy(harness.obj("CacheRuntime", "demofs")["status"])
    client_pods["numberReady"] = 2  # 2 of 3: PartialReady, as 1 of 3 was
    harness.client.set_status("DaemonSet", "demofs-client", harness.namespace, **client_pods)

    harness.reconcile()

    assert harness.obj("CacheRuntime", "demofs")["status"] == before


def test_the_end_of_a_scale_down_is_written_though_the_phase_stays_ready(
    harness: Harness,
) -> None:
    harness.bring_up()
    harness.ready("worker", 2)
    harness.reconcile()
    harness.obj("CacheRuntime", "demofs")["spec"]["worker"]["replicas"] = 1
    harness.reconcile()
    harness.ready("worker", 1)

    harness.reconcile()

    worker = harness.obj("CacheRuntime", "demofs")["status"]["worker"]
    assert (worker["phase"], worker["desiredReplicas"], worker["readyReplicas"]) == ("Ready", 1, 1)


def test_the_clients_progress_is_written_once_master_and_workers_are_ready(
    harness: Harness,
) -> None:
    harness.reconcile()
    harness.ready("master", 2)
    harness.reconcile()
    harness.ready("client", 1)

    harness.reconcile()

    assert harness.obj("CacheRuntime", "demofs")["status"]["client"]["phase"] == "NotReady"
    harness.ready("worker", 2)
    harness.reconcile()
    assert harness.obj("CacheRuntime", "demofs")["status"]["client"]["phase"] == "Ready"


def test_a_pass_with_nothing_changed_writes_nothing(harness: Harness) -> None:
    harness.bring_up()
    before = list(harness.client.writes)

    assert harness.reconcile()

    assert harness.client.writes == before


def test_pods_and_their_ips_reach_the_config(harness: Harness) -> None:
    harness.bring_up()
    harness.pod("worker", "demofs-worker-0", "10.0.0.1")
    harness.pod("worker", "demofs-worker-1")

    harness.reconcile()
    assert harness.config()["topology"]["worker"]["podConfigs"] == [
        {"podName": "demofs-worker-0", "podIP": "10.0.0.1"},
        {"podName": "demofs-worker-1", "podIP": ""},
    ]

    harness.pod("worker", "demofs-worker-1", "10.0.0.2")
    harness.reconcile()
    assert harness.config()["topology"]["worker"]["podConfigs"][1]["podIP"] == "10.0.0.2"


@pytest.mark.parametrize("replicas", [4, 1])
def test_scaling_the_workers_reaches_the_statefulset(harness: Harness, replicas: int) -> None:
    harness.bring_up()
    harness.obj("CacheRuntime", "demofs")["spec"]["worker"]["replicas"] = replicas

    harness.reconcile()

    assert harness.obj("StatefulSet", "demofs-worker")["spec"]["replicas"] == replicas


def test_option_env_and_template_changes_reach_the_workloads(harness: Harness) -> None:
    harness.bring_up()
    spec = harness.obj("CacheRuntime", "demofs")["spec"]
    spec["worker"]["options"]["key1"] = "changed"
    spec["worker"]["env"] = [{"name": "LOG", "value": "debug"}]
    runtime_class = harness.client.find("CacheRuntimeClass", "demofs")
    runtime_class["topology"]["worker"]["podTemplateSpec"]["spec"]["containers"][0]["image"] = "v2"

    harness.reconcile()

    container = harness.obj("StatefulSet", "demofs-worker")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["image"] == "v2"
    assert container["env"][-1] == {"name": "LOG", "value": "debug"}
    assert harness.config()["worker"]["options"]["key1"] == "changed"


def test_disabling_a_component_removes_its_workload(harness: Harness) -> None:
    harness.bring_up()
    harness.obj("CacheRuntime", "demofs")["spec"]["client"]["disabled"] = True

    harness.reconcile()

    assert harness.missing("DaemonSet", "demofs-client")
    assert harness.config()["client"]["enabled"] is False
    assert "client" not in harness.obj("CacheRuntime", "demofs")["status"]


def test_a_class_that_changes_a_workload_kind_replaces_the_workload(harness: Harness) -> None:
    harness.bring_up()
    runtime_class = harness.client.find("CacheRuntimeClass", "demofs")
    runtime_class["topology"]["client"]["workloadType"]["kind"] = "Deployment"

    harness.reconcile()

    assert harness.missing("DaemonSet", "demofs-client")
    assert harness.obj("Deployment", "demofs-client")["spec"]["replicas"] == 1


def test_a_class_that_drops_a_headless_service_replaces_the_statefulset(harness: Harness) -> None:
    harness.bring_up()
    old_uid = harness.obj("StatefulSet", "demofs-worker")["metadata"]["uid"]
    del harness.client.find("CacheRuntimeClass", "demofs")["topology"]["worker"]["service"]

    harness.reconcile()

    assert harness.missing("Service", "demofs-worker")
    worker = harness.obj("StatefulSet", "demofs-worker")
    assert "serviceName" not in worker["spec"]
    assert ("delete", "StatefulSet", "demofs-worker") in harness.client.writes
    assert worker["metadata"]["uid"] == old_uid  # the fake reuses uids by name


def test_objects_someone_else_owns_are_never_removed(harness: Harness) -> None:
    harness.client.put(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "demofs-master", "namespace": "default"},
            "spec": {},
        }
    )

    harness.reconcile()

    assert harness.obj("Deployment", "demofs-master")
    assert ("delete", "Deployment", "demofs-master") not in harness.client.writes


def test_a_missing_class_waits_for_it_and_is_recorded_for_the_class_watch(
    harness: Harness,
) -> None:
    harness.client.remove(GVK("data.fluid.io", "v1alpha1", "CacheRuntimeClass"), "demofs")

    with pytest.raises(WaitingFor) as raised:
        harness.reconcile()

    assert raised.value.reason == "RuntimeClassNotFound"
    assert "CacheRuntimeClass 'demofs' (spec.runtimeClassName), which does not exist" in str(
        raised.value
    )
    assert harness.dependents.runtimes_of_class("demofs") == [("default", "demofs")]
    assert harness.client.writes == []


def test_a_missing_secret_waits_for_it_naming_it_and_never_showing_values(
    harness: Harness,
) -> None:
    harness.client.remove(GVK("", "v1", "Secret"), "jfs-secret", "default")

    with pytest.raises(WaitingFor) as raised:
        harness.reconcile()

    assert raised.value.reason == "SecretNotFound"
    assert str(raised.value) == (
        "waiting for Secret default/jfs-secret, which Dataset default/demofs names in "
        "encryptOptions (access-key, secret-key, token) and which does not exist: create it in "
        "namespace default and the runtime proceeds by itself"
    )
    assert harness.dependents.runtimes_of_secret("default", "jfs-secret") == [("default", "demofs")]


def test_secret_values_appear_nowhere_the_engine_writes(harness: Harness) -> None:
    harness.bring_up()

    written = json.dumps([obj for obj in harness.client.objects() if obj["kind"] != "Secret"])
    for value in ("demo-token", "demo-access-key", "demo-secret-key"):
        assert value not in written


def test_an_unhealthy_master_fails_the_dataset_until_it_recovers(harness: Harness) -> None:
    harness.bring_up()
    harness.ready("master", 1)

    with pytest.raises(EngineError) as raised:
        harness.reconcile()

    assert raised.value.reason == "RuntimeNotHealthy"
    assert "master 1/2 ready" in str(raised.value)
    assert harness.obj("Dataset", "demofs")["status"]["phase"] == "Failed"
    harness.ready("master", 2)
    harness.reconcile()
    assert harness.obj("Dataset", "demofs")["status"]["phase"] == "Bound"


def test_a_new_runtime_labels_its_workers_node_once_placed_without_listing_the_nodes(
    harness: Harness,
) -> None:
    """A runtime's nodes are labelled only once its workers are placed, after its first pass,
    and unlabelled before a deleted one goes: a runtime with no status yet has none to look
    for among the nodes. The labels come before binding, so the binding pass writes no node."""
    harness.client.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-0"}})
    listed: list[str] = []
    real_list = harness.client.list

    def recording_list(gvk: Any, *args: Any, **kwargs: Any) -> Any:
        listed.append(gvk.kind)
        return real_list(gvk, *args, **kwargs)

    harness.client.list = recording_list  # type: ignore[method-assign]
    assert not harness.reconcile()
    harness.pod("worker", "demofs-worker-0", node="node-0")

    assert not harness.reconcile()  # placed, not ready yet

    assert "Node" not in listed
    labels = harness.client.find("Node", "node-0")["metadata"]["labels"]
    assert labels["fluid.io/s-default-demofs"] == "true"
    node_writes = len([w for w in harness.client.writes if w[1] == "Node"])
    harness.ready("master", 2)
    harness.ready("worker", 2)
    assert harness.reconcile()
    assert len([w for w in harness.client.writes if w[1] == "Node"]) == node_writes


def test_shutdown_removes_the_fuse_label_and_forgets_the_runtime(harness: Harness) -> None:
    harness.bring_up()
    for node, labels in (("n1", {"fluid.io/f-default-demofs": "true"}), ("n2", {"other": "x"})):
        harness.client.put(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node, "labels": labels}}
        )

    harness.engine.shutdown(harness.context())

    assert harness.client.find("Node", "n1")["metadata"]["labels"] == {}
    assert harness.client.find("Node", "n2")["metadata"]["labels"] == {"other": "x"}
    assert harness.dependents.runtimes_of_class("demofs") == []


def with_extra_config_map(harness: Harness) -> None:
    """The class ships ConfigMap `demofs-scripts`, which its worker mounts at /scripts."""
    runtime_class = harness.client.find("CacheRuntimeClass", "demofs")
    runtime_class["extraResources"] = {
        "configMaps": [{"name": "demofs-scripts", "data": {"start.sh": "echo start"}}]
    }
    runtime_class["topology"]["worker"]["dependencies"] = {
        "extraResources": {"configMaps": [{"name": "demofs-scripts", "mountPath": "/scripts"}]}
    }


def test_the_classes_extra_config_maps_are_created_owned_and_mounted(harness: Harness) -> None:
    with_extra_config_map(harness)

    harness.reconcile()

    config_map = harness.obj("ConfigMap", "demofs-scripts")
    assert config_map["data"] == {"start.sh": "echo start"}
    [owner] = config_map["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CacheRuntime", "demofs", True)
    spec = harness.obj("StatefulSet", "demofs-worker")["spec"]["template"]["spec"]
    assert {
        "name": "fluid-extra-demofs-demofs-scripts",
        "configMap": {"name": "demofs-scripts"},
    } in (spec["volumes"])
    assert {
        "name": "fluid-extra-demofs-demofs-scripts",
        "mountPath": "/scripts",
        "readOnly": True,
    } in spec["containers"][0]["volumeMounts"]
    conditions = harness.obj("CacheRuntime", "demofs")["status"]["conditions"]
    extra = next(c for c in conditions if c["type"] == "ExtraConfigMapsReady")
    assert (extra["status"], extra["reason"]) == ("True", "Created")


def test_a_users_config_map_of_the_same_name_is_left_alone_and_reported_once(
    harness: Harness,
) -> None:
    with_extra_config_map(harness)
    users = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "demofs-scripts", "namespace": "default"},
        "data": {"start.sh": "echo mine"},
    }
    harness.client.put(copy.deepcopy(users))
    ctx = harness.context()
    harness.engine.validate(ctx)
    harness.engine.setup(ctx)
    harness.obj("CacheRuntime", "demofs")["status"] = ctx.runtime_status

    kept = harness.obj("ConfigMap", "demofs-scripts")
    assert (kept["data"], kept["metadata"].get("ownerReferences")) == (users["data"], None)
    extra = next(c for c in ctx.runtime_status["conditions"] if c["type"] == "ExtraConfigMapsReady")
    assert (extra["status"], extra["reason"]) == ("False", "NotOwned")
    assert "default/demofs-scripts" in extra["message"]
    warnings = [e for e in ctx.recorder.events if e[1] == "ExtraConfigMapNotOwned"]  # type: ignore[attr-defined]
    assert [(e[0], e[2]) for e in warnings] == [("Warning", extra["message"])]

    again = harness.context()
    harness.engine.validate(again)
    harness.engine.setup(again)
    assert not [e for e in again.recorder.events if e[1] == "ExtraConfigMapNotOwned"]  # type: ignore[attr-defined]


def test_a_client_only_runtime_is_bound_at_once(
    fake_client: Any, pass_context: Any, samples: Any
) -> None:
    harness = Harness(fake_client, pass_context, samples("clientonly.yaml"))

    assert harness.reconcile()

    assert harness.obj("Dataset", "clientonly-demo")["status"]["phase"] == "Bound"
    assert harness.obj("DaemonSet", "clientonly-demo-client")
    assert harness.config()["client"]["options"] == {"reconnect": "false"}


def test_nothing_of_a_pass_is_kept_once_the_pass_ends(harness: Harness) -> None:
    harness.bring_up()
    ctx = harness.context()
    harness.engine.validate(ctx)
    harness.engine.setup(ctx)
    harness.engine.sync(ctx)
    pass_context = weakref.ref(ctx)
    del ctx
    gc.collect()

    assert pass_context() is None


def test_a_pass_that_stops_at_setup_keeps_nothing_either(harness: Harness) -> None:
    ctx = harness.context()
    harness.engine.validate(ctx)
    assert harness.engine.setup(ctx) is False
    pass_context = weakref.ref(ctx)
    del ctx
    gc.collect()

    assert pass_context() is None


def test_build_gives_the_cache_runtime_engine_itself(harness: Harness) -> None:
    engine = build("default-demofs", harness.context())

    assert isinstance(engine, CacheRuntimeEngine)
    assert engine.id() == "default-demofs"

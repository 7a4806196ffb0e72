"""A bound runtime whose inputs have not changed since a pass that had nothing to do skips its
work, and any change of an input brings the work back.

The RuntimeReconciler drives the CacheRuntime engine over an in-memory API server, as the
manager does (every write moves the object's resourceVersion, as on a real one). Whether a
pass did its work is seen through spies on planning and rendering, not through timing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from fluidpy.client import GVK, SECRET
from fluidpy.context import Context
from fluidpy.controller import Request
from fluidpy.controllers import RuntimeReconcilerOptions
from fluidpy.controllers.kinds import CACHE_RUNTIME
from fluidpy.controllers.runtime import RuntimeReconciler
from fluidpy.engines.base import Engine, EngineError, ReconcileRequestContext
from fluidpy.engines.cacheruntime import engine as engine_module
from fluidpy.engines.cacheruntime.debounce import DebouncedWriter
from fluidpy.engines.cacheruntime.dependents import Dependents
from fluidpy.engines.cacheruntime.engine import CacheRuntimeEngine
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIGMAP,
    DATASET_GVK,
    RUNTIME_GVK,
    SERVICE,
    STATEFULSET,
)
from fluidpy.engines.factory import EngineFactory
from fluidpy.testing import FakeClient

NAMESPACE = "default"


class Recorder:
    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        pass


class Spies:
    """How many plans and workload renderings the engine made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.plans = 0
        self.renders = 0
        make_plan, render_workload = engine_module.make_plan, engine_module.render_workload

        def counted_plan(*args: Any, **kwargs: Any) -> Any:
            self.plans += 1
            return make_plan(*args, **kwargs)

        def counted_render(*args: Any, **kwargs: Any) -> Any:
            self.renders += 1
            return render_workload(*args, **kwargs)

        monkeypatch.setattr(engine_module, "make_plan", counted_plan)
        monkeypatch.setattr(engine_module, "render_workload", counted_render)

    def reset(self) -> None:
        self.plans = self.renders = 0


class Cluster:
    """The demofs sample's runtime, bound, with a manager's RuntimeReconciler over it."""

    def __init__(self, objects: dict[str, dict[str, Any]], spies: Spies) -> None:
        self.client = FakeClient(*objects.values())
        self.spies = spies
        self.name = objects["CacheRuntime"]["metadata"]["name"]
        factory = EngineFactory(group="fluidpy.engines.none")

        def build(engine_id: str, ctx: ReconcileRequestContext) -> Engine:
            return CacheRuntimeEngine(
                NAMESPACE,
                self.name,
                dependents=Dependents(),
                writer=DebouncedWriter((NAMESPACE, self.name), min_interval=0),
            )

        factory.register("cacheruntime", build)
        self.reconciler = RuntimeReconciler(
            CACHE_RUNTIME,
            self.client,  # type: ignore[arg-type]
            Recorder(),  # type: ignore[arg-type]
            factory=factory,
            options=RuntimeReconcilerOptions(resync_period=90.0),
        )

    def reconcile(self) -> None:
        self.reconciler.reconcile(Context.background(), Request(NAMESPACE, self.name))

    def pod(self, component: str, index: int, ip: str) -> None:
        self.client.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{self.name}-{component}-{index}",
                    "namespace": NAMESPACE,
                    "labels": {
                        "cacheruntime.fluid.io/name": self.name,
                        "cacheruntime.fluid.io/component-name": component,
                    },
                },
                "spec": {"nodeName": f"node-{index}"},
                "status": {"phase": "Running", "podIP": ip},
            }
        )

    def ready(self, kind: str, component: str, replicas: int) -> None:
        name = f"{self.name}-{component}"
        if kind == "DaemonSet":
            counts = {"desiredNumberScheduled": 0, "numberReady": 0, "updatedNumberScheduled": 0}
            self.client.set_status(kind, name, NAMESPACE, **counts)
            return
        self.client.set_status(
            kind, name, NAMESPACE, readyReplicas=replicas, updatedReplicas=replicas
        )

    def bind(self) -> None:
        """Up and bound, every pod with its IP, and reconciled until a pass writes nothing."""
        self.reconcile()
        for component in ("master", "worker"):
            for index in range(2):
                self.pod(component, index, f"10.0.{component == 'worker':d}.{index + 1}")
            self.ready("StatefulSet", component, 2)
        self.ready("DaemonSet", "client", 0)
        for _ in range(6):
            written = len(self.client.writes)
            self.reconcile()
            if len(self.client.writes) == written:
                break
        assert self.obj(DATASET_GVK, self.name)["status"]["phase"] == "Bound"
        assert self.quiet_pass() == 0, "the runtime never settled"

    def quiet_pass(self) -> int:
        """Writes of one more pass."""
        written = len(self.client.writes)
        self.reconcile()
        return len(self.client.writes) - written

    def obj(self, gvk: GVK, name: str) -> dict[str, Any]:
        found = self.client.get(gvk, name, None if gvk == CLASS_GVK else NAMESPACE)
        assert found is not None, f"no {gvk.kind} {name}"
        return found

    def config(self) -> dict[str, Any]:
        data = self.obj(CONFIGMAP, f"fluid-runtime-config-{self.name}")["data"]
        document: dict[str, Any] = json.loads(data["runtime.json"])
        return document


@pytest.fixture
def cluster(seed: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Cluster:
    bound = Cluster(copy.deepcopy(seed), Spies(monkeypatch))
    bound.bind()
    bound.spies.reset()
    return bound


def test_a_pass_with_nothing_changed_plans_renders_and_writes_nothing(cluster: Cluster) -> None:
    assert cluster.quiet_pass() == 0

    assert (cluster.spies.plans, cluster.spies.renders) == (0, 0)
    assert cluster.obj(DATASET_GVK, cluster.name)["status"]["phase"] == "Bound"


def test_a_fresh_engine_does_its_work_until_a_pass_settles(
    seed: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spies see the work when there is some: after a manager restart the engine plans and
    renders (its first pass also reads the cache nodes' labels, so the next one settles), and
    then rests on what the settled pass found."""
    bound = Cluster(copy.deepcopy(seed), Spies(monkeypatch))
    bound.bind()
    bound.reconciler.engines.forget(NAMESPACE, bound.name)  # as after a manager restart
    work = []
    for _ in range(4):
        bound.spies.reset()
        assert bound.quiet_pass() == 0
        work.append((bound.spies.plans, bound.spies.renders))

    assert work == [(1, 3), (1, 3), (0, 0), (0, 0)]


def _spec_replicas(cluster: Cluster) -> Callable[[], bool]:
    cluster.client.patch(
        RUNTIME_GVK, cluster.name, NAMESPACE, {"spec": {"worker": {"replicas": 3}}}
    )
    return lambda: cluster.obj(STATEFULSET, f"{cluster.name}-worker")["spec"]["replicas"] == 3


def _class_template(cluster: Cluster) -> Callable[[], bool]:
    runtime_class = cluster.obj(CLASS_GVK, "demofs")
    topology = copy.deepcopy(runtime_class["topology"])
    topology["worker"]["podTemplateSpec"]["spec"]["containers"][0]["image"] = "demofs:2"
    cluster.client.patch(CLASS_GVK, "demofs", None, {"topology": topology})

    def converged() -> bool:
        template = cluster.obj(STATEFULSET, f"{cluster.name}-worker")["spec"]["template"]
        return bool(template["spec"]["containers"][0]["image"] == "demofs:2")

    return converged


def _dataset_mounts(cluster: Cluster) -> Callable[[], bool]:
    dataset = cluster.obj(DATASET_GVK, cluster.name)
    mounts = [*dataset["spec"]["mounts"], {"name": "more", "mountPoint": "s3://bucket/more"}]
    cluster.client.patch(DATASET_GVK, cluster.name, NAMESPACE, {"spec": {"mounts": mounts}})
    return lambda: any(m["name"] == "more" for m in cluster.config()["mounts"])


def _workload_edited(cluster: Cluster) -> Callable[[], bool]:
    name = f"{cluster.name}-master"
    cluster.client.patch(STATEFULSET, name, NAMESPACE, {"spec": {"replicas": 5}})
    return lambda: cluster.obj(STATEFULSET, name)["spec"]["replicas"] == 2


def _service_deleted(cluster: Cluster) -> Callable[[], bool]:
    name = f"{cluster.name}-worker"
    cluster.client.delete(SERVICE, name, NAMESPACE)
    return lambda: cluster.client.get(SERVICE, name, NAMESPACE) is not None


def _pod_ip(cluster: Cluster) -> Callable[[], bool]:
    cluster.pod("worker", 1, "10.0.9.9")
    return lambda: "10.0.9.9" in json.dumps(cluster.config())


@pytest.mark.parametrize(
    "change",
    [
        _spec_replicas,
        _class_template,
        _dataset_mounts,
        _workload_edited,
        _service_deleted,
        _pod_ip,
    ],
    ids=lambda change: change.__name__.strip("_"),
)
def test_a_change_of_any_input_is_converged_on_the_next_pass(
    cluster: Cluster, change: Callable[[Cluster], Callable[[], bool]]
) -> None:
    converged = change(cluster)
    assert not converged()

    cluster.reconcile()

    assert converged()
    assert cluster.spies.plans >= 1


def test_a_missing_secret_stops_the_quiet_passes(cluster: Cluster) -> None:
    cluster.client.delete(SECRET, "jfs-secret", NAMESPACE)

    cluster.reconcile()

    ready = next(
        c
        for c in cluster.obj(RUNTIME_GVK, cluster.name)["status"]["conditions"]
        if c["type"] == "Ready"
    )
    assert (ready["status"], ready["reason"]) == ("False", "SecretNotFound")


def test_an_unhealthy_master_is_still_noticed(cluster: Cluster) -> None:
    cluster.ready("StatefulSet", "master", 1)

    with pytest.raises(EngineError, match="master 1/2 ready"):
        cluster.reconcile()

    assert cluster.obj(DATASET_GVK, cluster.name)["status"]["phase"] == "Failed"

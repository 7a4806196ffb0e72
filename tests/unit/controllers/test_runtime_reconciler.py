"""The RuntimeReconciler's phases, on an in-memory API and a scripted engine.

The integration tests show the same behaviour on a real control plane; these pin down the
decisions (what stops a pass, what is retried, what is written) one at a time.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fluidpy.client import GVK, NotFound
from fluidpy.context import Context
from fluidpy.controller import Request, Result
from fluidpy.controllers import RuntimeReconcilerOptions
from fluidpy.controllers.kinds import DATASET, RuntimeKind
from fluidpy.controllers.runtime import RuntimeReconciler
from fluidpy.engines.base import Engine, ReconcileRequestContext, ValidationError, WaitingFor
from fluidpy.engines.factory import EngineFactory
from fluidpy.testing import FakeClient

KIND = RuntimeKind(
    GVK("data.fluid.io", "v1alpha1", "JindoRuntime"),
    engine_type="scripted",
    finalizer="jindo-runtime-controller-finalizer",
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


class ScriptedEngine(Engine):
    """Does what the test says and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.raises: dict[str, Exception] = {}
        self.ready = True
        self.sync_after: float | None = None

    def _step(self, name: str, ctx: ReconcileRequestContext) -> None:
        self.calls.append(name)
        if name in self.raises:
            raise self.raises[name]

    def id(self) -> str:
        return "scripted"

    def setup(self, ctx: ReconcileRequestContext) -> bool:
        self._step("setup", ctx)
        if self.ready and ctx.dataset_status is not None:
            ctx.dataset_status["phase"] = "Bound"
            ctx.dataset_status["runtimes"] = [
                {
                    "name": ctx.name,
                    "namespace": ctx.namespace,
                    "category": "Accelerate",
                    "type": "scripted",
                }
            ]
        return self.ready

    def create_volume(self, ctx: ReconcileRequestContext) -> None:
        self._step("create_volume", ctx)

    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        self._step("delete_volume", ctx)

    def sync(self, ctx: ReconcileRequestContext) -> float | None:
        self._step("sync", ctx)
        return self.sync_after

    def validate(self, ctx: ReconcileRequestContext) -> None:
        self._step("validate", ctx)

    def shutdown(self, ctx: ReconcileRequestContext) -> None:
        self._step("shutdown", ctx)


class Harness:
    def __init__(self, name: str = "demo", *, with_dataset: bool = True) -> None:
        self.client = FakeClient()
        self.recorder = Recorder()
        self.engine = ScriptedEngine()
        self.builds = 0
        factory = EngineFactory(group="fluidpy.engines.none")

        def build(engine_id: str, ctx: ReconcileRequestContext) -> Engine:
            self.builds += 1
            return self.engine

        factory.register("scripted", build)
        self.reconciler = RuntimeReconciler(
            KIND,
            self.client,
            self.recorder,
            factory=factory,  # type: ignore[arg-type]
            options=RuntimeReconcilerOptions(resync_period=90.0),
        )
        self.name = name
        self.client.put(
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "JindoRuntime",
                "metadata": {"name": name, "namespace": "ns"},
                "spec": {},
            }
        )
        if with_dataset:
            self.add_dataset()

    def add_dataset(self) -> None:
        self.client.put(
            {
                "apiVersion": "data.fluid.io/v1alpha1",
                "kind": "Dataset",
                "metadata": {"name": self.name, "namespace": "ns"},
                "spec": {"mounts": [{"name": "data", "mountPoint": "s3://bucket/data"}]},
                "status": {"phase": "NotBound", "conditions": []},
            }
        )

    def reconcile(self) -> Result | None:
        return self.reconciler.reconcile(Context.background(), Request("ns", self.name))

    @property
    def runtime(self) -> dict[str, Any]:
        return self.client.find("JindoRuntime", self.name, "ns")

    @property
    def dataset(self) -> dict[str, Any]:
        return self.client.find("Dataset", self.name, "ns")

    def ready_condition(self) -> dict[str, Any]:
        return next(c for c in self.runtime["status"]["conditions"] if c["type"] == "Ready")


def test_a_name_that_is_not_a_dns_1035_label_stops_before_anything_is_built() -> None:
    harness = Harness("1st")

    assert harness.reconcile() is None

    condition = harness.ready_condition()
    assert (condition["status"], condition["reason"]) == ("False", "InvalidName")
    assert "DNS-1035" in condition["message"]
    assert harness.recorder.events[0][:2] == ("Warning", "InvalidName")
    assert harness.builds == 0
    assert "finalizers" not in harness.runtime["metadata"]


def test_a_missing_dataset_is_reported_and_waited_for_without_a_timer() -> None:
    harness = Harness(with_dataset=False)

    assert harness.reconcile() is None
    assert harness.ready_condition()["reason"] == "DatasetNotFound"
    assert harness.recorder.events[0][:2] == ("Warning", "DatasetNotFound")

    harness.add_dataset()
    harness.reconcile()

    assert harness.dataset["status"]["phase"] == "Bound"


def test_adoption_writes_owner_label_and_finalizer_once() -> None:
    harness = Harness()

    harness.reconcile()
    metadata_writes = [w for w in harness.client.writes if w[0] == "patch"]
    harness.client.writes.clear()
    harness.reconcile()

    assert metadata_writes == [("patch", "JindoRuntime", "demo")]
    runtime = harness.runtime["metadata"]
    assert runtime["finalizers"] == ["jindo-runtime-controller-finalizer"]
    assert runtime["ownerReferences"][0]["kind"] == "Dataset"
    assert runtime["labels"] == {"fluid.io/dataset-id": "ns-demo"}
    assert not [w for w in harness.client.writes if w[0] == "patch"]


def test_status_is_written_once_per_pass_and_not_at_all_when_nothing_changed() -> None:
    harness = Harness()
    harness.reconcile()
    harness.client.writes.clear()

    harness.reconcile()

    assert [w for w in harness.client.writes if w[0] == "patch_status"] == []


def test_a_ready_runtime_creates_its_volume_syncs_and_requeues_for_the_engines_probes() -> None:
    harness = Harness()
    harness.engine.sync_after = 5.0

    result = harness.reconcile()

    assert harness.engine.calls == ["validate", "setup", "create_volume", "sync"]
    assert result == Result(requeue_after=5.0)
    assert harness.ready_condition()["status"] == "True"


def test_without_engine_probes_a_ready_runtime_is_resynced_at_the_resync_period() -> None:
    assert Harness().reconcile() == Result(requeue_after=90.0)


def test_setup_not_ready_waits_for_the_next_event() -> None:
    harness = Harness()
    harness.engine.ready = False

    assert harness.reconcile() is None
    assert harness.engine.calls == ["validate", "setup"]
    assert harness.ready_condition()["reason"] == "SettingUp"


def test_a_dataset_bound_to_another_runtime_is_refused_naming_it() -> None:
    harness = Harness()
    harness.dataset["status"]["runtimes"] = [
        {"name": "other", "namespace": "ns", "category": "Accelerate", "type": "alluxio"}
    ]

    harness.reconcile()

    condition = harness.ready_condition()
    assert condition["reason"] == "DatasetBoundToOtherRuntime"
    assert "alluxio runtime ns/other" in condition["message"]
    assert harness.engine.calls == []


def test_a_refused_runtime_gets_no_finalizer_owner_or_label_and_its_deletion_touches_nothing() -> (
    None
):
    harness = Harness()
    harness.dataset["status"]["runtimes"] = [
        {"name": "demo", "namespace": "ns", "category": "Accelerate", "type": "alluxio"}
    ]

    harness.reconcile()
    harness.runtime["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    harness.reconcile()

    assert harness.ready_condition()["reason"] == "DatasetBoundToOtherRuntime"
    metadata = harness.runtime["metadata"]
    assert not {"finalizers", "ownerReferences", "labels"} & set(metadata)
    assert "labels" not in harness.dataset["metadata"]
    assert harness.engine.calls == []
    assert harness.dataset["status"]["runtimes"][0]["type"] == "alluxio"


def test_the_binding_is_undone_when_the_volume_cannot_be_made() -> None:
    harness = Harness()
    harness.engine.raises["create_volume"] = WaitingFor(
        "PersistentVolumeClaim ns/demo already exists and is not this runtime's",
        reason="NameConflict",
    )

    harness.reconcile()

    assert harness.ready_condition()["reason"] == "NameConflict"
    assert harness.dataset["status"]["phase"] == "NotBound"
    assert not harness.dataset["status"].get("runtimes")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            ValidationError("spec.master.replicas", "must not be negative", "set it to 0 or more"),
            "ErrorValidateSpecFields",
        ),
        (
            WaitingFor("Secret ns/creds does not exist; create it", reason="SecretNotFound"),
            "SecretNotFound",
        ),
    ],
)
def test_an_invalid_spec_or_a_missing_dependency_is_reported_and_not_retried(
    error: Exception, reason: str
) -> None:
    harness = Harness()
    harness.engine.raises["validate"] = error

    assert harness.reconcile() is None

    condition = harness.ready_condition()
    assert (condition["status"], condition["reason"]) == ("False", reason)
    assert condition["message"] == str(error)
    assert ("Warning", reason, str(error)) in harness.recorder.events
    assert harness.engine.calls == ["validate"]


def test_a_transient_engine_failure_is_reported_then_raised_for_backoff() -> None:
    harness = Harness()
    harness.engine.raises["sync"] = RuntimeError("cache master unreachable")

    with pytest.raises(RuntimeError):
        harness.reconcile()

    condition = harness.ready_condition()
    assert condition["reason"] == "ErrorProcessRuntime"
    assert "sync: cache master unreachable" in condition["message"]
    assert harness.dataset["status"]["phase"] == "Bound"


def test_deletion_cleans_up_resets_the_dataset_and_removes_the_finalizer() -> None:
    harness = Harness()
    harness.reconcile()
    harness.client.delete(KIND.gvk, "demo", "ns")
    assert harness.runtime["metadata"]["deletionTimestamp"]
    harness.engine.calls.clear()

    harness.reconcile()

    assert harness.engine.calls == ["delete_volume", "shutdown"]
    assert harness.client.find("JindoRuntime", "demo", "ns") is None  # its finalizer went
    assert harness.dataset["status"]["phase"] == "NotBound"
    assert harness.dataset["status"]["runtimes"] == []
    assert len(harness.reconciler.engines) == 0


def test_a_failing_shutdown_keeps_the_finalizer_so_cleanup_is_retried() -> None:
    harness = Harness()
    harness.reconcile()
    harness.runtime["metadata"]["deletionTimestamp"] = "2026-11-22T00:00:00Z"
    harness.engine.raises["shutdown"] = RuntimeError("cache busy")

    with pytest.raises(RuntimeError):
        harness.reconcile()

    assert harness.runtime["metadata"]["finalizers"] == ["jindo-runtime-controller-finalizer"]


def test_a_runtime_that_is_gone_forgets_its_engine() -> None:
    harness = Harness()
    harness.reconcile()
    harness.client.remove(KIND.gvk, "demo", "ns")

    assert harness.reconcile() is None
    assert len(harness.reconciler.engines) == 0


def test_the_dataset_kind_constant_names_fluids_dataset() -> None:
    assert (DATASET.group, DATASET.version, DATASET.kind) == (
        "data.fluid.io",
        "v1alpha1",
        "Dataset",
    )


def test_a_write_conflict_redoes_the_pass_with_backoff_and_without_an_error() -> None:
    harness = Harness()
    harness.reconcile()
    stale = copy.deepcopy(harness.runtime)
    harness.client.update(harness.runtime)  # someone else writes it: a new resourceVersion
    harness.engine.ready = False
    fresh_get = harness.client.get

    def stale_runtime(gvk: GVK, name: str, namespace: str | None = None, **_: Any) -> Any:
        if gvk.kind == "JindoRuntime":
            return copy.deepcopy(stale)
        return fresh_get(gvk, name, namespace)

    harness.client.get = stale_runtime  # type: ignore[method-assign]

    assert harness.reconcile() == Result(requeue=True)
    assert harness.ready_condition()["status"] == "True"


def test_a_dataset_id_too_long_for_a_label_value_falls_back_to_the_datasets_uid() -> None:
    long_name = "d" * 60
    harness = Harness(long_name)

    harness.reconcile()

    uid = harness.dataset["metadata"]["uid"]
    assert harness.runtime["metadata"]["labels"]["fluid.io/dataset-id"] == uid


def test_an_object_gone_during_the_pass_is_expected_not_a_failure() -> None:
    harness = Harness()
    harness.engine.raises["sync"] = NotFound(404, "NotFound", 'statefulsets "demo" not found')

    assert harness.reconcile() == Result(requeue=True)

    assert [e for e in harness.recorder.events if e[0] == "Warning"] == []
    assert "ErrorProcessRuntime" not in str(harness.runtime.get("status"))


def test_a_spec_that_cannot_work_costs_its_condition_and_event_and_no_other_write() -> None:
    harness = Harness()
    harness.engine.raises["validate"] = ValidationError(
        "spec.worker.replicas", "must not be negative", "set it to 0 or more"
    )

    harness.reconcile()

    assert [w[0] for w in harness.client.writes] == ["patch_status"]
    assert "finalizers" not in harness.runtime["metadata"]
    assert "labels" not in harness.dataset["metadata"]
    assert harness.recorder.events[0][:2] == ("Warning", "ErrorValidateSpecFields")

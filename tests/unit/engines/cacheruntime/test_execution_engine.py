"""The engine runs a class's execution entries: mountUFS gates binding and follows the Dataset's
mounts (the Updating protocol), reportSummary fills the cache columns.

The cache system's commands are answered by a RecordedExec (engines.base.exec); the API server
is the in-memory FakeClient. tests/integration/cacheruntime/test_execution_entries.py runs the
same story through the API server's pod exec.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from fluidpy.engines.base import EngineError, EngineOptions, ReconcileRequestContext, WaitingFor
from fluidpy.engines.base.exec import ExecCall, ExecError, RecordedExec
from fluidpy.engines.cacheruntime.debounce import DebouncedWriter
from fluidpy.engines.cacheruntime.dependents import Dependents
from fluidpy.engines.cacheruntime.engine import CacheRuntimeEngine

MOUNT = ("mount-ufs",)
REPORT = ("report-summary",)
MOUNTED = '{"mounted": ["/data", "/archive/logs"]}'
FIGURES = (
    '{"cached": "1.5GiB", "cachedPercentage": "37.5%", "cacheCapacity": "4GiB",'
    ' "cacheHitRatio": "88.0%"}'
)
STARTED = "2026-01-01T00:00:00Z"
"""When the fake master container started: before any mount the tests make."""


class Cache:
    """The execution-entries sample over an in-memory API server, its cache system's CLI
    answered by `exec`; workloads become ready when a test says so."""

    def __init__(self, fake_client: Any, pass_context: Any, objects: dict[str, Any]) -> None:
        self.client = fake_client(*objects.values())
        self.name = objects["CacheRuntime"]["metadata"]["name"]
        self.namespace = objects["CacheRuntime"]["metadata"]["namespace"]
        self.exec = RecordedExec()
        self.engine = self.new_engine(self.exec)
        self.options = EngineOptions()
        self.synced: float | None = None
        self.last: ReconcileRequestContext | None = None
        self._context = pass_context
        self._objects = objects

    def new_engine(self, transport: RecordedExec) -> CacheRuntimeEngine:
        """The engine a (new) manager builds for the runtime."""
        return CacheRuntimeEngine(
            self.namespace,
            self.name,
            dependents=Dependents(),
            writer=DebouncedWriter((self.namespace, self.name), min_interval=0),
            transport=transport,
        )

    def reconcile(self) -> bool:
        """validate, setup, then volume and sync once set up; statuses written back."""
        stored = (self._objects["CacheRuntime"], self._objects["Dataset"])
        ctx = replace(self._context(self.client, *stored), options=self.options)
        self.last = ctx
        try:
            self.engine.validate(ctx)
            ready = self.engine.setup(ctx)
            if ready:
                self.engine.create_volume(ctx)
                self.synced = self.engine.sync(ctx)
            return ready
        finally:
            self.obj("CacheRuntime")["status"] = ctx.runtime_status
            self.obj("Dataset")["status"] = ctx.dataset_status

    def obj(self, kind: str) -> dict[str, Any]:
        found = self.client.find(kind, self.name, self.namespace)
        assert found is not None
        return found  # type: ignore[no-any-return]

    @property
    def dataset(self) -> dict[str, Any]:
        status: dict[str, Any] = self.obj("Dataset")["status"]
        return status

    def condition(self, kind: str, type_: str) -> dict[str, Any]:
        status = self.obj(kind)["status"]
        return next(c for c in status.get("conditions") or [] if c["type"] == type_)

    def events(self) -> list[tuple[str, str, str]]:
        assert self.last is not None
        events: list[tuple[str, str, str]] = self.last.recorder.events  # type: ignore[attr-defined]
        return events

    def ready(self, component: str, started: str = STARTED, restarts: int = 0) -> None:
        """The component's workload ready, its first pod running (container 0 since
        `started`, after `restarts` restarts)."""
        workload = f"{self.name}-{component}"
        replicas = self.obj("CacheRuntime")["spec"][component]["replicas"]
        self.client.set_status(
            "StatefulSet",
            workload,
            self.namespace,
            readyReplicas=replicas,
            updatedReplicas=replicas,
        )
        self.client.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{workload}-0",
                    "namespace": self.namespace,
                    "labels": {
                        "cacheruntime.fluid.io/name": self.name,
                        "cacheruntime.fluid.io/component-name": component,
                    },
                },
                "spec": {"containers": [{"name": component}, {"name": "sidecar"}]},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": component,
                            "restartCount": restarts,
                            "state": {"running": {"startedAt": started}},
                        }
                    ],
                },
            }
        )

    def bring_up(self) -> bool:
        """Master, then workers ready; True when the last pass bound the Dataset."""
        assert not self.reconcile()
        self.ready("master")
        assert not self.reconcile()
        self.ready("worker")
        return self.reconcile()

    def runs(self, command: tuple[str, ...]) -> list[ExecCall]:
        return [call for call in self.exec.calls if call.command == command]


@pytest.fixture
def cache(fake_client: Any, pass_context: Any, samples: Any) -> Cache:
    objects = samples("execution-entries.yaml")
    entries = objects["CacheRuntimeClass"]["topology"]["master"]["executionEntries"]
    entries["mountUFS"]["command"] = list(MOUNT)
    entries["reportSummary"]["command"] = list(REPORT)
    cache = Cache(fake_client, pass_context, objects)
    cache.exec.reply(MOUNT, MOUNTED)
    cache.exec.reply(REPORT, FIGURES)
    return cache


# mountUFS before binding -------------------------------------------------------------------


def test_mount_ufs_runs_in_the_first_master_pod_once_master_and_workers_are_ready(
    cache: Cache,
) -> None:
    assert not cache.reconcile()
    cache.ready("master")
    assert not cache.reconcile()
    assert cache.runs(MOUNT) == []  # the workers are not ready yet

    cache.ready("worker")
    assert cache.reconcile()

    assert cache.runs(MOUNT) == [ExecCall("default", "exec-demo-master-0", "master", MOUNT)]
    assert cache.dataset["phase"] == "Bound"
    assert cache.dataset["mounts"] == cache.obj("Dataset")["spec"]["mounts"]
    assert cache.obj("CacheRuntime")["status"]["mountTime"]


def test_the_dataset_is_bound_only_once_the_cache_mounted_all_its_paths(cache: Cache) -> None:
    cache.exec.reply(MOUNT, '{"mounted": ["/data"]}', MOUNTED)

    with pytest.raises(WaitingFor) as raised:
        cache.bring_up()

    assert raised.value.reason == "RuntimeMountUfsPending"
    assert not raised.value.warning  # usual for a while after a change: no Warning event
    assert raised.value.retry_after == cache.options.sync_interval  # not the error backoff
    message = raised.value.message
    assert "the cache reports a different set of mounts: not mounted: /archive/logs" in message
    assert "CacheRuntimeClass demo-exec topology.master.executionEntries.mountUFS" in message
    assert cache.dataset.get("phase") != "Bound" and not cache.dataset.get("runtimes")
    assert "mountTime" not in cache.obj("CacheRuntime")["status"]

    assert cache.reconcile()  # the retry: the cache now has both
    assert cache.dataset["phase"] == "Bound"


def test_a_failing_mount_ufs_says_how_it_failed_without_the_command_line(cache: Cache) -> None:
    failure = ExecError(
        "default", "exec-demo-master-0", list(MOUNT), "exited with code 2", output="no creds\n"
    )
    cache.exec.reply(MOUNT, failure)

    with pytest.raises(EngineError) as raised:
        cache.bring_up()

    assert raised.value.reason == "RuntimeMountUfsFailed"
    assert raised.value.message.startswith(
        "mountUFS before binding failed: exited with code 2 (pod default/exec-demo-master-0): "
        "no creds. Fix the command in CacheRuntimeClass demo-exec "
        "topology.master.executionEntries.mountUFS"
    )
    assert "`mount-ufs`" not in raised.value.message


def test_an_unreadable_mount_ufs_output_is_quoted(cache: Cache) -> None:
    cache.exec.reply(MOUNT, "Usage: mount-ufs [--all]\n")

    with pytest.raises(EngineError) as raised:
        cache.bring_up()

    assert "stdout is not the JSON object" in raised.value.message
    assert "output was: Usage: mount-ufs [--all]" in raised.value.message


def test_the_entry_timeout_is_handed_to_the_transport(cache: Cache) -> None:
    seen: list[float] = []

    class Timed(RecordedExec):
        def run(self, *args: Any, timeout: float) -> str:
            seen.append(timeout)
            return super().run(*args, timeout=timeout)

    cache.engine = cache.new_engine(Timed({MOUNT: MOUNTED, REPORT: FIGURES}))

    assert cache.bring_up()

    assert seen == [60, 20]  # the sample's mountUFS timeout; reportSummary's none is 20


# reportSummary -----------------------------------------------------------------------------


def test_binding_reports_the_cache_figures_to_the_dataset(cache: Cache) -> None:
    assert cache.bring_up()

    assert cache.dataset["cacheStates"] == {
        "cached": "1.5GiB",
        "cachedPercentage": "37.5%",
        "cacheCapacity": "4GiB",
        "cacheHitRatio": "88.0%",
    }
    reported = cache.condition("Dataset", "CacheStatesReported")
    assert (reported["status"], reported["reason"]) == ("True", "ReportedByRuntime")
    assert "topology.master.executionEntries.reportSummary" in reported["message"]
    assert cache.runs(REPORT) == [ExecCall("default", "exec-demo-master-0", "master", REPORT)]


def test_figures_are_asked_for_at_most_once_per_sync_interval(cache: Cache) -> None:
    assert cache.bring_up()
    assert cache.synced is not None and 0 < cache.synced <= 5  # the next pass is asked for

    cache.reconcile()
    cache.reconcile()

    assert len(cache.runs(REPORT)) == 1


def test_figures_move_while_bound(cache: Cache) -> None:
    cache.options = EngineOptions(sync_interval=0)
    assert cache.bring_up()
    cache.exec.reply(REPORT, FIGURES.replace("1.5GiB", "2GiB"))

    cache.reconcile()

    assert cache.dataset["cacheStates"]["cached"] == "2GiB"


def test_a_failing_report_keeps_the_figures_and_the_binding(cache: Cache) -> None:
    cache.options = EngineOptions(sync_interval=0)
    assert cache.bring_up()
    figures = copy.deepcopy(cache.dataset["cacheStates"])
    cache.exec.reply(REPORT, "")

    assert cache.reconcile()
    cache.reconcile()

    assert cache.dataset["phase"] == "Bound"
    assert cache.dataset["cacheStates"] == figures
    failed = cache.condition("Dataset", "CacheStatesReported")
    assert (failed["status"], failed["reason"]) == ("False", "ReportSummaryFailed")
    assert "it printed nothing" in failed["message"]
    assert failed["message"].endswith("the cache figures shown are the last ones reported")


def test_a_report_failure_is_told_once_in_an_event(cache: Cache) -> None:
    cache.options = EngineOptions(sync_interval=0)
    assert cache.bring_up()
    cache.exec.reply(REPORT, "garbage")

    cache.reconcile()
    first = cache.events()
    cache.reconcile()

    assert [(t, r) for t, r, _ in first] == [("Warning", "ReportSummaryFailed")]
    assert cache.events() == []  # the condition already says it


def test_a_failing_report_at_binding_does_not_stop_it(cache: Cache) -> None:
    cache.exec.reply(REPORT, ExecError("default", "p", list(REPORT), "did not finish"))

    assert cache.bring_up()

    assert cache.dataset["phase"] == "Bound"
    assert cache.condition("Dataset", "CacheStatesReported")["reason"] == "ReportSummaryFailed"


def test_without_a_master_the_first_worker_reports_and_nothing_is_mounted(
    fake_client: Any, pass_context: Any, samples: Any
) -> None:
    objects = samples("execution-entries.yaml")
    topology = objects["CacheRuntimeClass"]["topology"]
    del topology["master"], objects["CacheRuntime"]["spec"]["master"]
    topology["worker"]["executionEntries"] = {"reportSummary": {"command": list(REPORT)}}
    cache = Cache(fake_client, pass_context, objects)
    cache.exec.reply(REPORT, FIGURES)
    assert not cache.reconcile()

    cache.ready("worker")
    assert cache.reconcile()

    assert cache.exec.calls == [ExecCall("default", "exec-demo-worker-0", "worker", REPORT)]
    assert cache.dataset["cacheStates"]["cached"] == "1.5GiB"


def test_without_report_summary_the_cache_columns_say_why(cache: Cache) -> None:
    del cache._objects["CacheRuntimeClass"]["topology"]["master"]["executionEntries"][
        "reportSummary"
    ]
    cache.client.put(cache._objects["CacheRuntimeClass"])

    assert cache.bring_up()

    assert cache.runs(REPORT) == []
    assert cache.condition("Dataset", "CacheStatesReported")["reason"] == "NotReportedByRuntime"


# The Updating protocol ---------------------------------------------------------------------


def change_mounts(cache: Cache, mounts: list[dict[str, Any]]) -> None:
    cache.obj("Dataset")["spec"]["mounts"] = mounts


def test_a_mount_change_goes_updating_until_the_cache_mounted_the_new_paths(cache: Cache) -> None:
    assert cache.bring_up()
    cache.obj("CacheRuntime")["status"]["mountTime"] = "2026-01-01T00:01:00Z"
    new = [
        {"name": "data", "mountPoint": "s3://bucket/data"},
        {"name": "new", "mountPoint": "s3://b/new"},
    ]
    change_mounts(cache, new)

    with pytest.raises(WaitingFor) as raised:
        cache.reconcile()  # the cache still reports the old set (its config lags)

    assert raised.value.reason == "RuntimeMountUfsPending"
    assert (
        "not mounted: /new; mounted but not in the Dataset: /archive/logs" in raised.value.message
    )
    assert cache.dataset["phase"] == "Updating"
    updating = cache.condition("Dataset", "Updating")
    assert (updating["status"], updating["reason"]) == ("True", "DatasetUpdating")
    assert "(/archive/logs, /data -> /data, /new)" in updating["message"]
    assert cache.dataset["mounts"] != new

    cache.exec.reply(MOUNT, '{"mounted": ["/new", "/data"]}')
    assert cache.reconcile()

    assert cache.dataset["phase"] == "Bound"
    assert cache.dataset["mounts"] == new
    assert all(c["type"] != "Updating" for c in cache.dataset["conditions"])
    assert cache.condition("Dataset", "Ready")["status"] == "True"  # not upstream's False
    assert cache.obj("CacheRuntime")["status"]["mountTime"] > "2026-01-01T00:01:00Z"


def test_a_mount_change_that_keeps_the_paths_needs_no_mount(cache: Cache) -> None:
    assert cache.bring_up()
    mounts = copy.deepcopy(cache.obj("Dataset")["spec"]["mounts"])
    mounts[0]["options"] = {"endpoint": "http://other:9000"}
    change_mounts(cache, mounts)

    cache.reconcile()

    assert len(cache.runs(MOUNT)) == 1
    assert cache.dataset["mounts"] == mounts
    assert cache.dataset["phase"] == "Bound"


def test_a_master_restarted_after_the_mounts_mounts_again(cache: Cache) -> None:
    assert cache.bring_up()
    cache.obj("CacheRuntime")["status"]["mountTime"] = "2026-01-01T00:01:00Z"
    cache.reconcile()
    assert len(cache.runs(MOUNT)) == 1

    cache.ready("master", started="2026-01-01T00:02:00Z", restarts=1)
    cache.reconcile()

    assert len(cache.runs(MOUNT)) == 2
    assert cache.dataset["phase"] == "Bound"
    assert cache.obj("CacheRuntime")["status"]["mountTime"] > "2026-01-01T00:02:00Z"
    cache.reconcile()
    assert len(cache.runs(MOUNT)) == 2  # mounted after the restart: nothing more to do


def test_a_master_restarted_in_the_second_of_its_mounts_mounts_again(cache: Cache) -> None:
    assert cache.bring_up()
    mounted_at = cache.obj("CacheRuntime")["status"]["mountTime"]

    cache.ready("master", started=mounted_at, restarts=1)
    cache.reconcile()

    assert len(cache.runs(MOUNT)) == 2


def test_after_a_manager_restart_a_master_started_after_the_mount_time_mounts_again(
    cache: Cache,
) -> None:
    assert cache.bring_up()
    cache.obj("CacheRuntime")["status"]["mountTime"] = "2026-01-01T00:01:00Z"
    cache.engine = cache.new_engine(cache.exec)  # a new manager's: it did not mount
    cache.reconcile()
    assert len(cache.runs(MOUNT)) == 1  # started (STARTED) before the mounts

    cache.ready("master", started="2026-01-01T00:02:00Z")
    cache.reconcile()

    assert len(cache.runs(MOUNT)) == 2


def test_an_unhealthy_cache_is_not_mounted_again_until_it_recovers(cache: Cache) -> None:
    assert cache.bring_up()
    change_mounts(cache, [{"name": "data", "mountPoint": "s3://bucket/data"}])
    cache.client.set_status("StatefulSet", "exec-demo-master", "default", readyReplicas=0)

    with pytest.raises(EngineError) as raised:
        cache.reconcile()

    assert raised.value.reason == "RuntimeNotHealthy"
    assert len(cache.runs(MOUNT)) == 1
    assert cache.dataset["phase"] == "Failed"

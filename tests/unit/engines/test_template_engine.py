"""TemplateEngine calls an Implement in Fluid's fixed Setup and Sync orders."""

from __future__ import annotations

import abc
from typing import Any

import pytest

from fluidpy.engines.base import (
    BaseImplement,
    Implement,
    TemplateEngine,
    UFSToUpdate,
    go_name,
    interface_methods,
)
from fluidpy.engines.base.context import ReconcileRequestContext


def _recorder(name: str) -> Any:
    def method(self: RecordingImplement, *_: Any) -> Any:
        self.calls.append(name)
        return self.answers.get(name, 0 if name.endswith(("bytes", "nums")) else None)

    method.__name__ = name
    return method


class RecordingImplement(Implement):
    """Answers from a table and records every call, in order."""

    def __init__(self, **answers: Any) -> None:
        self.calls: list[str] = []
        self.answers: dict[str, Any] = {
            "should_setup_master": True,
            "check_master_ready": True,
            "should_check_ufs": True,
            "should_setup_workers": True,
            "check_workers_ready": True,
            "check_and_update_runtime_status": True,
            "sync_runtime": False,
            "should_sync_dataset_mounts": False,
            "should_update_ufs": None,
            "update_on_ufs_change": True,
            "check_runtime_ready": True,
            "assign_nodes_to_cache": 1,
        }
        self.answers.update(answers)


for _name in interface_methods(Implement):
    setattr(RecordingImplement, _name, _recorder(_name))
abc.update_abstractmethods(RecordingImplement)


CTX: Any = object.__new__(ReconcileRequestContext)


def test_setup_runs_every_step_in_fluids_order_when_all_is_ready() -> None:
    implement = RecordingImplement()

    assert TemplateEngine(lambda _: implement, "ns-name").setup(CTX) is True
    assert implement.calls == [
        "should_setup_master",
        "setup_master",
        "check_master_ready",
        "should_check_ufs",
        "prepare_ufs",
        "should_setup_workers",
        "setup_workers",
        "check_workers_ready",
        "check_and_update_runtime_status",
        "bind_to_dataset",
    ]


@pytest.mark.parametrize(
    ("not_ready", "last_call"),
    [
        ("check_master_ready", "check_master_ready"),
        ("check_workers_ready", "check_workers_ready"),
        ("check_and_update_runtime_status", "check_and_update_runtime_status"),
    ],
)
def test_setup_stops_and_reports_not_ready_at_the_first_gate_that_is_closed(
    not_ready: str, last_call: str
) -> None:
    implement = RecordingImplement(**{not_ready: False})

    assert TemplateEngine(lambda _: implement, "ns-name").setup(CTX) is False
    assert implement.calls[-1] == last_call
    assert "bind_to_dataset" not in implement.calls


def test_setup_skips_steps_their_should_method_declines() -> None:
    implement = RecordingImplement(
        should_setup_master=False, should_check_ufs=False, should_setup_workers=False
    )

    TemplateEngine(lambda _: implement, "ns-name").setup(CTX)

    assert not {"setup_master", "prepare_ufs", "setup_workers"} & set(implement.calls)


def test_sync_runs_every_step_in_order_when_slow_probes_are_due() -> None:
    implement = RecordingImplement(
        should_sync_dataset_mounts=True, should_update_ufs=UFSToUpdate(to_add=["/new"])
    )

    TemplateEngine(lambda _: implement, "ns-name").sync(CTX)

    assert implement.calls == [
        "sync_metadata",
        "sync_replicas",
        "sync_runtime",
        "check_runtime_healthy",
        "check_and_update_runtime_status",
        "update_cache_of_dataset",
        "should_sync_dataset_mounts",
        "sync_dataset_mounts",
        "should_update_ufs",
        "update_on_ufs_change",
        "update_dataset_status",
        "sync_schedule_info_to_cache_nodes",
    ]


def test_sync_stops_after_sync_runtime_changed_something() -> None:
    implement = RecordingImplement(sync_runtime=True)

    TemplateEngine(lambda _: implement, "ns-name").sync(CTX)

    assert implement.calls == ["sync_metadata", "sync_replicas", "sync_runtime"]


def test_slow_probes_run_at_most_once_per_interval() -> None:
    clock = [100.0]
    implement = RecordingImplement()
    engine = TemplateEngine(
        lambda _: implement, "ns-name", sync_interval=10.0, clock=lambda: clock[0]
    )

    assert engine.sync(CTX) == 10.0
    clock[0] += 4
    implement.calls.clear()
    assert engine.sync(CTX) == 6.0
    assert "sync_metadata" not in implement.calls
    assert "check_and_update_runtime_status" not in implement.calls
    assert "update_cache_of_dataset" in implement.calls

    clock[0] += 6
    implement.calls.clear()
    engine.sync(CTX)
    assert implement.calls[0] == "sync_metadata"


def test_without_a_sync_interval_every_pass_probes_and_nothing_is_timed() -> None:
    implement = RecordingImplement()
    engine = TemplateEngine(lambda _: implement, "ns-name")

    assert engine.sync(CTX) is None
    assert engine.sync(CTX) is None
    assert implement.calls.count("sync_metadata") == 2


def test_an_implement_missing_methods_fails_at_construction_naming_each_one() -> None:
    class HalfDone(Implement):
        def check_master_ready(self) -> bool:
            return True

    with pytest.raises(TypeError) as error:
        HalfDone()  # type: ignore[abstract]

    message = str(error.value)
    assert "HalfDone cannot be built" in message
    assert "setup_workers (SetupWorkers)" in message
    assert "prepare_ufs (PrepareUFS)" in message
    assert "total_file_nums (TotalFileNums)" in message
    assert "check_master_ready" not in message


def test_implement_declares_the_seeds_methods_and_upstreams_newer_ones() -> None:
    seed = [
        "CheckMasterReady",
        "CheckWorkersReady",
        "ShouldSetupMaster",
        "ShouldSetupWorkers",
        "ShouldCheckUFS",
        "SetupMaster",
        "SetupWorkers",
        "UpdateDatasetStatus",
        "PrepareUFS",
        "Shutdown",
        "AssignNodesToCache",
        "CheckRuntimeHealthy",
        "UpdateCacheOfDataset",
        "CheckAndUpdateRuntimeStatus",
        "CreateVolume",
        "SyncReplicas",
        "SyncMetadata",
        "DeleteVolume",
        "BindToDataset",
        "UsedStorageBytes",
        "FreeStorageBytes",
        "TotalStorageBytes",
        "TotalFileNums",
    ]
    newer = [
        "Validate",
        "CheckRuntimeReady",
        "SyncRuntime",
        "ShouldSyncDatasetMounts",
        "SyncDatasetMounts",
        "ShouldUpdateUFS",
        "UpdateOnUFSChange",
        "SyncScheduleInfoToCacheNodes",
    ]

    declared = sorted(go_name(name) for name in interface_methods(Implement))

    assert declared == sorted(seed + newer)


def test_every_step_gets_an_implement_built_for_its_own_context() -> None:
    served: list[Any] = []

    class Bound(RecordingImplement):
        def __init__(self, ctx: Any) -> None:
            super().__init__()
            self.ctx = ctx
            served.append(ctx)

    first, second = object.__new__(ReconcileRequestContext), CTX
    engine = TemplateEngine(Bound, "ns-name")
    engine.setup(first)
    engine.sync(second)

    assert served == [first, second]


class OneConfigMap(BaseImplement):
    def setup_master(self) -> None:
        pass

    def check_master_ready(self) -> bool:
        return True


def test_base_implement_leaves_only_the_cache_itself_to_write() -> None:
    class Empty(BaseImplement):
        pass

    with pytest.raises(TypeError) as error:
        Empty(CTX)  # type: ignore[abstract]

    message = str(error.value)
    assert "check_master_ready (CheckMasterReady)" in message
    assert "setup_master (SetupMaster)" in message
    assert "2 method(s)" in message


def test_base_implement_answers_as_a_single_piece_cache_with_nothing_to_mount() -> None:
    implement = OneConfigMap(CTX)

    assert implement.ctx is CTX
    assert implement.should_setup_master() is True
    assert (implement.should_check_ufs(), implement.should_setup_workers()) == (False, False)
    assert (implement.check_workers_ready(), implement.check_and_update_runtime_status()) == (
        True,
        True,
    )
    assert implement.sync_runtime(CTX) is False
    assert implement.should_update_ufs() is None
    assert implement.assign_nodes_to_cache(3) == 3
    assert implement.total_file_nums() == 0

"""When a DataLoad runs: after its Dataset is bound, one per Dataset in creation order, per Cron
tick; and what stops it: a deleted Dataset, a spec or a class that cannot work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from fluidpy.controllers.dataload import DATALOAD, JOB, parse_time
from fluidpy.controllers.kinds import DATASET
from fluidpy.testing import wait_for

pytestmark = pytest.mark.integration

Kube = Any


@pytest.fixture
def clock(dataload_clock: Any) -> Iterator[Any]:
    """The controller's clock, at real time when the test starts."""
    dataload_clock.offset = timedelta()
    yield dataload_clock
    dataload_clock.offset = timedelta()


def held(kube: Kube, label: str) -> dict[str, Any]:
    """Spec fields that keep the loader pod unscheduled until a node carries `label`."""
    return {"nodeSelector": {label: "true"}}


def test_a_dataload_on_a_dataset_that_is_not_bound_waits_and_starts_by_itself(
    kube: Kube,
) -> None:
    kube.create(kube.dataload("early", "later"))

    kube.wait_condition("early", "Waiting", "DatasetNotFound")
    assert kube.load("early")["status"]["phase"] == "Pending"

    kube.cache_runtime("later", loader=kube.LOADER)

    kube.wait_phase("early", "Complete")
    assert len(kube.jobs("early")) == 1


def test_dataloads_on_one_dataset_run_one_at_a_time_in_creation_order(kube: Kube) -> None:
    kube.bound_runtime("cache", "shared")
    label = f"dataload-hold-{kube.namespace}"
    kube.create(kube.dataload("first", "shared", **held(kube, label)))
    kube.wait_phase("first", "Executing")
    kube.create(kube.dataload("second", "shared"))
    kube.create(kube.dataload("third", "shared"))

    for name in ("second", "third"):
        waiting = kube.wait_condition(name, "Waiting", "WaitingForDataLoad")
        assert "DataLoad first is running on Dataset shared" in waiting["message"]
        assert kube.jobs(name) == []
    dataset = kube.get(DATASET, "shared")
    assert dataset["status"]["operationRef"] == {"DataLoad": "first"}

    kube.label_node(label)

    finished = [kube.wait_phase(name, "Complete") for name in ("first", "second", "third")]
    ends = [load["status"]["conditions"][0]["lastTransitionTime"] for load in finished]
    [second_job] = kube.jobs("second")
    [third_job] = kube.jobs("third")
    assert second_job["metadata"]["creationTimestamp"] >= ends[0]
    assert third_job["metadata"]["creationTimestamp"] >= ends[1]
    assert (kube.get(DATASET, "shared")["status"].get("operationRef") or {}) == {}


def test_a_dataset_deleted_while_its_dataload_runs_stops_it_and_says_why(kube: Kube) -> None:
    kube.bound_runtime("cache", "doomed")
    kube.create(kube.dataload("orphan", "doomed", **held(kube, f"never-{kube.namespace}")))
    kube.wait_phase("orphan", "Executing")
    assert len(kube.jobs("orphan")) == 1

    kube.client.delete(DATASET, "doomed", kube.namespace)

    load = kube.wait_phase("orphan", "Failed")
    [failed] = load["status"]["conditions"]
    assert failed["reason"] == "DatasetDeleted"
    assert "was deleted while this DataLoad ran" in failed["message"]
    wait_for(lambda: not kube.client.list(JOB, kube.namespace), "the loader Job to go")
    kube.wait_warning("orphan", "DatasetDeleted")


def test_a_cron_dataload_runs_once_per_schedule_tick(kube: Kube, clock: Any) -> None:
    kube.bound_runtime("cache", "nightly")
    clock.advance(-30)  # the first tick cannot come due before the test has seen it pending
    kube.create(kube.dataload("every-minute", "nightly", policy="Cron", schedule="* * * * *"))

    kube.wait_condition("every-minute", "Waiting", "WaitingForSchedule")
    assert kube.jobs("every-minute") == []

    clock.advance(90)
    kube.poke("every-minute")
    first = kube.wait_phase("every-minute", "Complete")["status"]
    assert first["lastScheduleTime"].endswith(":00Z")
    assert first["lastSuccessfulTime"]
    assert len(kube.jobs("every-minute")) == 1

    clock.advance(60)
    kube.poke("every-minute")

    def second_run() -> dict[str, Any] | None:
        status = kube.load("every-minute").get("status") or {}
        later = status.get("lastScheduleTime", "") > first["lastScheduleTime"]
        return status if later and status.get("phase") == "Complete" else None

    second = wait_for(second_run, "a second Cron run to complete", timeout=150)
    jobs = kube.jobs("every-minute")
    assert [job["metadata"]["name"] for job in jobs] == [
        f"every-minute-loader-job-{minutes(first['lastScheduleTime'])}",
        f"every-minute-loader-job-{minutes(second['lastScheduleTime'])}",
    ]
    assert all(job["status"].get("succeeded") == 1 for job in jobs)


def minutes(timestamp: str) -> int:
    return int(parse_time(timestamp).timestamp()) // 60


def test_a_cron_dataload_between_ticks_does_not_hold_back_later_ones(
    kube: Kube, clock: Any
) -> None:
    kube.bound_runtime("cache", "mixed")
    clock.advance(-30)  # no tick can come due during the test
    kube.create(kube.dataload("hourly", "mixed", policy="Cron", schedule="@hourly"))
    kube.wait_condition("hourly", "Waiting", "WaitingForSchedule")

    kube.create(kube.dataload("now", "mixed"))

    kube.wait_phase("now", "Complete")
    assert kube.jobs("hourly") == []


def test_a_finished_dataload_is_deleted_once_its_ttl_has_passed(kube: Kube, clock: Any) -> None:
    kube.bound_runtime("cache", "brief")
    kube.create(kube.dataload("short-lived", "brief", ttlSecondsAfterFinished=3600))
    kube.wait_phase("short-lived", "Complete")

    kube.poke("short-lived")
    assert kube.get(DATALOAD, "short-lived") is not None

    clock.advance(3601)
    kube.poke("short-lived")

    wait_for(lambda: kube.get(DATALOAD, "short-lived") is None, "the DataLoad to be deleted")


@pytest.mark.parametrize(
    ("spec", "reason", "words"),
    [
        (
            {"dataset": {"name": "data", "namespace": "elsewhere"}},
            "TargetDatasetNamespaceNotSame",
            "a DataLoad loads a Dataset of its own namespace",
        ),
        (
            {"dataset": {"name": "data"}, "policy": "Cron", "schedule": "every night"},
            "InvalidSchedule",
            "spec.schedule: 'every night' has 2 fields",
        ),
        (
            {"dataset": {"name": "data"}, "runAfter": {"kind": "DataLoad", "name": "other"}},
            "DataOperationNotValid",
            "spec.runAfter is not supported",
        ),
    ],
    ids=["namespace", "schedule", "runAfter"],
)
def test_a_spec_that_cannot_work_fails_with_a_condition_naming_the_field(
    kube: Kube, spec: dict[str, Any], reason: str, words: str
) -> None:
    kube.create({**kube.dataload("bad", "data"), "spec": spec})

    load = kube.wait_phase("bad", "Failed")

    [failed] = load["status"]["conditions"]
    assert (failed["type"], failed["reason"]) == ("Failed", reason)
    assert words in failed["message"]
    kube.wait_warning("bad", reason)
    assert kube.jobs("bad") == []


@pytest.mark.parametrize(
    ("loader", "reason", "fix"),
    [
        (None, "DataOperationNotSupported", "add a dataOperationSpecs entry named DataLoad"),
        (
            {"image": "demofs/loader:1.0"},
            "DataOperationExecutionFailed",
            "give it the command that loads $FLUID_DATALOAD_DATA_PATH",
        ),
    ],
    ids=["no-entry", "no-command"],
)
def test_a_class_that_cannot_load_fails_the_dataload_with_the_fix(
    kube: Kube, loader: dict[str, Any] | None, reason: str, fix: str
) -> None:
    kube.cache_runtime("plain", loader=loader)
    kube.wait_bound("plain")
    kube.create(kube.dataload("refused", "plain"))

    load = kube.wait_phase("refused", "Failed")

    [failed] = load["status"]["conditions"]
    assert failed["reason"] == reason
    assert fix in failed["message"]
    kube.wait_warning("refused", reason)
    assert kube.jobs("refused") == []
    assert (kube.get(DATASET, "plain")["status"].get("operationRef") or {}) == {}


def test_a_dataload_deleted_and_created_again_under_its_name_runs_again(kube: Kube) -> None:
    kube.bound_runtime("cache", "again")
    kube.create(kube.dataload("redo", "again", **held(kube, f"never-{kube.namespace}")))
    kube.wait_phase("redo", "Executing")
    [old_job] = kube.jobs("redo")

    kube.client.delete(DATALOAD, "redo", kube.namespace)
    wait_for(lambda: kube.get(DATALOAD, "redo") is None, "the DataLoad to go")
    kube.create(kube.dataload("redo", "again"))

    kube.wait_phase("redo", "Complete")
    [new_job] = kube.jobs("redo")
    assert new_job["metadata"]["uid"] != old_job["metadata"]["uid"]

"""Execution entries: which entry runs where, how its output reads, when it must run again.

The last tests run the execution-entries sample's own scripts with the host's /bin/sh against
the runtime config the engine renders for the sample, so the sample stays a working example.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fluidpy.api.v1alpha1.cacheruntimeclass import ExecutionEntry
from fluidpy.engines.base.exec import UnexpectedOutput
from fluidpy.engines.cacheruntime.execution import (
    Container,
    entry_timeout,
    first_pod,
    mount_mismatch,
    mount_paths,
    mount_ufs_entry,
    parse_mounted,
    parse_summary,
    remount_reason,
    report_summary_entry,
    running_container,
    seconds_until_report,
)
from fluidpy.engines.cacheruntime.plan import Plan
from fluidpy.engines.cacheruntime.render.config import config_text, runtime_config

SAMPLE = "execution-entries.yaml"


@pytest.fixture
def sample(samples: Any) -> dict[str, dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = samples(SAMPLE)
    return objects


def plan_with(plans: Any, objects: dict[str, dict[str, Any]]) -> Plan:
    plan: Plan = plans(objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"])
    return plan


# Which entry, where ------------------------------------------------------------------------


def test_mount_ufs_is_the_masters_with_its_timeout(plans: Any, sample: Any) -> None:
    entry = mount_ufs_entry(plan_with(plans, sample))

    assert entry is not None
    assert (entry.component, entry.workload, entry.timeout) == ("master", "exec-demo-master", 60)
    assert entry.command[:2] == ("/bin/sh", "-c")
    assert entry.field == "CacheRuntimeClass demo-exec topology.master.executionEntries.mountUFS"


def test_a_timeout_below_twenty_seconds_or_none_is_twenty(plans: Any, sample: Any) -> None:
    entries = sample["CacheRuntimeClass"]["topology"]["master"]["executionEntries"]
    entries["mountUFS"]["timeout"] = 3

    mount = mount_ufs_entry(plan_with(plans, sample))
    report = report_summary_entry(plan_with(plans, sample))

    assert mount is not None and mount.timeout == 20
    assert report is not None and report.timeout == 20  # the sample gives none


def test_a_runtime_whose_master_is_disabled_mounts_nothing(plans: Any, sample: Any) -> None:
    sample["CacheRuntime"]["spec"]["master"]["disabled"] = True

    assert mount_ufs_entry(plan_with(plans, sample)) is None


def test_without_a_master_the_workers_report_the_figures(plans: Any, sample: Any) -> None:
    topology = sample["CacheRuntimeClass"]["topology"]
    topology["worker"]["executionEntries"] = topology.pop("master")["executionEntries"]
    del sample["CacheRuntime"]["spec"]["master"]

    plan = plan_with(plans, sample)
    report = report_summary_entry(plan)

    assert mount_ufs_entry(plan) is None  # mountUFS is the master's only
    assert report is not None
    assert (report.component, report.workload) == ("worker", "exec-demo-worker")


def test_a_class_without_entries_has_none(plans: Any, samples: Any) -> None:
    plan = plan_with(plans, samples("masterslave.yaml"))

    assert mount_ufs_entry(plan) is None
    assert report_summary_entry(plan) is None


def test_an_entry_timeout_is_read_as_seconds() -> None:
    assert entry_timeout(ExecutionEntry.model_validate({"command": ["x"], "timeout": 45})) == 45
    assert entry_timeout(ExecutionEntry.model_validate({"command": ["x"]})) == 20


# Reading outputs ---------------------------------------------------------------------------


def test_mount_ufs_output_is_the_set_of_mounted_paths() -> None:
    assert parse_mounted('{"mounted": ["/data", "/logs", "/data"]}\n') == {"/data", "/logs"}
    assert parse_mounted('{"mounted": []}') == frozenset()


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("", "printed nothing"),
        ("  \n", "printed nothing"),
        ("mounted /data", "not the JSON object"),
        ('["/data"]', "not the JSON object"),
        ('{"mounted": "/data"}', "not a list of paths"),
        ('{"mounted": [1]}', "not a list of paths"),
        ('{"paths": ["/data"]}', "not a list of paths"),
    ],
)
def test_anything_else_from_mount_ufs_is_an_error_quoting_it(output: str, problem: str) -> None:
    with pytest.raises(UnexpectedOutput) as raised:
        parse_mounted(output)

    message = str(raised.value)
    assert "mountUFS" in message and problem in message
    assert (output.strip() or "<empty>") in message


def test_a_bad_output_is_quoted_up_to_200_bytes() -> None:
    output = "x" * 199 + "é" + "tail that is not shown"

    with pytest.raises(UnexpectedOutput) as raised:
        parse_mounted(output)

    assert str(raised.value).endswith("x" * 199 + "\ufffd...")
    assert "tail" not in str(raised.value)


def test_report_summary_output_gives_the_four_figures() -> None:
    output = (
        '{"cached": "1.5GiB", "cachedPercentage": "37.5%", "cacheCapacity": "4GiB",'
        ' "cacheHitRatio": "88.0%", "extra": 1}'
    )

    assert parse_summary(output) == {
        "cached": "1.5GiB",
        "cachedPercentage": "37.5%",
        "cacheCapacity": "4GiB",
        "cacheHitRatio": "88.0%",
    }


def test_a_figure_the_cache_system_does_not_know_is_empty() -> None:
    assert parse_summary('{"cached": "0B", "cacheCapacity": "1GiB"}') == {
        "cached": "0B",
        "cachedPercentage": "",
        "cacheCapacity": "1GiB",
        "cacheHitRatio": "",
    }


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("", "printed nothing"),
        ("cached: 1GiB", "not the JSON object"),
        ('{"used": "1GiB"}', "none of the fields"),
        ('{"cached": 1024, "cacheCapacity": "1GiB"}', "cached must be strings"),
    ],
)
def test_anything_else_from_report_summary_is_an_error(output: str, problem: str) -> None:
    with pytest.raises(UnexpectedOutput) as raised:
        parse_summary(output)

    assert "reportSummary" in str(raised.value) and problem in str(raised.value)


# What must run again -----------------------------------------------------------------------

DATA = {"name": "data", "mountPoint": "s3://bucket/data"}
LOGS = {"name": "logs", "mountPoint": "s3://bucket/logs", "path": "/archive/logs"}


def test_a_mount_appears_at_its_absolute_path_or_at_slash_name() -> None:
    local = {"mountPoint": "local:///mnt/files"}

    assert mount_paths([DATA, LOGS, local]) == {"/data", "/archive/logs", "/files"}
    assert mount_paths(None) == frozenset()


def test_the_cache_must_report_exactly_the_datasets_paths() -> None:
    expected = frozenset({"/data", "/logs"})

    assert mount_mismatch(frozenset({"/logs", "/data"}), expected) == ""
    assert mount_mismatch(frozenset({"/data"}), expected) == "not mounted: /logs"
    assert mount_mismatch(frozenset({"/data", "/logs", "/old"}), expected) == (
        "mounted but not in the Dataset: /old"
    )


MOUNTED_AT = "2026-01-01T00:01:00Z"
EARLIER = Container("uid-1/0", "2026-01-01T00:00:00Z")
LATER = Container("uid-2/0", "2026-01-01T00:02:00Z")


def test_nothing_runs_again_while_paths_and_the_master_are_unchanged() -> None:
    options_changed = [{**DATA, "options": {"endpoint": "http://other"}}]

    assert remount_reason(options_changed, [DATA], EARLIER, MOUNTED_AT) == ""
    assert remount_reason([DATA], [DATA], None, MOUNTED_AT) == ""
    assert remount_reason([DATA], [DATA], LATER, MOUNTED_AT, mounted_in="uid-2/0") == ""


def test_a_changed_mount_path_runs_mount_ufs_again() -> None:
    renamed = [{**DATA, "path": "/datasets/data"}]

    assert remount_reason(renamed, [DATA], EARLIER, MOUNTED_AT) == (
        "the Dataset's mount paths changed (/data -> /datasets/data)"
    )
    assert "(none -> /data)" in remount_reason([DATA], None, None, "")


def test_a_master_started_after_the_mounts_runs_mount_ufs_again() -> None:
    reason = remount_reason([DATA], [DATA], LATER, MOUNTED_AT)

    assert reason == (
        "the master container started at 2026-01-01T00:02:00Z, after the mounts were made"
        " (2026-01-01T00:01:00Z)"
    )
    assert remount_reason([DATA], [DATA], EARLIER, "")


def test_a_master_that_is_not_the_one_that_mounted_runs_mount_ufs_again() -> None:
    """Times have seconds only: a master replaced within the second of its mounts is found by
    its identity, when the engine knows which container mounted."""
    same_second = Container("uid-2/0", MOUNTED_AT)
    restarted = Container("uid-1/1", MOUNTED_AT)

    assert remount_reason([DATA], [DATA], same_second, MOUNTED_AT) == ""  # by time alone
    assert remount_reason([DATA], [DATA], same_second, MOUNTED_AT, mounted_in="uid-1/0")
    assert remount_reason([DATA], [DATA], restarted, MOUNTED_AT, mounted_in="uid-1/0")


def pod(name: str, phase: str = "Running", **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, **extra.pop("metadata", {})},
        "spec": {"containers": [{"name": "master"}, {"name": "sidecar"}]},
        "status": {"phase": phase, **extra},
    }


def test_an_entry_runs_in_the_first_pod_or_else_the_first_running_one() -> None:
    pods = [pod("demo-master-1"), pod("demo-master-0")]
    assert first_pod(pods, "demo-master") == pods[1]

    starting = [pod("demo-master-0", "Pending"), pod("demo-master-2"), pod("demo-master-1")]
    assert first_pod(starting, "demo-master") == starting[2]

    leaving = [pod("demo-master-0", metadata={"deletionTimestamp": "2026-01-01T00:00:00Z"})]
    assert first_pod(leaving, "demo-master") is None


def test_the_master_container_is_container_zero_while_it_runs() -> None:
    statuses = [
        {"name": "sidecar", "state": {"running": {"startedAt": "2026-01-01T00:09:00Z"}}},
        {
            "name": "master",
            "restartCount": 2,
            "state": {"running": {"startedAt": "2026-01-01T00:05:00Z"}},
        },
    ]
    running = pod("m-0", containerStatuses=statuses, metadata={"uid": "u"})

    assert running_container(running) == Container("u/2", "2026-01-01T00:05:00Z")
    waiting = [{"name": "master", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
    assert running_container(pod("m-0", containerStatuses=waiting)) is None
    assert running_container(None) is None


def test_figures_are_due_once_the_sync_interval_has_passed() -> None:
    assert seconds_until_report(None, 100.0, 5.0) == 0
    assert seconds_until_report(100.0, 102.0, 5.0) == 3
    assert seconds_until_report(100.0, 105.0, 5.0) == 0
    assert seconds_until_report(100.0, 100.0, 0.0) == 0


# The sample's scripts ----------------------------------------------------------------------


def run_entry(command: list[str], environment: dict[str, str]) -> str:
    done = subprocess.run(
        command,
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


def test_the_samples_mount_ufs_prints_the_datasets_paths(
    plans: Any, sample: Any, tmp_path: Path
) -> None:
    plan = plan_with(plans, sample)
    config = tmp_path / "runtime.json"
    config.write_text(config_text(runtime_config(plan, {})))
    entry = mount_ufs_entry(plan)
    assert entry is not None

    output = run_entry(list(entry.command), {"FLUID_RUNTIME_CONFIG_PATH": str(config)})

    assert parse_mounted(output) == mount_paths(sample["Dataset"]["spec"]["mounts"])
    assert parse_mounted(output) == {"/data", "/archive/logs"}


def test_the_samples_mount_ufs_follows_a_changed_dataset(
    plans: Any, sample: Any, tmp_path: Path
) -> None:
    changed = copy.deepcopy(sample)
    changed["Dataset"]["spec"]["mounts"] = [DATA, {"name": "extra", "mountPoint": "s3://b/x"}]
    plan = plan_with(plans, changed)
    config = tmp_path / "runtime.json"
    config.write_text(config_text(runtime_config(plan, {})))
    entry = mount_ufs_entry(plan)
    assert entry is not None

    output = run_entry(list(entry.command), {"FLUID_RUNTIME_CONFIG_PATH": str(config)})

    assert parse_mounted(output) == {"/data", "/extra"}


def test_the_samples_report_summary_prints_figures(plans: Any, sample: Any, tmp_path: Path) -> None:
    entry = report_summary_entry(plan_with(plans, sample))
    assert entry is not None
    (tmp_path / "block").write_bytes(b"x" * 8192)
    # The script measures the master's /cache; here, a directory of the test's own.
    command = [part.replace("/cache", str(tmp_path)) for part in entry.command]

    figures = parse_summary(run_entry(command, {}))

    assert figures["cached"].endswith("KiB") and int(figures["cached"][:-3]) >= 8
    assert figures["cacheCapacity"].endswith("KiB") and int(figures["cacheCapacity"][:-3]) > 0
    assert figures["cachedPercentage"].endswith("%")
    assert figures["cacheHitRatio"] == "0.0%"

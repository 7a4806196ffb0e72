"""The Alluxio CLI wrapper: which commands run, and what their recorded output becomes.

The transport is a RecordedExec answering with the recorded outputs in outputs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fluidpy.api.v1alpha1.alluxio import AlluxioRuntime
from fluidpy.context import Context
from fluidpy.engines.alluxio.cli import AlluxioCLI, mount_command
from fluidpy.engines.alluxio.engine import ignored_fields
from fluidpy.engines.base.exec import ExecError, PodTarget, RecordedExec, Reply
from fluidpy.engines.base.units import bytes_size
from fluidpy.engines.masterworker.ufs import UfsMount

OUTPUTS = Path(__file__).parent / "outputs"
CTX = Context.background()
SUMMARY = ("alluxio", "fsadmin", "report", "summary")
METRICS = ("alluxio", "fsadmin", "report", "metrics")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cli(
    replies: dict[tuple[str, ...], Reply | list[Reply]], clock: Clock | None = None
) -> AlluxioCLI:
    transport = RecordedExec(replies)
    target = PodTarget(transport, "default", "spark-master-0", "alluxio-master")
    return AlluxioCLI(target, mount_timeout=60, clock=clock or Clock())


def recorded(name: str) -> str:
    return (OUTPUTS / name).read_text()


def test_usage_reports_capacity_and_samples_metrics_at_most_once_a_minute() -> None:
    clock = Clock()
    alluxio = cli(
        {
            SUMMARY: recorded("report-summary.txt"),
            METRICS: [recorded("report-metrics.txt"), recorded("report-metrics-later.txt")],
        },
        clock,
    )

    first = alluxio.usage(CTX)
    clock.now += 30
    again = alluxio.usage(CTX)
    clock.now += 30
    later = alluxio.usage(CTX)

    assert (bytes_size(first.capacity), bytes_size(first.cached)) == ("19.07MiB", "9.69MiB")
    assert "cacheHitRatio" not in first.extra
    assert again.extra == first.extra
    assert later.extra["cacheHitRatio"] == "75.0%"
    transport = alluxio.target.transport
    assert isinstance(transport, RecordedExec)
    assert transport.commands().count(METRICS) == 2


def test_count_loads_metadata_then_counts_the_root() -> None:
    alluxio = cli(
        {
            ("alluxio", "fs", "loadMetadata", "-R", "/"): "",
            ("alluxio", "fs", "count", "/"): recorded("count.txt"),
        }
    )

    usage = alluxio.count(CTX, ["/zookeeper"])

    assert (usage.files, usage.total_bytes) == (6, 571808)


def test_mounted_lists_the_paths_of_the_mount_table() -> None:
    alluxio = cli({("alluxio", "fs", "mount"): recorded("mount.txt")})

    assert alluxio.mounted(CTX) == {"/", "/zookeeper"}


def test_free_is_bounded_inside_the_pod_by_the_grace_period() -> None:
    command = ("timeout", "60", "alluxio", "fs", "free", "-f", "/")
    alluxio = cli({command: ""})

    alluxio.free(CTX, 60.0)

    transport = alluxio.target.transport
    assert isinstance(transport, RecordedExec)
    assert transport.commands() == [command]


def test_a_mount_command_carries_flags_and_options_in_alluxios_order() -> None:
    mount = UfsMount(
        path="/train",
        ufs="s3://bucket/train/",
        options={"alluxio.underfs.s3.endpoint": "https://s3"},
        read_only=True,
        shared=True,
    )

    assert mount_command(mount) == [
        "alluxio", "fs", "mount", "--readonly", "--shared",
        "--option", "alluxio.underfs.s3.endpoint=https://s3",
        "/train", "s3://bucket/train/",
    ]  # fmt: skip


def test_a_failed_mount_with_credentials_does_not_show_them() -> None:
    mount = UfsMount(
        path="/train", ufs="s3://b/", options={"aws.secretKey": "s3cr3t"},
        secret_keys=frozenset({"aws.secretKey"}),
    )  # fmt: skip
    alluxio = cli({})

    with pytest.raises(ExecError) as raised:
        alluxio.mount(CTX, mount)

    assert "s3cr3t" not in str(raised.value)


def test_fields_not_acted_on_are_reported_not_dropped() -> None:
    runtime = AlluxioRuntime.from_dict(
        {
            "metadata": {"name": "spark"},
            "spec": {
                "initUsers": {"image": "x"},
                "data": {"pin": True},
                "master": {"networkMode": "HostNetwork"},
                "jobWorker": {"enabled": False},
                "apiGateway": {"enabled": False},
                "somethingNew": "kept",
            },
        }
    )

    assert ignored_fields(runtime) == [
        "spec.somethingNew",
        "spec.initUsers",
        "spec.data.pin",
        "spec.master.networkMode (pods use the pod network)",
        "spec.jobWorker.enabled (the jobWorker always runs)",
    ]

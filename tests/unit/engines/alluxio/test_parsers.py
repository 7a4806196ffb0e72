"""The Alluxio CLI parsers read real output and refuse empty or malformed output clearly.

outputs/ holds recorded outputs of Alluxio 2.9 commands, in the formats upstream Fluid parses
(fluid-runtime-upstream.md §6.1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fluidpy.engines.alluxio.parsers import (
    ReadMetrics,
    hit_ratios,
    parse_count,
    parse_metrics,
    parse_mount_table,
    parse_report_summary,
)
from fluidpy.engines.base.exec import UnexpectedOutput
from fluidpy.engines.base.units import bytes_size
from fluidpy.engines.masterworker.cache_system import UfsUsage

OUTPUTS = Path(__file__).parent / "outputs"
MIB = 1024**2
GIB = 1024**3


def output(name: str) -> str:
    return (OUTPUTS / name).read_text()


def test_report_summary_gives_total_and_used_capacity_as_fluid_shows_them() -> None:
    capacity, used = parse_report_summary(output("report-summary.txt"))

    assert (bytes_size(capacity), bytes_size(used)) == ("19.07MiB", "9.69MiB")


@pytest.mark.parametrize("text", ["", "   \n\n"])
def test_an_empty_report_summary_is_an_error_not_zero(text: str) -> None:
    with pytest.raises(UnexpectedOutput, match="printed nothing"):
        parse_report_summary(text)


def test_a_report_summary_without_used_capacity_names_the_missing_line() -> None:
    text = "Alluxio cluster summary:\n    Total Capacity: 2.00GB\n"

    with pytest.raises(UnexpectedOutput, match="no Used Capacity: line"):
        parse_report_summary(text)


def test_a_report_summary_with_an_unreadable_size_quotes_it() -> None:
    text = "    Total Capacity: lots\n    Used Capacity: 0B\n"

    with pytest.raises(UnexpectedOutput, match="'lots' is not a size"):
        parse_report_summary(text)


def test_mount_table_maps_each_mounted_path_to_its_under_file_system() -> None:
    assert parse_mount_table(output("mount.txt")) == {
        "/zookeeper": "https://downloads.apache.org/zookeeper/stable/",
        "/": "/underFSStorage",
    }


def test_a_mount_table_line_without_on_is_an_error() -> None:
    with pytest.raises(UnexpectedOutput, match="is not '<ufs> on <path>'"):
        parse_mount_table("s3://bucket/ mounted somewhere\n")


def test_an_empty_mount_table_is_an_error_because_alluxio_always_has_a_root() -> None:
    with pytest.raises(UnexpectedOutput, match="printed nothing"):
        parse_mount_table("")


def test_count_gives_files_and_bytes() -> None:
    assert parse_count(output("count.txt")) == UfsUsage(total_bytes=571808, files=6)


def test_count_accepts_thousands_separators() -> None:
    text = "File Count  Folder Count  Folder Size\n1,331,167  4,210  52,180,000,000\n"

    assert parse_count(text) == UfsUsage(total_bytes=52_180_000_000, files=1_331_167)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "6 1 571808\n",
        "File Count  Folder Count  Folder Size\n6 1\n",
        "File Count  Folder Count  Folder Size\n6 one 571808\n",
        "File Count  Folder Count  Folder Size\n6 1 571808\n7 1 1\n",
    ],
    ids=["empty", "no-header", "two-fields", "not-a-number", "extra-line"],
)
def test_malformed_count_output_is_an_error(text: str) -> None:
    with pytest.raises(UnexpectedOutput):
        parse_count(text)


def test_metrics_give_read_counters_and_throughputs_in_bytes() -> None:
    metrics = parse_metrics(output("report-metrics.txt"))

    assert metrics == ReadMetrics(
        local=GIB,
        remote=0,
        ufs=int(1.6 * GIB),
        local_throughput=12 * MIB,
        remote_throughput=0,
        ufs_throughput=19 * MIB,
    )


def test_metrics_missing_a_counter_name_it() -> None:
    text = "Cluster.BytesReadLocal  (Type: COUNTER, Value: 0B)\n"

    with pytest.raises(UnexpectedOutput, match=r"no Cluster\.BytesReadRemote"):
        parse_metrics(text)


def test_empty_metrics_are_an_error() -> None:
    with pytest.raises(UnexpectedOutput, match="printed nothing"):
        parse_metrics("")


def test_the_first_metrics_sample_gives_throughput_ratios_only() -> None:
    ratios = hit_ratios(None, parse_metrics(output("report-metrics.txt")))

    assert ratios == {
        "localThroughputRatio": "38.7%",
        "remoteThroughputRatio": "0.0%",
        "cacheThroughputRatio": "38.7%",
    }


def test_hit_ratios_compare_the_bytes_read_since_the_previous_sample() -> None:
    first = parse_metrics(output("report-metrics.txt"))
    later = parse_metrics(output("report-metrics-later.txt"))

    ratios = hit_ratios(first, later)

    assert ratios == {
        "localHitRatio": "50.0%",
        "remoteHitRatio": "25.0%",
        "cacheHitRatio": "75.0%",
        "localThroughputRatio": "75.0%",
        "remoteThroughputRatio": "25.0%",
        "cacheThroughputRatio": "100.0%",
    }


def test_no_reads_since_the_previous_sample_gives_zero_ratios_not_a_division_error() -> None:
    sample = parse_metrics(output("report-metrics-later.txt"))

    ratios = hit_ratios(sample, sample)

    assert ratios["cacheHitRatio"] == "0.0%"
    assert ratios["localHitRatio"] == "0.0%"

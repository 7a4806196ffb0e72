"""The JindoCache CLI parsers read real output and refuse empty or malformed output clearly.

outputs/ holds recorded outputs of JindoCache 6 commands in the formats upstream Fluid parses
(fluid-runtime-upstream.md §6.2): `jindocache -report`, the `-mount` listing and Hadoop-style
`jindo fs -count`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fluidpy.engines.base.exec import UnexpectedOutput
from fluidpy.engines.base.units import bytes_size
from fluidpy.engines.jindo.parsers import parse_count, parse_mount_table, parse_report
from fluidpy.engines.masterworker.cache_system import UfsUsage

OUTPUTS = Path(__file__).parent / "outputs"


def output(name: str) -> str:
    return (OUTPUTS / name).read_text()


def test_a_disk_cache_reports_the_disk_capacity_lines() -> None:
    capacity, used = parse_report(output("report.txt"), "SSD")

    assert (bytes_size(capacity), bytes_size(used)) == ("250.38GiB", "11.72GiB")


def test_a_memory_cache_reports_the_mem_capacity_lines() -> None:
    capacity, used = parse_report(output("report.txt"), "MEM")

    assert (bytes_size(capacity), bytes_size(used)) == ("4.00GiB", "0.00B")


def test_an_empty_report_is_an_error_not_zero() -> None:
    with pytest.raises(UnexpectedOutput, match="printed nothing"):
        parse_report("\n", "MEM")


def test_a_report_without_the_mediums_lines_names_them() -> None:
    text = "Total Disk Capacity: 1.00GB\nUsed Disk Capacity: 0B\n"

    with pytest.raises(UnexpectedOutput, match="no Total MEM Capacity: or Used MEM Capacity:"):
        parse_report(text, "MEM")


def test_a_report_with_an_unreadable_size_quotes_it() -> None:
    with pytest.raises(UnexpectedOutput, match="'N/A' is not a size"):
        parse_report("Total MEM Capacity: N/A\nUsed MEM Capacity: 0B\n", "MEM")


def test_the_mount_listing_gives_the_mounted_paths() -> None:
    assert parse_mount_table(output("mount.txt")) == {"/bucketa", "/bucketb"}


def test_an_empty_mount_listing_means_nothing_is_mounted_yet() -> None:
    assert parse_mount_table("") == set()


@pytest.mark.parametrize("line", ["oss://bucket-a/ on", "oss://bucket-a/ on bucketa"])
def test_a_mount_line_without_a_path_is_an_error(line: str) -> None:
    with pytest.raises(UnexpectedOutput, match="names no path"):
        parse_mount_table(line + "\n")


def test_count_gives_files_and_bytes_from_hadoops_columns() -> None:
    assert parse_count(output("count-bucketa.txt")) == UfsUsage(total_bytes=571808, files=6)


@pytest.mark.parametrize(
    "text",
    ["", "1 6 571808\n", "1 six 571808 jindo:///a\n", "count: jindo:///a: No such file\n"],
    ids=["empty", "no-path", "not-a-number", "error-text"],
)
def test_malformed_count_output_is_an_error(text: str) -> None:
    with pytest.raises(UnexpectedOutput):
        parse_count(text)

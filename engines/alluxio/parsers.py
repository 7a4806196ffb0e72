"""Parsers of the Alluxio CLI's output: pure functions, one per command.

Each one reads exactly the lines it needs, tolerates the rest (Alluxio adds lines between
versions) and raises UnexpectedOutput when what it needs is missing or malformed, never
returning a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fluidpy.engines.base.exec import UnexpectedOutput, output_lines
from fluidpy.engines.base.units import parse_human_bytes, percentage
from fluidpy.engines.masterworker.cache_system import UfsUsage

REPORT_SUMMARY = "alluxio fsadmin report summary"
REPORT_METRICS = "alluxio fsadmin report metrics"
MOUNT_TABLE = "alluxio fs mount"
COUNT = "alluxio fs count /"

_METRIC = re.compile(r"^(?P<name>\S+)\s+\(Type:\s*(?P<type>\w+),\s*Value:\s*(?P<value>[^)]*)\)$")
BYTES_READ_LOCAL = "Cluster.BytesReadLocal"
BYTES_READ_REMOTE = "Cluster.BytesReadRemote"
BYTES_READ_UFS = "Cluster.BytesReadUfsAll"
THROUGHPUT_LOCAL = "Cluster.BytesReadLocalThroughput"
THROUGHPUT_REMOTE = "Cluster.BytesReadRemoteThroughput"
THROUGHPUT_UFS = "Cluster.BytesReadUfsThroughput"


def _size(command: str, text: str, output: str) -> int:
    try:
        return parse_human_bytes(text)
    except ValueError:
        raise UnexpectedOutput(command, f"{text!r} is not a size", output) from None


def parse_report_summary(output: str) -> tuple[int, int]:
    """(capacity, used) bytes from `Total Capacity:` and `Used Capacity:`."""
    found: dict[str, int] = {}
    for line in output_lines(REPORT_SUMMARY, output):
        for key in ("Total Capacity:", "Used Capacity:"):
            if line.startswith(key):
                found[key] = _size(REPORT_SUMMARY, line[len(key) :].strip(), output)
    missing = [key for key in ("Total Capacity:", "Used Capacity:") if key not in found]
    if missing:
        raise UnexpectedOutput(REPORT_SUMMARY, f"no {' or '.join(missing)} line", output)
    return found["Total Capacity:"], found["Used Capacity:"]


def parse_mount_table(output: str) -> dict[str, str]:
    """Mounted path -> under file system, from lines `<ufs>  on  <path>  (<details>)`."""
    table: dict[str, str] = {}
    for line in output_lines(MOUNT_TABLE, output):
        fields = line.split()
        if len(fields) < 3 or fields[1] != "on":
            raise UnexpectedOutput(MOUNT_TABLE, f"line {line!r} is not '<ufs> on <path>'", output)
        table[fields[2]] = fields[0]
    return table


def parse_count(output: str) -> UfsUsage:
    """Files and bytes from the two lines `File Count  Folder Count  Folder Size` and
    `<files>  <folders>  <bytes>`."""
    lines = output_lines(COUNT, output)
    if len(lines) != 2 or not lines[0].startswith("File Count"):
        raise UnexpectedOutput(COUNT, "expected a header line and one line of counts", output)
    fields = lines[1].replace(",", "").split()
    if len(fields) != 3 or not all(f.isdigit() for f in fields):
        raise UnexpectedOutput(COUNT, "expected three whole numbers", output)
    return UfsUsage(total_bytes=int(fields[2]), files=int(fields[0]))


@dataclass(frozen=True)
class ReadMetrics:
    """Bytes read so far from local workers, remote workers and the under file systems, and
    the current read throughputs (bytes per minute) of each."""

    local: int
    remote: int
    ufs: int
    local_throughput: int
    remote_throughput: int
    ufs_throughput: int


def parse_metrics(output: str) -> ReadMetrics:
    """The read counters and gauges from lines `<name>  (Type: <TYPE>, Value: <value>)`."""
    values: dict[str, str] = {}
    for line in output_lines(REPORT_METRICS, output):
        match = _METRIC.match(line)
        if match:
            values[match["name"]] = match["value"].strip()
    needed = (
        BYTES_READ_LOCAL,
        BYTES_READ_REMOTE,
        BYTES_READ_UFS,
        THROUGHPUT_LOCAL,
        THROUGHPUT_REMOTE,
        THROUGHPUT_UFS,
    )
    missing = [name for name in needed if name not in values]
    if missing:
        raise UnexpectedOutput(REPORT_METRICS, f"no {', '.join(missing)}", output)
    local, remote, ufs, local_tp, remote_tp, ufs_tp = (
        _size(REPORT_METRICS, values[name].removesuffix("/MIN"), output) for name in needed
    )
    return ReadMetrics(local, remote, ufs, local_tp, remote_tp, ufs_tp)


def hit_ratios(previous: ReadMetrics | None, current: ReadMetrics) -> dict[str, str]:
    """cacheStates hit and throughput ratios. Hit ratios compare the bytes read since the
    previous sample (so they describe recent reads, not the runtime's whole life) and need one;
    throughput ratios use the current gauges."""
    ratios: dict[str, str] = {}
    if previous is not None:
        local = max(current.local - previous.local, 0)
        remote = max(current.remote - previous.remote, 0)
        total = local + remote + max(current.ufs - previous.ufs, 0)
        ratios["localHitRatio"] = percentage(local, total)
        ratios["remoteHitRatio"] = percentage(remote, total)
        ratios["cacheHitRatio"] = percentage(local + remote, total)
    throughput = current.local_throughput + current.remote_throughput + current.ufs_throughput
    ratios["localThroughputRatio"] = percentage(current.local_throughput, throughput)
    ratios["remoteThroughputRatio"] = percentage(current.remote_throughput, throughput)
    ratios["cacheThroughputRatio"] = percentage(
        current.local_throughput + current.remote_throughput, throughput
    )
    return ratios

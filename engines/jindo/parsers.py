"""Parsers of the JindoCache CLI's output: pure functions, one per command.

Each reads the lines it needs, tolerates the rest, and raises UnexpectedOutput when what it
needs is missing or malformed, never returning a guess.
"""

from __future__ import annotations

from fluidpy.engines.base.exec import UnexpectedOutput, output_lines
from fluidpy.engines.base.units import parse_human_bytes
from fluidpy.engines.masterworker.cache_system import UfsUsage

REPORT = "jindocache -report"
MOUNT_TABLE = "jindocache -mount"
COUNT = "jindo fs -count"
MEMORY = "MEM"


def parse_report(output: str, medium: str) -> tuple[int, int]:
    """(capacity, used) bytes of the medium the cache uses: the `MEM` lines for a memory
    cache, the `Disk` lines otherwise."""
    kind = "MEM" if medium == MEMORY else "Disk"
    keys = (f"Total {kind} Capacity:", f"Used {kind} Capacity:")
    found: dict[str, int] = {}
    for line in output_lines(REPORT, output):
        for key in keys:
            if line.startswith(key):
                text = line[len(key) :].strip()
                try:
                    found[key] = parse_human_bytes(text)
                except ValueError:
                    raise UnexpectedOutput(REPORT, f"{text!r} is not a size", output) from None
    missing = [key for key in keys if key not in found]
    if missing:
        raise UnexpectedOutput(REPORT, f"no {' or '.join(missing)} line", output)
    return found[keys[0]], found[keys[1]]


def parse_mount_table(output: str) -> set[str]:
    """Mounted paths: the third field of each line (`<ufs>  on  <path> ...`), as upstream
    reads it; an empty listing means nothing is mounted yet."""
    paths: set[str] = set()
    for line in output.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 3 or not fields[2].startswith("/"):
            raise UnexpectedOutput(MOUNT_TABLE, f"line {line.strip()!r} names no path", output)
        paths.add(fields[2])
    return paths


def parse_count(output: str) -> UfsUsage:
    """Files and bytes from Hadoop's count line `<dirs> <files> <bytes> <path>`."""
    lines = output_lines(COUNT, output)
    fields = lines[-1].replace(",", "").split()
    if len(fields) < 4 or not all(field.isdigit() for field in fields[:3]):
        raise UnexpectedOutput(COUNT, "expected '<dirs> <files> <bytes> <path>'", output)
    return UfsUsage(total_bytes=int(fields[2]), files=int(fields[1]))

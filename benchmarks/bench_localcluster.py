"""Start-up time of a LocalCluster with warm binaries, and the size of what it runs.

Prints figures; passes or fails nothing. Usage: python benchmarks/bench_localcluster.py [runs]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fluidpy.testing import LocalCluster, find_binaries


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    binaries = find_binaries()
    print(f"binaries: {binaries.directory}")
    for name, path in sorted(binaries.paths.items()):
        real = path.resolve()
        print(f"  {name:24} {real.stat().st_size / 2**20:6.1f} MiB  ({real.name})")
    for nodes in (0, 3):
        times = []
        for _ in range(runs):
            started = time.monotonic()
            cluster = LocalCluster(name="bench", nodes=nodes)
            cluster.start()
            times.append(time.monotonic() - started)
            rss = {name: _rss_mib(pid) for name, pid in cluster.describe()["processes"].items()}
            cluster.stop()
        times.sort()
        print(
            "resident memory after start: "
            + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in rss.items())
            + f"; total {sum(rss.values()):.0f} MiB"
        )
        print(
            f"start-up with {nodes} fake nodes, {runs} runs: median {times[len(times) // 2]:.1f} s,"
            f" min {times[0]:.1f} s, max {times[-1]:.1f} s"
        )


if __name__ == "__main__":
    main()

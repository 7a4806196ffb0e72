"""Round trip of a pod exec into a fake pod (API server, kwok, a host script, and back).

Prints figures; passes or fails nothing. Usage: python benchmarks/bench_kwok_exec.py [execs]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines.base.exec import KubernetesExec
from fluidpy.testing import LocalCluster, wait_for

EXEC_SCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "exec-scripts"
POD = GVK("", "v1", "Pod")


def main() -> None:
    execs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with LocalCluster(name="bench-exec", nodes=1, exec_path=[EXEC_SCRIPTS]) as cluster:
        client = Client(cluster.connection(), qps=0)
        client.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "master-0", "namespace": "default"},
                "spec": {"containers": [{"name": "main", "image": "cache:1"}]},
            }
        )
        wait_for(
            lambda: (
                (client.get(POD, "master-0", "default") or {}).get("status", {}).get("phase")
                == "Running"
            ),
            "the pod running on a fake node",
        )
        transport = KubernetesExec(cluster.connection())
        command = ["report-summary", "1.00GiB", "50.0%", "2.00GiB", "0.9"]
        seconds = []
        for _ in range(execs):
            started = time.monotonic()
            transport.run(Context.background(), "default", "master-0", "main", command, timeout=60)
            seconds.append(time.monotonic() - started)
    seconds.sort()
    print(
        f"exec of `{' '.join(command)}` into a fake pod, {execs} runs: "
        f"median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p90 {seconds[int(len(seconds) * 0.9)] * 1000:.0f} ms, "
        f"min {seconds[0] * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

"""CacheRuntime end to end: N Dataset and CacheRuntime pairs, from creation to all Bound.

    .venv/bin/python benchmarks/bench_cacheruntime.py [--pairs 100,500]
        [--topologies masterslave,clientonly] [--kubeconfig PATH] [--nodes 10]
        [--manager-qps 200] [--manager-burst 400] [--workers 3] [--writers 8]

For each topology and each N, on a local control plane (or the cluster of --kubeconfig):

1. API server alone: N Datasets and N CacheRuntimes created by `--writers` threads in a
   namespace no manager watches; the time the API server takes to accept them.
2. With the manager: `fluidpy manager` runs as a subprocess watching a fresh namespace (started
   and ready before the clock starts); the same objects are created the same way, and the clock
   stops when every Dataset is Bound. The ratio of the two times is printed.
3. From the manager's /metrics: rest_client_requests_total before and after, per runtime and by
   method. From /proc: the manager's CPU seconds (user + system) during the run and its peak
   RSS (VmHWM) since it started.

Topologies: `masterslave` (1 master and 1 worker StatefulSet pod per runtime that kwok must run
and report ready, plus a client DaemonSet with no node to run on) and `clientonly` (one client
DaemonSet per runtime; nothing gates readiness, so the time is the manager's own work).
Figures are printed, never judged: the machine is shared, so times vary from run to run.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fluidpy.api.install import install_crds
from fluidpy.client import GVK, Client
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK
from fluidpy.testing import LocalCluster

NAMESPACE = GVK("", "v1", "Namespace")
MIB = 1024.0 * 1024.0
TARGET_RATIO = 2.0
TARGET_REQUESTS = 20
TARGET_RSS_MIB = 150

CONTAINER = {
    "image": "busybox:1.36",
    "command": ["/bin/sh", "-c", 'cat "$FLUID_RUNTIME_CONFIG_PATH"; exec sleep infinity'],
}


def component(kind: str, name: str, *, headless: bool = False, privileged: bool = False) -> Any:
    container: dict[str, Any] = {"name": name, **CONTAINER}
    if privileged:
        container["securityContext"] = {"privileged": True}
    definition: dict[str, Any] = {
        "workloadType": {"apiVersion": "apps/v1", "kind": kind},
        "podTemplateSpec": {"spec": {"containers": [container]}},
    }
    if headless:
        definition["service"] = {"headless": {}}
    return definition


CLASSES: dict[str, dict[str, Any]] = {
    "masterslave": {
        "master": component("StatefulSet", "master", headless=True),
        "worker": component("StatefulSet", "worker", headless=True),
        "client": component("DaemonSet", "client", privileged=True),
    },
    "clientonly": {"client": component("DaemonSet", "client", privileged=True)},
}


def runtime_class(topology: str) -> dict[str, Any]:
    return {
        "apiVersion": "data.fluid.io/v1alpha1",
        "kind": "CacheRuntimeClass",
        "metadata": {"name": f"bench-{topology}"},
        "fileSystemType": "fuse.bench",
        "topology": CLASSES[topology],
    }


def pair(namespace: str, index: int, topology: str) -> list[dict[str, Any]]:
    name = f"data-{index}"
    spec: dict[str, Any] = {"runtimeClassName": f"bench-{topology}"}
    if topology == "masterslave":
        spec |= {"master": {"replicas": 1}, "worker": {"replicas": 1}}
    return [
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "Dataset",
            "metadata": {"name": name, "namespace": namespace},
            # Shared: an Exclusive Dataset (the default) takes a node per worker, and the
            # benchmarks run hundreds of Datasets on a few fake nodes.
            "spec": {
                "mounts": [{"name": "data", "mountPoint": "s3://bench/data"}],
                "placement": "Shared",
            },
        },
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "CacheRuntime",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        },
    ]


def create_pairs(client: Client, namespace: str, count: int, topology: str, writers: int) -> float:
    """Create the pairs with `writers` threads; seconds until the API server accepted all."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        for created in pool.map(
            lambda i: [client.create(obj) for obj in pair(namespace, i, topology)], range(count)
        ):
            assert len(created) == 2
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(port: int) -> dict[str, float]:
    """rest_client_requests_total by method, summed over codes and hosts."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    totals: defaultdict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if not line.startswith("rest_client_requests_total{"):
            continue
        labels, value = line.rsplit(" ", 1)
        method = labels.split('method="', 1)[1].split('"', 1)[0]
        totals[method] += float(value)
    return dict(totals)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_mib(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (VmHWM: peak RSS, VmRSS: current), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / MIB
    return float("nan")


def peak_rss_mib(pid: int) -> float:
    return memory_mib(pid, "VmHWM")


@contextmanager
def manager_process(
    kubeconfig: Path, namespace: str, flags: list[str], log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`fluidpy manager FLAGS` watching one namespace, ready before this yields (pid, metrics
    port)."""
    metrics, health = free_port(), free_port()
    command = [
        str(Path(sys.executable).with_name("fluidpy")),
        "manager",
        f"--kubeconfig={kubeconfig}",
        f"--namespace={namespace}",
        f"--metrics-bind-address=127.0.0.1:{metrics}",
        f"--health-probe-bind-address=127.0.0.1:{health}",
        *flags,
    ]
    with running(command, health, log, 120) as process:
        yield process, metrics


@contextmanager
def running(
    command: list[str], health: int, log: Path, timeout: float
) -> Iterator[subprocess.Popen[bytes]]:
    """A manager process logging to `log`, yielded once its /readyz (on port `health`) answers
    within `timeout` seconds; stopped with SIGTERM (SIGKILL after 60 s) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_until(lambda: ready(health), f"{command[1]} /readyz", timeout, process)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until(
    probe: Callable[[], bool],
    what: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the manager exited ({process.returncode}) waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:g} s")
        time.sleep(0.2)


def bound_count(client: Client, namespace: str) -> int:
    datasets = client.list(DATASET_GVK, namespace)
    return sum(1 for d in datasets if (d.get("status") or {}).get("phase") == "Bound")


def make_namespace(client: Client, name: str) -> None:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def run_one(
    client: Client, kubeconfig: Path, topology: str, count: int, args: argparse.Namespace
) -> dict[str, Any]:
    alone_ns = f"bench-{topology}-apiserver-{count}"
    managed_ns = f"bench-{topology}-manager-{count}"
    make_namespace(client, alone_ns)
    make_namespace(client, managed_ns)
    warm_ns = f"bench-{topology}-warmup-{count}"
    make_namespace(client, warm_ns)
    create_pairs(client, warm_ns, args.writers, topology, args.writers)  # connections, discovery
    alone = create_pairs(client, alone_ns, count, topology, args.writers)

    log = Path(tempfile.gettempdir()) / f"bench-cacheruntime-{topology}-{count}.log"
    flags = [
        f"--kube-api-qps={args.manager_qps}",
        f"--kube-api-burst={args.manager_burst}",
        f"--runtime-workers={args.workers}",
        "--resync-period=0",
    ]
    with manager_process(kubeconfig, managed_ns, flags, log) as (process, port):
        before, cpu_before = scrape(port), cpu_seconds(process.pid)
        rss_idle = peak_rss_mib(process.pid)
        started = time.monotonic()
        created = create_pairs(client, managed_ns, count, topology, args.writers)
        progress = {"bound": 0}

        def all_bound() -> bool:
            progress["bound"] = bound_count(client, managed_ns)
            return progress["bound"] >= count

        try:
            wait_until(all_bound, f"{count} Datasets Bound", args.timeout, process)
        except TimeoutError:
            print(f"  only {progress['bound']}/{count} Bound after {args.timeout:g} s; log: {log}")
            raise
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # requests of passes still running when the last Dataset was Bound
        after, cpu_after = scrape(port), cpu_seconds(process.pid)
        rss_peak = peak_rss_mib(process.pid)
    requests = {m: after.get(m, 0.0) - before.get(m, 0.0) for m in sorted(after)}
    total = sum(requests.values())
    return {
        "alone": alone,
        "created": created,
        "elapsed": elapsed,
        "requests": requests,
        "per_runtime": total / count,
        "cpu": cpu_after - cpu_before,
        "rss_idle": rss_idle,
        "rss_peak": rss_peak,
        "log": log,
    }


def report(topology: str, count: int, result: dict[str, Any]) -> None:
    ratio = result["elapsed"] / result["alone"]
    by_method = ", ".join(f"{m} {v / count:.1f}" for m, v in result["requests"].items() if v)
    print(f"\n{topology}, {count} pairs")
    print(f"  API server alone accepts them:     {result['alone']:8.2f} s")
    print(
        f"  with the manager, all Bound after: {result['elapsed']:8.2f} s "
        f"(creating took {result['created']:.2f} s)"
    )
    print(f"  ratio:                             {ratio:8.2f}   (target <= {TARGET_RATIO:g})")
    print(
        f"  API requests per runtime:          {result['per_runtime']:8.1f}   "
        f"(target <= {TARGET_REQUESTS}; {by_method})"
    )
    print(
        f"  manager CPU during the run:        {result['cpu']:8.2f} s "
        f"({result['cpu'] / count * 1000:.1f} ms per runtime)"
    )
    print(
        f"  manager peak RSS:                  {result['rss_peak']:8.1f} MiB "
        f"(target <= {TARGET_RSS_MIB}; {result['rss_idle']:.1f} MiB when ready and idle)"
    )
    print(f"  manager log:                       {result['log']}")


def bench(kubeconfig: Path, args: argparse.Namespace) -> None:
    client = Client(LocalCluster.existing(kubeconfig).connection(), qps=0)
    install_crds(client.connection)
    topologies = [t.strip() for t in args.topologies.split(",") if t.strip()]
    for topology in topologies:
        client.apply(runtime_class(topology))
    print(
        f"manager: --kube-api-qps {args.manager_qps} --kube-api-burst {args.manager_burst} "
        f"--runtime-workers {args.workers}; objects created by {args.writers} threads"
    )
    for topology in topologies:
        for count in (int(n) for n in args.pairs.split(",")):
            report(topology, count, run_one(client, kubeconfig, topology, count, args))
    for topology in topologies:
        client.delete(CLASS_GVK, f"bench-{topology}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default="100,500", help="comma-separated N (default 100,500)")
    parser.add_argument(
        "--topologies",
        default="masterslave,clientonly",
        help="comma-separated: masterslave, clientonly (default both)",
    )
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of a new one")
    parser.add_argument(
        "--nodes",
        type=int,
        default=10,
        help="fake nodes of the local control plane (default 10: room for 1000 pods)",
    )
    parser.add_argument("--manager-qps", type=float, default=200.0, help="default 200")
    parser.add_argument("--manager-burst", type=int, default=400, help="default 400")
    parser.add_argument("--workers", type=int, default=3, help="--runtime-workers (default 3)")
    parser.add_argument("--writers", type=int, default=8, help="creating threads (default 8)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    on_cluster("fluidpy-bench-cacheruntime", bench, parser.parse_args())


def on_cluster(
    name: str, bench: Callable[[Path, argparse.Namespace], None], args: argparse.Namespace
) -> None:
    """Run `bench` on the cluster of --kubeconfig, or on a new local control plane of
    --nodes fake nodes."""
    if args.kubeconfig is not None:
        bench(args.kubeconfig, args)
        return
    cluster = LocalCluster(name=name, nodes=args.nodes)
    print(f"starting a local control plane with {args.nodes} fake nodes ...")
    cluster.start()
    try:
        bench(cluster.kubeconfig, args)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

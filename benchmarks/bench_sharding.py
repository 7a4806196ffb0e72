"""Sharding: N Dataset and CacheRuntime pairs reconciled by 1 manager, then by 3 shards.

    .venv/bin/python benchmarks/bench_sharding.py [--pairs 300,1000] [--replicas 1,3]
        [--kubeconfig PATH] [--nodes 10] [--topology clientonly]

For each N and each replica count, in a fresh namespace of a local control plane (or the
cluster of --kubeconfig): the managers run as `fluidpy manager` subprocesses watching that
namespace (1 replica: the plain manager, no sharding; more: `--shards`), started and ready (and,
sharded, all members of the ring) before the clock starts. The pairs are created by 8 threads and
the clock stops when every Dataset is Bound (and, sharded, every Dataset and its runtime carry
the label of one live shard). The time the creating client took is printed too: on a loaded
machine it can be most of the run. Printed per replica: CPU seconds (user + system) during the run,
RSS when ready and idle, at the end and at its peak (VmHWM), and groups owned; and the spread
across shards against even.

The machine is shared and has two cores: the control plane, kwok and every replica compete for
them, so more replicas cannot make the time shorter here; what sharding buys on this machine is
memory per replica. Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench_cacheruntime import (
    bound_count,
    cpu_seconds,
    create_pairs,
    free_port,
    make_namespace,
    on_cluster,
    peak_rss_mib,
    running,
    runtime_class,
    wait_until,
)

from fluidpy.api.install import install_crds
from fluidpy.client import Client
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK, RUNTIME_GVK
from fluidpy.sharding import drain_label, shard_label
from fluidpy.testing import LocalCluster

RING = "fluidpy"


@contextmanager
def replica(
    kubeconfig: Path, namespace: str, shard_id: str | None, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    health = free_port()
    command = [
        str(Path(sys.executable).with_name("fluidpy")),
        "manager",
        f"--kubeconfig={kubeconfig}",
        f"--namespace={namespace}",
        "--controllers=dataset,cacheruntime",
        "--metrics-bind-address=0",
        f"--health-probe-bind-address=127.0.0.1:{health}",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--resync-period=0",
        "--log-format=json",
    ]
    if shard_id is not None:
        command += [
            "--shards",
            f"--shard-id={shard_id}",
            f"--leader-election-namespace={namespace}",
        ]
    with running(command, health, log, 180) as process:
        yield process


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def shard_of(obj: dict[str, Any]) -> str | None:
    return (obj["metadata"].get("labels") or {}).get(shard_label(RING))


def placed(client: Client, namespace: str, shards: list[str], count: int) -> bool:
    """Every Dataset and its runtime labelled, undrained, for one and the same live shard."""
    by_name: dict[str, set[str | None]] = {}
    objects = [*client.list(DATASET_GVK, namespace), *client.list(RUNTIME_GVK, namespace)]
    for obj in objects:
        if drain_label(RING) in (obj["metadata"].get("labels") or {}):
            return False
        by_name.setdefault(obj["metadata"]["name"], set()).add(shard_of(obj))
    return len(objects) == 2 * count and all(
        len(on) == 1 and on <= set(shards) for on in by_name.values()
    )


def run_one(
    client: Client, kubeconfig: Path, count: int, replicas: int, args: argparse.Namespace
) -> None:
    namespace = f"bench-sharding-{replicas}x-{count}"
    make_namespace(client, namespace)
    ids = [f"shard-{i}" for i in range(replicas)] if replicas > 1 else [None]
    logs = [Path(tempfile.gettempdir()) / f"{namespace}-{i}.log" for i in range(len(ids))]
    with ExitStack() as stack:
        processes = [
            stack.enter_context(replica(kubeconfig, namespace, shard_id, log))
            for shard_id, log in zip(ids, logs, strict=True)
        ]
        if replicas > 1:
            wait_until(lambda: any(ring_size(log) == replicas for log in logs), "the ring", 120)
        rss_idle = [rss_mib(p.pid) for p in processes]
        cpu_before = [cpu_seconds(p.pid) for p in processes]
        started = time.monotonic()
        created_in = create_pairs(client, namespace, count, args.topology, 8)

        def done() -> bool:
            if bound_count(client, namespace) < count:
                return False
            return replicas == 1 or placed(client, namespace, [str(i) for i in ids], count)

        wait_until(done, f"{count} Datasets Bound", args.timeout)
        elapsed = time.monotonic() - started
        cpu = [cpu_seconds(p.pid) - before for p, before in zip(processes, cpu_before, strict=True)]
        rss = [(peak_rss_mib(p.pid), rss_mib(p.pid)) for p in processes]
        # Before the replicas stop: each one that stops hands its groups to the others.
        spread = Counter(shard_of(d) for d in client.list(DATASET_GVK, namespace))
    sharded = " (sharded)" if replicas > 1 else ""
    print(f"\n{count} pairs, {replicas} replica(s){sharded}; created in {created_in:.1f} s")
    print(f"  all Bound{' and placed' if replicas > 1 else ''} after: {elapsed:8.1f} s")
    for shard_id, used, idle, (peak, now) in zip(ids, cpu, rss_idle, rss, strict=True):
        owned = f", {spread[shard_id]} groups" if shard_id else ""
        print(
            f"  {shard_id or 'manager'}: CPU {used:6.1f} s, RSS {idle:5.1f} MiB ready and "
            f"idle, {now:5.1f} MiB at the end, peak {peak:5.1f} MiB{owned}"
        )
    mean_peak = sum(peak for peak, _ in rss) / len(rss)
    print(f"  total CPU {sum(cpu):.1f} s, mean peak RSS {mean_peak:.1f} MiB")
    if replicas > 1:
        even = count / replicas
        worst = max(abs(spread[s] - even) / even for s in ids if s)
        print(f"  spread: largest deviation from even {worst * 100:.0f} % (target <= 20 %)")
    print(f"  logs: {', '.join(str(log) for log in logs)}")


def ring_size(log: Path) -> int:
    """How many shards the sharder's last membership change left (0: not the sharder)."""
    size = 0
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"ring changed; rebalancing"' in line:
            size = len(json.loads(line)["shards"])
    return size


def bench(kubeconfig: Path, args: argparse.Namespace) -> None:
    client = Client(LocalCluster.existing(kubeconfig).connection(), qps=0)
    install_crds(client.connection)
    client.apply(runtime_class(args.topology))
    for count in (int(n) for n in args.pairs.split(",")):
        for replicas in (int(n) for n in args.replicas.split(",")):
            run_one(client, kubeconfig, count, replicas, args)
    client.delete(CLASS_GVK, f"bench-{args.topology}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default="300,1000", help="comma-separated N (default 300,1000)")
    parser.add_argument("--replicas", default="1,3", help="comma-separated (default 1,3)")
    parser.add_argument(
        "--topology",
        default="clientonly",
        help="masterslave or clientonly (default clientonly: the managers' own work, no pods "
        "for kwok to run)",
    )
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of a new one")
    parser.add_argument("--nodes", type=int, default=10, help="fake nodes (default 10)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    on_cluster("fluidpy-bench-sharding", bench, parser.parse_args())


if __name__ == "__main__":
    main()

"""Resync passes of bound CacheRuntimes with nothing to do: CPU per pass.

    .venv/bin/python benchmarks/bench_resync.py [--runtimes 100] [--rounds 5]
        [--topology masterslave|clientonly] [--profile 30] [--resync 5 --window 60]
        [--kubeconfig PATH] [--nodes 5]

On a local control plane with fake nodes (kwok), or the cluster of --kubeconfig: a manager
runs in this process (the CacheRuntime and Dataset controllers, as `fluidpy manager` sets them
up, by default without the periodic resync, so the passes below are the only ones), and
`--runtimes` Dataset and CacheRuntime pairs (bench_cacheruntime's) are created and bound. Once all
are Bound and the manager has been quiet for a while, the benchmark calls the runtime
reconciler itself, as a resync would, `--rounds` times over every runtime, and prints the CPU
time of the calling thread per pass (median, mean, 90th percentile) and the API requests the
passes sent (0 when they had nothing to do). `--profile K` prints the K costliest functions of
one more round (cProfile). `--resync S` gives the manager a resync period of S seconds and
first prints its process CPU over `--window` seconds left alone: every pass, with the
workqueue, logging and the informers' threads.

A pass's CPU, not the process's, is the figure: the idle CPU of a manager is about
passes per second x CPU per pass (1000 runtimes resynced every 90 s make 11 passes a second),
and the pass is what the engine can make cheaper. Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from pathlib import Path

from bench_cacheruntime import create_pairs, make_namespace, runtime_class, wait_until

from fluidpy import log
from fluidpy.api.install import install_crds
from fluidpy.client import Client
from fluidpy.context import Context
from fluidpy.controller.reconcile import Request
from fluidpy.controllers import (
    BUILTIN_KINDS,
    ControllerOptions,
    RuntimeReconciler,
    RuntimeReconcilerOptions,
    setup_dataset_controller,
    setup_runtime_controller,
)
from fluidpy.engines.cacheruntime.naming import DATASET_GVK
from fluidpy.manager import Manager, ManagerOptions
from fluidpy.metrics.controller import RECONCILE_TOTAL
from fluidpy.metrics.rest import REST_CLIENT_REQUESTS
from fluidpy.testing import LocalCluster
from fluidpy.testing.manager import manager_running

QUIET = 10.0
"""Seconds left to the manager after the last Dataset is Bound: the passes its last events
cause (status settling, the client DaemonSet's status) are not the benchmark's."""


def build_manager(cluster: LocalCluster, resync: float) -> tuple[Manager, RuntimeReconciler]:
    manager = Manager(
        cluster.connection(),
        ManagerOptions(
            health_probe_bind_address="127.0.0.1:0",
            metrics_bind_address="127.0.0.1:0",
            handle_signals=False,
            qps=0.0,
        ),
    )
    options = ControllerOptions(runtime=RuntimeReconcilerOptions(resync_period=resync))
    reconciler = setup_runtime_controller(manager, BUILTIN_KINDS["cacheruntime"], options)
    setup_dataset_controller(manager, options)
    return manager, reconciler


def requests_sent() -> float:
    return sum(
        sample.value
        for metric in REST_CLIENT_REQUESTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def runtime_reconciles() -> float:
    return sum(
        sample.value
        for metric in RECONCILE_TOTAL.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("controller") == "cacheruntime"
    )


def idle_window(seconds: float) -> tuple[float, float]:
    """The process's CPU seconds and the runtime passes over `seconds` of the manager alone."""
    cpu, count = time.process_time(), runtime_reconciles()
    time.sleep(seconds)
    return time.process_time() - cpu, runtime_reconciles() - count


def passes(reconciler: RuntimeReconciler, namespace: str, names: list[str]) -> list[float]:
    """One pass of every runtime; the calling thread's CPU seconds of each."""
    ctx = Context.background()
    spent = []
    for name in names:
        started = time.thread_time()
        reconciler.reconcile(ctx, Request(namespace, name))
        spent.append(time.thread_time() - started)
    return spent


def bench(cluster: LocalCluster, args: argparse.Namespace) -> None:
    client = Client(cluster.connection(), qps=0)
    install_crds(client.connection)
    client.apply(runtime_class(args.topology))
    namespace = f"bench-resync-{int(time.time())}"
    make_namespace(client, namespace)
    names = [f"data-{i}" for i in range(args.runtimes)]
    manager, reconciler = build_manager(cluster, args.resync)
    with manager_running(manager):
        create_pairs(client, namespace, args.runtimes, args.topology, writers=8)

        def all_bound() -> bool:
            datasets = client.list(DATASET_GVK, namespace)
            return sum((d.get("status") or {}).get("phase") == "Bound" for d in datasets) == len(
                names
            )

        wait_until(all_bound, f"{args.runtimes} Datasets Bound", 600)
        time.sleep(QUIET)
        if args.resync:
            cpu, count = idle_window(args.window)
            print(
                f"manager alone for {args.window:g} s, resync every {args.resync:g} s: "
                f"{count:.0f} runtime passes, process CPU {cpu:.2f} s "
                f"({cpu / args.window * 100:.2f} % of a core), "
                f"{cpu / max(count, 1) * 1000:.2f} ms per pass"
            )
        before = requests_sent()
        spent: list[float] = []
        for _ in range(args.rounds):
            spent += passes(reconciler, namespace, names)
        sent = requests_sent() - before
        ms = sorted(s * 1000 for s in spent)
        print(
            f"passes of {args.runtimes} bound {args.topology} runtimes with nothing to do "
            f"({len(ms)} passes): ms CPU per pass median {statistics.median(ms):.2f}, "
            f"mean {statistics.fmean(ms):.2f}, p90 {ms[int(len(ms) * 0.9)]:.2f}; "
            f"API requests sent {sent:.0f}"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            passes(reconciler, namespace, names)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(args.profile)
            stats.sort_stats("tottime").print_stats(args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtimes", type=int, default=100, help="bound runtimes (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="passes per runtime (default 5)")
    parser.add_argument("--topology", default="masterslave", choices=["masterslave", "clientonly"])
    parser.add_argument(
        "--profile", type=int, default=0, help="print the K costliest functions (default 0)"
    )
    parser.add_argument(
        "--resync",
        type=float,
        default=0,
        help="the manager's resync period in seconds; when given, its process CPU over "
        "--window seconds alone is printed first, per pass (default 0: no resync)",
    )
    parser.add_argument("--window", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of a new one")
    parser.add_argument("--nodes", type=int, default=5, help="fake nodes (default 5)")
    args = parser.parse_args()
    log.configure()  # the manager's default: info, so its debug lines cost what they do there
    if args.kubeconfig is not None:
        bench(LocalCluster.existing(args.kubeconfig), args)
        return
    cluster = LocalCluster(name="fluidpy-bench-resync", nodes=args.nodes)
    print(f"starting a local control plane with {args.nodes} fake nodes ...")
    cluster.start()
    try:
        bench(cluster, args)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

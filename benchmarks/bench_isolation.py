"""Isolation: N good CacheRuntimes reach Bound as fast beside 2N bad ones as alone.

    .venv/bin/python benchmarks/bench_isolation.py [--good 20] [--kubeconfig PATH] [--nodes 10]
        [--rounds 1] [--workers 3]

On a local control plane (or the cluster of --kubeconfig), per round:

1. alone: `fluidpy manager` watches a fresh namespace (ready before the clock starts); N good
   Dataset and CacheRuntime pairs (masterslave: a master and a worker pod each) are created,
   and the clock stops when all N Datasets are Bound;
2. with bad ones: the same in another fresh namespace with a fresh manager, but 2N bad
   runtimes are created at the same moment, interleaved with the good ones, cycling through
   kinds of trouble: a missing class, a missing Dataset, replicas over the limit, a zero
   tiered-store quota, every component disabled, a FUSE client that cannot mount FUSE, a
   Dataset without mounts, and a user's ConfigMap under the runtime's config name;
3. the ratio of the two times (target <= 1.2), and how many bad runtimes report the condition
   they should.

Figures are printed, never judged: the machine is shared, so times vary from run to run.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_cacheruntime import (
    make_namespace,
    manager_process,
    pair,
    runtime_class,
    wait_until,
)

from fluidpy.api.install import install_crds
from fluidpy.client import GVK, Client
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK, RUNTIME_GVK
from fluidpy.testing import LocalCluster

TOPOLOGY = "masterslave"
CONFIGMAP = GVK("", "v1", "ConfigMap")
Objects = list[dict[str, Any]]


def _runtime(objects: Objects) -> dict[str, Any]:
    return objects[1]


def missing_class(objects: Objects) -> str:
    _runtime(objects)["spec"]["runtimeClassName"] = "bench-no-such-class"
    return "RuntimeClassNotFound"


def missing_dataset(objects: Objects) -> str:
    del objects[0]
    return "DatasetNotFound"


def too_many_replicas(objects: Objects) -> str:
    _runtime(objects)["spec"]["worker"]["replicas"] = 5000
    return "ReplicasOverLimit"


def zero_quota(objects: Objects) -> str:
    level = {"path": "/cache", "quota": "0", "medium": {"emptyDir": {}}}
    _runtime(objects)["spec"]["worker"]["tieredStore"] = {"levels": [level]}
    return "ErrorValidateSpecFields"


def all_disabled(objects: Objects) -> str:
    for component in ("master", "worker", "client"):
        _runtime(objects)["spec"].setdefault(component, {})["disabled"] = True
    return "ErrorValidateSpecFields"


def unprivileged_client(objects: Objects) -> str:
    _runtime(objects)["spec"]["runtimeClassName"] = "bench-unprivileged"
    return "ErrorValidateSpecFields"


def no_mounts(objects: Objects) -> str:
    del objects[0]["spec"]["mounts"]
    return "ErrorValidateSpecFields"


def name_taken(objects: Objects) -> str:
    metadata = _runtime(objects)["metadata"]
    users = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"fluid-runtime-config-{metadata['name']}",
            "namespace": metadata["namespace"],
        },
        "data": {"mine": "yes"},
    }
    objects.insert(0, users)
    return "NameConflict"


TROUBLES: list[Callable[[Objects], str]] = [
    missing_class,
    missing_dataset,
    too_many_replicas,
    zero_quota,
    all_disabled,
    unprivileged_client,
    no_mounts,
    name_taken,
]


def unprivileged_class() -> dict[str, Any]:
    obj = copy.deepcopy(runtime_class(TOPOLOGY))
    obj["metadata"]["name"] = "bench-unprivileged"
    client = obj["topology"]["client"]["podTemplateSpec"]["spec"]["containers"][0]
    client.pop("securityContext", None)
    return obj


def batches(namespace: str, good: int, bad: int) -> tuple[list[Objects], dict[str, str]]:
    """Every runtime's objects, good and bad interleaved; the reason each bad one must show."""
    goods = [pair(namespace, i, TOPOLOGY) for i in range(good)]
    bads: list[Objects] = []
    expected: dict[str, str] = {}
    for i in range(bad):
        objects = pair(namespace, i, TOPOLOGY)
        for obj in objects:
            obj["metadata"]["name"] = f"bad-{i}"
        expected[f"bad-{i}"] = TROUBLES[i % len(TROUBLES)](objects)
        bads.append(objects)
    mixed: list[Objects] = []
    per_good = max(bad // max(good, 1), 1)
    while goods or bads:
        if goods:
            mixed.append(goods.pop(0))
        for _ in range(per_good):
            if bads:
                mixed.append(bads.pop(0))
    return mixed, expected


def create_all(client: Client, runtimes: list[Objects], writers: int) -> None:
    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(lambda objects: [client.create(obj) for obj in objects], runtimes))


def good_bound(client: Client, namespace: str) -> int:
    return sum(
        1
        for d in client.list(DATASET_GVK, namespace)
        if d["metadata"]["name"].startswith("data-")
        and (d.get("status") or {}).get("phase") == "Bound"
    )


def reasons(client: Client, namespace: str) -> dict[str, str]:
    found = {}
    for runtime in client.list(RUNTIME_GVK, namespace):
        for condition in (runtime.get("status") or {}).get("conditions") or []:
            if condition["type"] == "Ready":
                found[runtime["metadata"]["name"]] = condition.get("reason", "")
    return found


def timed_run(
    client: Client, kubeconfig: Path, namespace: str, bad: int, args: argparse.Namespace
) -> tuple[float, dict[str, str], dict[str, str]]:
    """Seconds until the args.good good runtimes are Bound, the reasons the bad ones should
    show, and the reasons every runtime shows."""
    good = args.good
    make_namespace(client, namespace)
    runtimes, expected = batches(namespace, good, bad)
    log = Path("/tmp") / f"bench-isolation-{namespace}.log"
    with manager_process(kubeconfig, namespace, args, log) as (process, _):
        started = time.monotonic()
        create_all(client, runtimes, args.writers)
        wait_until(
            lambda: good_bound(client, namespace) >= good,
            f"{good} good Datasets Bound",
            args.timeout,
            process,
        )
        elapsed = time.monotonic() - started
        if expected:
            wait_until(
                lambda: all(reasons(client, namespace).get(n) == r for n, r in expected.items()),
                "every bad runtime's condition",
                args.timeout,
                process,
            )
        return elapsed, expected, reasons(client, namespace)


def bench(kubeconfig: Path, args: argparse.Namespace) -> None:
    client = Client(LocalCluster.existing(kubeconfig).connection(), qps=0)
    install_crds(client.connection)
    client.apply(runtime_class(TOPOLOGY))
    client.apply(unprivileged_class())
    good, bad = args.good, 2 * args.good
    print(
        f"{good} good {TOPOLOGY} runtimes; {bad} bad ones of {len(TROUBLES)} kinds; "
        f"--runtime-workers {args.workers}"
    )
    ratios = []
    for round_ in range(args.rounds):
        alone, _, _ = timed_run(client, kubeconfig, f"iso-alone-{round_}", 0, args)
        mixed, expected, seen = timed_run(client, kubeconfig, f"iso-mixed-{round_}", bad, args)
        ratio = mixed / alone
        ratios.append(ratio)
        right = sum(1 for name, reason in expected.items() if seen.get(name) == reason)
        print(f"\nround {round_ + 1}")
        print(f"  {good} good alone, all Bound after:          {alone:8.2f} s")
        print(f"  {good} good beside {bad} bad, all Bound after:  {mixed:8.2f} s")
        print(f"  ratio:                                    {ratio:8.2f}   (target <= 1.2)")
        print(f"  bad runtimes showing their reason:        {right:5d} of {bad}")
    if len(ratios) > 1:
        print(f"\nratios: {', '.join(f'{r:.2f}' for r in ratios)}; best {min(ratios):.2f}")
    for name in (f"bench-{TOPOLOGY}", "bench-unprivileged"):
        client.delete(CLASS_GVK, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--good", type=int, default=20, help="good runtimes N (default 20)")
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of a new one")
    parser.add_argument("--nodes", type=int, default=10, help="fake nodes (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="alone/mixed pairs (default 1)")
    parser.add_argument("--manager-qps", type=float, default=20.0, help="default 20 (upstream)")
    parser.add_argument("--manager-burst", type=int, default=30, help="default 30 (upstream)")
    parser.add_argument("--workers", type=int, default=3, help="--runtime-workers (default 3)")
    parser.add_argument("--writers", type=int, default=8, help="creating threads (default 8)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    args = parser.parse_args()
    if args.kubeconfig is not None:
        bench(args.kubeconfig, args)
        return
    cluster = LocalCluster(name="fluidpy-bench-isolation", nodes=args.nodes)
    print(f"starting a local control plane with {args.nodes} fake nodes ...")
    cluster.start()
    try:
        bench(cluster.kubeconfig, args)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

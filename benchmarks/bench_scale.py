"""fluidpy at its default flags against the fair floor: N runtimes, from creation to all Bound.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 100,300] [--large] [--repeat 2]
        [--topology masterslave|clientonly] [--idle 300] [--kubeconfig PATH] [--nodes N]
        [--workers 3] [--writers 8]

For each N (100 and 300; `--large` adds 1000) and each repetition, on a local control plane with
fake nodes (kwok), two runs one after the other, each in a fresh namespace:

1. fluidpy: `fluidpy manager` at its default flags (only --namespace, so earlier runs are not
   its business, and loopback probe and metrics ports) watches the namespace, ready before the
   clock starts. N Dataset and CacheRuntime pairs are created by `--writers` threads; the clock
   stops when every Dataset is Bound. Then, once per N, the manager is left alone for `--idle`
   seconds (the issue asks for 5 minutes; a periodic resync happens every 90 s) and its CPU and
   RSS over that window are taken.
2. The fair floor: the same pairs are created the same way, and the objects the manager ended
   up with in run 1 (StatefulSets, Services, ConfigMaps, DaemonSets, PV, PVC, the cache-node
   labels on the nodes, then the Dataset's and runtime's metadata (labels, finalizers, owner)
   and status) are written directly, by as many threads as the manager has runtime
   workers, each pair as soon as it exists; the clock stops when every pod of those workloads is
   Ready. No controller can be faster on the same machine: it has to write at least that much,
   and Bound needs those pods Ready.

Printed per run: time to all Bound (or all Ready), the floor, their ratio, the manager's API
requests per runtime by verb and resource (deltas of the API server's apiserver_request_total,
less the benchmark's own creates; cells only other clients write, such as pods, workload status
and volume binding, are left out, and list/watch is per process, not per runtime), the same
total from the manager's own rest_client_requests_total, manager CPU seconds and peak RSS.

Helpers (pairs, manager process, /proc readings) come from bench_cacheruntime.py. Figures are
printed, never judged: the machine is shared, so compare ratios taken within one run.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench_cacheruntime import (
    cpu_seconds,
    make_namespace,
    manager_process,
    memory_mib,
    pair,
    peak_rss_mib,
    runtime_class,
    scrape,
    wait_until,
)

from fluidpy.api.install import install_crds
from fluidpy.client import GVK, AlreadyExists, Client, NotFound
from fluidpy.context import Context
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK
from fluidpy.informer import SharedInformer
from fluidpy.log import configure
from fluidpy.testing import LocalCluster

RUNTIME = GVK("data.fluid.io", "v1alpha1", "CacheRuntime")
NAMESPACE = GVK("", "v1", "Namespace")
POD = GVK("", "v1", "Pod")
STATEFULSET = GVK("apps", "v1", "StatefulSet")
PV = GVK("", "v1", "PersistentVolume")
NODE = GVK("", "v1", "Node")
PVC = GVK("", "v1", "PersistentVolumeClaim")
OWNED = [
    GVK("", "v1", "ConfigMap"),
    GVK("", "v1", "Service"),
    GVK("apps", "v1", "StatefulSet"),
    GVK("apps", "v1", "DaemonSet"),
    PVC,
]
"""What the floor writes per pair before the status, in the order a controller writes them."""

TARGET_RATIO = 1.1
TARGET_REQUESTS = {"masterslave": 12, "clientonly": 8}
TARGET_PEAK_RSS_MIB = 120
TARGET_IDLE_CPU_PERCENT = 2.0

MANAGER_RESOURCES = {
    "datasets",
    "cacheruntimes",
    "cacheruntimeclasses",
    "statefulsets",
    "daemonsets",
    "deployments",
    "services",
    "configmaps",
    "persistentvolumes",
    "persistentvolumeclaims",
    "secrets",
    "nodes",
}
"""Resources the manager reads or writes. Pods are left out (kube-controller-manager creates
them, the scheduler binds them, kwok writes their status; the manager only watches them), and
so are events (every component records some)."""

SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
LABEL = re.compile(r'(\w+)="([^"]*)"')

Cell = tuple[str, str]
"""(verb, resource or resource/subresource) of apiserver_request_total."""


def apiserver_requests(client: Client) -> Counter[Cell]:
    """apiserver_request_total summed over codes, by verb and resource, for the manager's cells."""
    connection = client.connection
    response = connection.pool_manager.request(
        "GET", f"{connection.host}/metrics", headers=dict(connection.auth_headers())
    )
    totals: Counter[Cell] = Counter()
    for line in response.data.decode().splitlines():
        match = SAMPLE.match(line)
        if match is None:
            continue
        labels = dict(LABEL.findall(match["labels"]))
        resource, sub, verb = labels["resource"], labels["subresource"], labels["verb"]
        if resource not in MANAGER_RESOURCES or _other_clients(verb, resource, sub):
            continue
        totals[(verb, f"{resource}/{sub}" if sub else resource)] += int(float(match["value"]))
    return totals


def _other_clients(verb: str, resource: str, subresource: str) -> bool:
    """Cells the manager never produces: workload status (their controllers), volume binding
    (the PV controller reads the volume and updates both objects), owner checks (the garbage
    collector reads Datasets and runtimes named in owner references; the manager reads from its
    cache, and its own count below would show a GET), node heartbeats (kwok)."""
    if subresource == "status" and resource not in ("datasets", "cacheruntimes"):
        return True
    if resource in ("datasets", "cacheruntimes") and verb == "GET":
        return True
    if resource in ("persistentvolumes", "persistentvolumeclaims") and verb in ("PUT", "GET"):
        return True
    return resource == "nodes" and verb in ("PUT", "PATCH") and subresource != ""


@contextmanager
def watching(client: Client, gvk: GVK, namespace: str) -> Iterator[SharedInformer]:
    """An informer of one kind in one namespace, synced; counting from memory costs the API
    server nothing while the clock runs."""
    ctx, cancel = Context.background().with_cancel()
    informer = SharedInformer(client, gvk, namespaces=[namespace])
    informer.start(ctx)
    informer.wait_for_sync(ctx)
    try:
        yield informer
    finally:
        cancel()


def bound(dataset: dict[str, Any]) -> bool:
    return (dataset.get("status") or {}).get("phase") == "Bound"


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def statefulset_ready(statefulset: dict[str, Any]) -> bool:
    """As kube-controller-manager reports it (what the manager's readiness reads)."""
    wanted = (statefulset.get("spec") or {}).get("replicas") or 0
    return int((statefulset.get("status") or {}).get("readyReplicas") or 0) >= wanted


def wait_for(informer: SharedInformer, test: Any, count: int, what: str, timeout: float) -> None:
    seen = {"n": 0}

    def enough() -> bool:
        seen["n"] = sum(1 for obj in informer.list() if test(obj))
        return seen["n"] >= count

    try:
        wait_until(enough, what, timeout)
    except TimeoutError:
        print(f"  only {seen['n']}/{count} {what} after {timeout:g} s")
        raise


# The fluidpy run ----------------------------------------------------------------------------


def fluidpy_run(
    client: Client, kubeconfig: Path, namespace: str, count: int, *, idle: float, args: Any
) -> dict[str, Any]:
    make_namespace(client, namespace)
    log = Path(f"/tmp/bench-scale-{namespace}.log")
    with (
        manager_process(kubeconfig, namespace, [], log) as (process, port),
        watching(client, DATASET_GVK, namespace) as datasets,
        watching(client, POD, namespace) as pods,
        watching(client, STATEFULSET, namespace) as statefulsets,
    ):
        rss_ready = _rss_mib(process.pid)
        before, own_before = apiserver_requests(client), scrape(port)
        passes_before = reconciles(port)
        cpu_before = cpu_seconds(process.pid)
        started = time.monotonic()
        last_pod_ready = ReadyClock(pods, pod_ready, started)
        last_set_ready = ReadyClock(statefulsets, statefulset_ready, started)
        with ThreadPoolExecutor(max_workers=args.writers) as writers:
            created = list(
                writers.map(
                    lambda i: [client.create(o) for o in pair(namespace, i, args.topology)],
                    range(count),
                )
            )
        wait_for(datasets, bound, count, "Datasets Bound", args.timeout)
        elapsed = time.monotonic() - started
        pods_ready, sets_ready = last_pod_ready.stop(), last_set_ready.stop()
        time.sleep(2.0)  # writes of passes still running when the last Dataset was Bound
        after, own_after = apiserver_requests(client), scrape(port)
        passes = reconciles(port) - passes_before
        cpu = cpu_seconds(process.pid) - cpu_before
        rss_peak = peak_rss_mib(process.pid)
        idle_figures = _idle(process.pid, port, idle) if idle > 0 else None
    requests = after - before
    for obj in (o for objs in created for o in objs):  # the benchmark's own creates
        requests[("POST", _plural(obj))] -= 1
    own = {m: own_after.get(m, 0.0) - own_before.get(m, 0.0) for m in own_after}
    return {
        "elapsed": elapsed,
        "pods_ready": pods_ready,
        "sets_ready": sets_ready,
        "requests": +requests,
        "own": {m: v for m, v in own.items() if v},
        "reconciles": passes,
        "cpu": cpu,
        "rss_ready": rss_ready,
        "rss_peak": rss_peak,
        "idle": idle_figures,
        "log": log,
    }


class ReadyClock:
    """When the last of an informer's objects passed `test`, in seconds from `started`: the
    pods' readiness, then the StatefulSets' as kube-controller-manager reports it, set against
    the time to all Bound, say where the time after the pods were up goes."""

    def __init__(self, informer: SharedInformer, test: Any, started: float) -> None:
        self._informer, self._test, self._started = informer, test, started
        self._done = threading.Event()
        self._last: float | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ready = 0
        while not self._done.wait(0.2):
            now = sum(1 for obj in self._informer.list() if self._test(obj))
            if now > ready:
                ready, self._last = now, time.monotonic() - self._started

    def stop(self) -> float | None:
        self._done.set()
        self._thread.join()
        return self._last


def reconciles(port: int) -> Counter[tuple[str, str]]:
    """controller_runtime_reconcile_total of the manager, by controller and result."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    totals: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        if line.startswith("controller_runtime_reconcile_total{"):
            labels, value = line.rsplit(" ", 1)
            found = dict(LABEL.findall(labels))
            totals[(found["controller"], found["result"])] += int(float(value))
    return totals


def _plural(obj: dict[str, Any]) -> str:
    return {"Dataset": "datasets", "CacheRuntime": "cacheruntimes"}[obj["kind"]]


def _rss_mib(pid: int) -> float:
    return memory_mib(pid, "VmRSS")


def _idle(pid: int, port: int, seconds: float) -> dict[str, Any]:
    """CPU (% of one core) and RSS of the manager left alone for `seconds`, with the passes
    and requests it made meanwhile (what the CPU went to)."""
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    passes_before, own_before = reconciles(port), scrape(port)
    time.sleep(seconds)
    spent = cpu_seconds(pid) - cpu_before
    own_after = scrape(port)
    return {
        "seconds": seconds,
        "cpu_percent": 100.0 * spent / (time.monotonic() - started),
        "rss": _rss_mib(pid),
        "reconciles": +(reconciles(port) - passes_before),
        "requests": {m: v - own_before.get(m, 0.0) for m, v in own_after.items() if v},
    }


# What the manager ended up with, replayed by the floor ----------------------------------------

SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation")


def final_objects(client: Client, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """Per pair name: the objects the manager wrote, as a client would create them, then the
    Dataset and runtime with their status (for the status writes)."""
    by_pair: dict[str, list[dict[str, Any]]] = {}
    owners = {d["metadata"]["uid"]: d["metadata"]["name"] for d in client.list(RUNTIME, namespace)}
    for gvk in OWNED:
        for obj in client.list(gvk, namespace):
            name = _pair_of(obj, owners)
            if name is not None:
                by_pair.setdefault(name, []).append(_creatable(obj))
    claims = {pvc["metadata"]["name"] for objs in by_pair.values() for pvc in objs}
    for pv in client.list(PV):
        claim = (pv.get("spec") or {}).get("claimRef") or {}
        if claim.get("namespace") == namespace and claim.get("name") in claims:
            volume = _creatable(pv)
            volume["spec"].pop("claimRef", None)  # bound by the PV controller, not the runtime
            by_pair.setdefault(claim["name"], []).append(volume)
    for node in client.list(NODE):
        labels = node["metadata"].get("labels") or {}
        for name, objects in by_pair.items():
            suffix = f"-{namespace}-{name}"
            mine = {key: value for key, value in labels.items() if key.endswith(suffix)}
            if mine:
                objects.append({"kind": "Node", "name": node["metadata"]["name"], "labels": mine})
    for gvk in (DATASET_GVK, RUNTIME):
        for obj in client.list(gvk, namespace):
            metadata = obj["metadata"]
            by_pair.setdefault(metadata["name"], []).append(
                {
                    "kind": obj["kind"],
                    "metadata": {
                        key: metadata[key]
                        for key in ("labels", "finalizers", "ownerReferences")
                        if key in metadata
                    },
                    "status": obj.get("status") or {},
                }
            )
    return by_pair


def _pair_of(obj: dict[str, Any], owners: dict[str, str]) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("uid") in owners:
            return owners[ref["uid"]]
    if obj["kind"] == "PersistentVolumeClaim":
        return str(obj["metadata"]["name"])
    return None


def _creatable(obj: dict[str, Any]) -> dict[str, Any]:
    obj = json.loads(json.dumps(obj))
    obj.pop("status", None)
    metadata = obj["metadata"]
    for name in SERVER_FIELDS:
        metadata.pop(name, None)
    for annotation in ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller"):
        (metadata.get("annotations") or {}).pop(annotation, None)
    spec = obj.get("spec") or {}
    if obj["kind"] == "Service":
        for field in ("clusterIP", "clusterIPs"):
            if spec.get(field) != "None":
                spec.pop(field, None)
    if obj["kind"] == "PersistentVolumeClaim":
        spec.pop("volumeName", None)
    return obj


def _moved(obj: dict[str, Any], source: str, target: str, uids: dict[str, str]) -> dict[str, Any]:
    """The object as it would be in `target`, owned by that namespace's pair."""
    text = json.dumps(obj).replace(source, target)
    for old, new in uids.items():
        text = text.replace(old, new)
    moved: dict[str, Any] = json.loads(text)
    return moved


def floor_run(
    client: Client,
    source: str,
    namespace: str,
    objects: dict[str, list[dict[str, Any]]],
    *,
    count: int,
    args: Any,
) -> dict[str, Any]:
    make_namespace(client, namespace)
    pods = sum(
        int((o.get("spec") or {}).get("replicas") or 0)
        for objs in objects.values()
        for o in objs
        if o.get("kind") == "StatefulSet"
    )
    with (
        watching(client, POD, namespace) as pod_informer,
        ThreadPoolExecutor(max_workers=args.workers) as controller,
    ):
        started = time.monotonic()
        writes: list[Future[None]] = []

        def create_pair(i: int) -> None:
            created = [client.create(o) for o in pair(namespace, i, args.topology)]
            name = created[0]["metadata"]["name"]
            writes.append(controller.submit(write_final, name, created))

        def write_final(name: str, created: list[dict[str, Any]]) -> None:
            old = {o["kind"]: o for o in created}
            uids = _source_uids(client, source, name, old)
            for obj in (_moved(o, source, namespace, uids) for o in objects.get(name, [])):
                if obj["kind"] == "Node":
                    # Labels only: the counter beside them is every runtime's, and nothing
                    # is faster than a patch without the read a counter needs.
                    client.patch(NODE, obj["name"], None, {"metadata": {"labels": obj["labels"]}})
                elif "status" in obj:
                    gvk = DATASET_GVK if obj["kind"] == "Dataset" else RUNTIME
                    client.patch(gvk, name, namespace, {"metadata": obj["metadata"]})
                    client.patch_status(gvk, name, namespace, {"status": obj["status"]})
                else:
                    client.create(obj)

        with ThreadPoolExecutor(max_workers=args.writers) as writers:
            list(writers.map(create_pair, range(count)))
        for write in list(writes):
            write.result()
        wait_for(pod_informer, pod_ready, pods, "pods Ready", args.timeout)
        elapsed = time.monotonic() - started
    return {"elapsed": elapsed, "pods": pods}


def _source_uids(
    client: Client, source: str, name: str, created: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """The fluidpy run's Dataset and runtime uids, mapped to this run's."""
    uids: dict[str, str] = {}
    for kind, gvk in (("Dataset", DATASET_GVK), ("CacheRuntime", RUNTIME)):
        original = client.get(gvk, name, source)
        if original is not None:
            uids[original["metadata"]["uid"]] = created[kind]["metadata"]["uid"]
    return uids


# Clean-up between runs (kwok's nodes hold only so many pods) -----------------------------------


def remove_namespace(client: Client, namespace: str, timeout: float) -> None:
    """Drop finalizers no controller is left to remove, and the cache-node labels of the
    namespace's Datasets (the floor's, which no runtime removes), delete the namespace and its
    PVs, and wait until it is gone."""
    for node in client.list(NODE):
        stale = {k: None for k in node["metadata"].get("labels") or {} if f"-{namespace}-" in k}
        if stale:
            client.patch(NODE, node["metadata"]["name"], None, {"metadata": {"labels": stale}})
    for gvk in (DATASET_GVK, RUNTIME):
        for obj in client.list(gvk, namespace):
            if obj["metadata"].get("finalizers"):
                _ignore_missing(
                    client.patch,
                    gvk,
                    obj["metadata"]["name"],
                    namespace,
                    {"metadata": {"finalizers": None}},
                )
    for pv in client.list(PV):
        if ((pv.get("spec") or {}).get("claimRef") or {}).get("namespace") == namespace:
            _ignore_missing(client.delete, PV, pv["metadata"]["name"])
    client.delete(NAMESPACE, namespace)
    wait_until(lambda: client.get(NAMESPACE, namespace) is None, f"{namespace} gone", timeout)


def _ignore_missing(call: Any, *args: Any) -> None:
    with suppress(NotFound, AlreadyExists):
        call(*args)


# Reporting ---------------------------------------------------------------------------------


def report(
    count: int, repeat: int, topology: str, ours: dict[str, Any], floor: dict[str, Any]
) -> None:
    ratio = ours["elapsed"] / floor["elapsed"]
    print(f"\n{topology}, N={count}, repetition {repeat}")
    print(
        f"  fluidpy, all Bound after:       {ours['elapsed']:8.2f} s "
        f"({ours['elapsed'] / count * 1000:.0f} ms per runtime)"
    )
    if ours.get("pods_ready") is not None:
        print(f"    of which all its pods Ready:  {ours['pods_ready']:8.2f} s")
    if ours.get("sets_ready") is not None:
        print(f"    StatefulSets report them:     {ours['sets_ready']:8.2f} s")
    print(f"  fair floor, all {floor['pods']} pods Ready: {floor['elapsed']:8.2f} s")
    print(f"  ratio:                          {ratio:8.2f}   (target <= {TARGET_RATIO:g})")
    per_call = {
        cell: value for cell, value in ours["requests"].items() if cell[0] not in ("LIST", "WATCH")
    }
    total = sum(per_call.values()) / count
    print(
        f"  API requests per runtime:       {total:8.2f}   "
        f"(target <= {TARGET_REQUESTS[topology]}; API server's count)"
    )
    for (verb, resource), value in sorted(per_call.items(), key=lambda kv: -kv[1]):
        print(f"      {verb:7} {resource:32} {value / count:6.2f}")
    watches = {c: v for c, v in ours["requests"].items() if c[0] in ("LIST", "WATCH")}
    if watches:
        print(
            "    list/watch for the whole run: "
            + ", ".join(f"{v} {r} {n}" for (v, r), n in sorted(watches.items()))
        )
    own = ours["own"]
    print(
        f"    the manager's own count: {sum(own.values()) / count:.2f} per runtime ("
        + ", ".join(f"{m} {v / count:.2f}" for m, v in sorted(own.items()))
        + "; events and list/watch included)"
    )
    print(
        "  reconciles per runtime:         "
        + ", ".join(
            f"{controller} {result} {value / count:.2f}"
            for (controller, result), value in sorted(ours["reconciles"].items())
        )
    )
    print(
        f"  manager CPU:                    {ours['cpu']:8.2f} s "
        f"({ours['cpu'] / count * 1000:.1f} ms per runtime)"
    )
    print(
        f"  manager peak RSS:               {ours['rss_peak']:8.1f} MiB "
        f"(target <= {TARGET_PEAK_RSS_MIB} at N=1000; {ours['rss_ready']:.1f} MiB ready, "
        "no runtimes)"
    )
    idle = ours["idle"]
    if idle is not None:
        print(
            f"  idle over {idle['seconds']:g} s, all Bound: CPU {idle['cpu_percent']:.2f} % of "
            f"one core (target <= {TARGET_IDLE_CPU_PERCENT:g}), RSS {idle['rss']:.1f} MiB"
        )
        print(
            "    meanwhile, per runtime: reconciles "
            + ", ".join(
                f"{controller} {result} {value / count:.2f}"
                for (controller, result), value in sorted(idle["reconciles"].items())
            )
            + "; requests "
            + (
                ", ".join(f"{m} {v / count:.2f}" for m, v in sorted(idle["requests"].items()) if v)
                or "none"
            )
        )
    print(f"  manager log:                    {ours['log']}")


def bench(kubeconfig: Path, args: argparse.Namespace) -> None:
    client = Client(LocalCluster.existing(kubeconfig).connection(), qps=0)
    install_crds(client.connection)
    client.apply(runtime_class(args.topology))
    sizes = [int(n) for n in args.sizes.split(",")] + ([1000] if args.large else [])
    print(
        f"fluidpy manager at default flags; floor with {args.workers} writers; "
        f"pairs created by {args.writers} threads; topology {args.topology}"
    )
    stamp = time.strftime("%H%M%S")
    per_runtime: dict[int, list[float]] = {}
    for count in sizes:
        for repeat in range(1, args.repeat + 1):
            ours_ns = f"scale-{stamp}-fluidpy-{count}-{repeat}"
            floor_ns = f"scale-{stamp}-floor-{count}-{repeat}"
            idle = args.idle if repeat == 1 else 0.0
            ours = fluidpy_run(client, kubeconfig, ours_ns, count, idle=idle, args=args)
            objects = final_objects(client, ours_ns)
            floor = floor_run(client, ours_ns, floor_ns, objects, count=count, args=args)
            report(count, repeat, args.topology, ours, floor)
            per_runtime.setdefault(count, []).append(ours["elapsed"] / count)
            remove_namespace(client, floor_ns, args.timeout)
            remove_namespace(client, ours_ns, args.timeout)
    if len(per_runtime) > 1:
        best = {n: min(times) for n, times in per_runtime.items()}
        smallest, largest = min(best), max(best)
        print(
            f"\ntime per runtime, N={largest} over N={smallest}: "
            f"{best[largest] / best[smallest]:.2f} (target <= 1.2; best of the repetitions)"
        )
    client.delete(CLASS_GVK, f"bench-{args.topology}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300", help="comma-separated N (default 100,300)")
    parser.add_argument("--large", action="store_true", help="also N=1000 (needs --nodes 25)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per N (default 2)")
    parser.add_argument(
        "--topology",
        default="masterslave",
        choices=sorted(TARGET_REQUESTS),
        help="default masterslave",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=300.0,
        help="seconds the manager is left alone after all Bound, first repetition of each N "
        "(default 300, as the issue asks; 0 skips)",
    )
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of a new one")
    parser.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="fake nodes (default 10, 25 with --large: about 110 pods fit on each)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="the manager's --runtime-workers default: the floor's writers",
    )
    parser.add_argument(
        "--writers", type=int, default=8, help="threads creating the pairs (default 8)"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per wait")
    args = parser.parse_args()
    configure(level="warning")  # the benchmark's own client: its debug lines are no figures
    if args.kubeconfig is not None:
        bench(args.kubeconfig, args)
        return
    nodes = args.nodes or (25 if args.large else 10)
    cluster = LocalCluster(name="fluidpy-bench-scale", nodes=nodes)
    print(f"starting a local control plane with {nodes} fake nodes ...")
    cluster.start()
    try:
        bench(cluster.kubeconfig, args)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

"""The Pod cache of a manager at N runtimes among unrelated Pods, as its controllers wire it.

    .venv/bin/python benchmarks/bench_informer_memory.py [--runtimes 1000]
        [--unrelated-pods 5000] [--engine cacheruntime|alluxio]

The controllers are set up as `fluidpy manager` sets them up (every built-in runtime kind, the
Dataset and DataLoad controllers) on a real Cache, over an in-memory API server that holds two
workload Pods per runtime (a master and a worker, labelled as `--engine` labels them) and
`--unrelated-pods` Pods of an application, all of a running StatefulSet Pod's size
(bench_informer.realistic_pod: spec, status, managedFields). The server answers lists with the
label selectors the informers send, as the API server does; the watches stay quiet.

Printed: every Pod informer the wiring created (its label selector and the Pods it holds), and
the memory the cache took to sync (tracemalloc, so the stores, their indexes and the requests
the initial list queued), first with the cache `fluidpy manager` builds (its per-kind views,
fluidpy.controllers.CACHE_VIEWS: a Pod's readers' fields only), then with whole objects (the
default transform); then the same for one cluster-wide Pod informer over the same server,
which is what every runtime controller watched before issue 16.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench_informer import realistic_pod

from fluidpy.cache import Cache
from fluidpy.client import GVK
from fluidpy.context import Context
from fluidpy.controllers import (
    BUILTIN_KINDS,
    CACHE_VIEWS,
    setup_dataload_controller,
    setup_dataset_controller,
    setup_runtime_controller,
)
from fluidpy.engines.cacheruntime.naming import COMPONENT_LABEL, NAME_LABEL
from fluidpy.engines.masterworker.layout import Layout
from fluidpy.manager import Manager, ManagerOptions
from fluidpy.testing.fake_client import FakeClient

POD = GVK("", "v1", "Pod")
KIB = 1024.0
MIB = 1024.0 * KIB


class QuietWatch:
    """A watch on a server where nothing changes: iterating waits until it is closed."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._closed = False

    def __iter__(self) -> Any:
        while not self._closed and not self._ctx.wait(1.0):
            pass
        return iter(())

    def close(self) -> None:
        self._closed = True


class Server(FakeClient):
    """FakeClient's objects, listed and watched as an informer lists and watches."""

    def list_with_version(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        **_: Any,
    ) -> tuple[list[dict[str, Any]], str]:
        found = self.list(
            gvk, namespace, label_selector=label_selector, field_selector=field_selector
        )
        return found, self.store.next_version()

    def watch(self, gvk: GVK, namespace: str | None = None, **options: Any) -> QuietWatch:
        return QuietWatch(options.get("ctx") or Context.background())


def cacheruntime_labels(runtime: str, component: str) -> dict[str, str]:
    return {NAME_LABEL: runtime, COMPONENT_LABEL: component, "app.kubernetes.io/name": "cache"}


def alluxio_labels(runtime: str, component: str) -> dict[str, str]:
    return Layout(runtime, "bench", "alluxio").labels(component)


LABELS: dict[str, Callable[[str, str], dict[str, str]]] = {
    "cacheruntime": cacheruntime_labels,
    "alluxio": alluxio_labels,
}


def cluster_pods(
    runtimes: int, unrelated: int, labels: Callable[[str, str], dict[str, str]]
) -> Server:
    pods = []
    for i in range(runtimes):
        for j, component in enumerate(("master", "worker")):
            pod = realistic_pod(2 * i + j)
            pod["metadata"].update(
                name=f"rt-{i}-{component}-0", namespace="bench", labels=labels(f"rt-{i}", component)
            )
            pods.append(pod)
    for i in range(unrelated):
        pod = realistic_pod(2 * runtimes + i)
        pod["metadata"].update(
            name=f"web-{i}", namespace=f"app-{i % 50}", labels={"app": "web", "tier": "front"}
        )
        pods.append(pod)
    return Server(*pods)


def wired_cache(server: Server, *, views: bool = True) -> Cache:
    """The cache of a manager with every controller of `fluidpy manager` set up; `views`
    (default True, as `fluidpy manager`) keeps only the fields readers read."""
    cache = Cache(server, by_kind=CACHE_VIEWS if views else None)  # type: ignore[arg-type]
    manager = Manager(
        client=server,  # type: ignore[arg-type]
        cache=cache,
        options=ManagerOptions(health_probe_bind_address="0", metrics_bind_address="0"),
    )
    for kind in BUILTIN_KINDS.values():
        setup_runtime_controller(manager, kind)
    setup_dataset_controller(manager)
    setup_dataload_controller(manager, tuple(BUILTIN_KINDS.values()))
    return cache


def whole_kind_cache(server: Server) -> Cache:
    cache = Cache(server)  # type: ignore[arg-type]
    cache.informer_for(POD)
    return cache


def measure(label: str, server: Server, build: Callable[[Server], Cache]) -> None:
    cache = build(server)
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    ctx, cancel = Context.background().with_cancel()
    cache.start(ctx)
    cache.wait_for_cache_sync(ctx)
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pod_informers = cache.informers_of(POD)
    held = sum(len(informer.list()) for informer in pod_informers)
    print(f"{label}: {(after - before) / MIB:.1f} MiB to sync, {held} Pods cached", end="")
    print(f" ({(after - before) / max(held, 1) / KIB:.1f} KiB per cached Pod)")
    for informer in pod_informers:
        print(f"  Pod informer {informer.label_selector or '(every pod)'}: {len(informer.list())}")
    cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runtimes", type=int, default=1000, help="runtimes (default 1000)")
    parser.add_argument(
        "--unrelated-pods", type=int, default=5000, help="an application's Pods (default 5000)"
    )
    parser.add_argument("--engine", choices=sorted(LABELS), default="cacheruntime")
    args = parser.parse_args()
    server = cluster_pods(args.runtimes, args.unrelated_pods, LABELS[args.engine])
    print(
        f"{args.runtimes} {args.engine} runtimes ({2 * args.runtimes} workload Pods) among "
        f"{args.unrelated_pods} unrelated Pods"
    )
    measure("the manager's controllers", server, wired_cache)
    measure(
        "the same, objects cached whole",
        server,
        lambda server: wired_cache(server, views=False),
    )
    measure("one cluster-wide Pod informer (before)", server, whole_kind_cache)


if __name__ == "__main__":
    main()

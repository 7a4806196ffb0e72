"""`fluidpy status`: one screen per Dataset, saying where its runtime stands and what it waits for.

What a person otherwise pieces together from `kubectl get dataset`, `kubectl describe` of the
runtime and `kubectl get events`: the runtime serving the Dataset, the Dataset's phase, each
component's ready/desired pods, the cache figures (or why there are none), the last Warning, and
the Ready condition's reason while the runtime is not ready. `make dev` (hack/dev.py) prints the
same screen while its sample comes up.

Reading is split from rendering: `gather` reads the objects, `render` is a pure function of what
was read, so both the command and hack/dev.py show exactly the same text.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluidpy.client import GVK, Client
from fluidpy.client.config import KubeconfigError, load_connection
from fluidpy.controllers.kinds import BUILTIN_KINDS, DATASET
from fluidpy.controllers.progress import ComponentView, components, condition, waiting_for

EVENT = GVK("", "v1", "Event")
RUNTIME_KINDS = {kind.gvk.kind: kind.gvk for kind in BUILTIN_KINDS.values()}
RUNTIME_KINDS_BY_TYPE = {k.lower().removesuffix("runtime"): g for k, g in RUNTIME_KINDS.items()}
"""By the `type` of a Dataset's status.runtimes[] entry: cache, alluxio, jindo."""
CACHE_STATES_REPORTED = "CacheStatesReported"


@dataclass(frozen=True)
class DatasetView:
    """What `render` shows of one Dataset; every field as read, nothing computed yet."""

    namespace: str
    name: str
    phase: str
    runtime_kind: str | None
    runtime_status: dict[str, Any] = field(default_factory=dict)
    dataset_status: dict[str, Any] = field(default_factory=dict)
    last_warning: dict[str, Any] | None = None


def find_runtime(
    client: Client, dataset: dict[str, Any]
) -> tuple[str | None, dict[str, Any] | None]:
    """The runtime bound to the Dataset, else the runtime of the same name of any kind."""
    metadata = dataset["metadata"]
    namespace, name = metadata["namespace"], metadata["name"]
    for entry in (dataset.get("status") or {}).get("runtimes") or []:
        gvk = RUNTIME_KINDS_BY_TYPE.get(str(entry.get("type")))
        if gvk is not None:
            runtime = client.get(gvk, entry.get("name", name), entry.get("namespace", namespace))
            if runtime is not None:
                return gvk.kind, runtime
    for kind, gvk in RUNTIME_KINDS.items():
        runtime = client.get(gvk, name, namespace)
        if runtime is not None:
            return kind, runtime
    return None, None


def last_warning(events: list[dict[str, Any]], *objects: tuple[str, str]) -> dict[str, Any] | None:
    """The most recent Warning about any of (kind, name)."""
    warnings = [
        event
        for event in events
        if event.get("type") == "Warning"
        and (
            (event.get("involvedObject") or {}).get("kind"),
            (event.get("involvedObject") or {}).get("name"),
        )
        in objects
    ]
    return max(warnings, key=_when, default=None)


def _when(event: dict[str, Any]) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or event.get("metadata", {}).get("creationTimestamp")
        or ""
    )


def gather(
    client: Client,
    namespace: str,
    name: str,
    *,
    events: list[dict[str, Any]] | None = None,
) -> DatasetView:
    """Read one Dataset, its runtime and their last Warning (`events`: the namespace's Events,
    when the caller already listed them)."""
    dataset = client.get(DATASET, name, namespace) or {
        "metadata": {"namespace": namespace, "name": name}
    }
    kind, runtime = find_runtime(client, dataset)
    if events is None:
        events = client.list(EVENT, namespace)
    objects = {("Dataset", name)} | ({(kind, name)} if kind else set())
    return DatasetView(
        namespace=namespace,
        name=name,
        phase=str((dataset.get("status") or {}).get("phase") or "-"),
        runtime_kind=kind,
        runtime_status=(runtime or {}).get("status") or {},
        dataset_status=dataset.get("status") or {},
        last_warning=last_warning(events, *objects),
    )


def render(view: DatasetView) -> str:
    """The screen of one Dataset."""
    runtime = f"{view.runtime_kind} {view.name}" if view.runtime_kind else "no runtime yet"
    lines = [f"Dataset {view.namespace}/{view.name}  {view.phase}  ({runtime})"]
    if view.runtime_kind:
        lines.append(f"  components    {_components(components(view.runtime_status))}")
        lines.append(f"  cache         {_cache(view.dataset_status)}")
        lines.append(f"  waiting for   {waiting_for(view.runtime_status) or '- (ready)'}")
    else:
        lines.append(f"  waiting for   a runtime named {view.name} in namespace {view.namespace}")
    warning = view.last_warning
    if warning is not None:
        lines.append(
            f"  last warning  {warning.get('reason')}: {warning.get('message')} "
            f"(x{warning.get('count') or 1}, {_when(warning)})"
        )
    else:
        lines.append("  last warning  -")
    return "\n".join(lines)


def _components(views: list[ComponentView]) -> str:
    if not views:
        return "-"
    return "   ".join(f"{v.name} {v.phase} {v.counts}" for v in views)


def _cache(status: dict[str, Any]) -> str:
    states = status.get("cacheStates") or {}
    if states.get("cached") or states.get("cacheCapacity"):
        text = (
            f"cached {states.get('cached') or '-'} of {states.get('cacheCapacity') or '-'} "
            f"({states.get('cachedPercentage') or '-'})"
        )
    else:
        reported = condition(status, CACHE_STATES_REPORTED)
        text = str(reported.get("message")) if reported else "no figures yet"
    ufs = status.get("ufsTotal")
    if ufs:
        text += f"; UFS {ufs} in {status.get('fileNum') or '?'} files"
    return text


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show each Dataset, its runtime and what it waits for",
        description="One screen per Dataset: its runtime, phase, components ready/desired, "
        "cache figures, last Warning event and, while not ready, the Ready condition's reason.",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="kubeconfig to use (default: in-cluster config, else $KUBECONFIG or ~/.kube/config)",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        help="only this namespace (default: every namespace, as an overview of the cluster)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        client = Client(load_connection(args.kubeconfig), qps=0)
    except KubeconfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    datasets = client.list(DATASET, args.namespace)
    if not datasets:
        where = f"namespace {args.namespace}" if args.namespace else "any namespace"
        print(f"No Datasets in {where}.")
        return 0
    events_by_namespace: dict[str, list[dict[str, Any]]] = {}
    screens = []
    for dataset in sorted(
        datasets, key=lambda d: (d["metadata"]["namespace"], d["metadata"]["name"])
    ):
        namespace = dataset["metadata"]["namespace"]
        if namespace not in events_by_namespace:
            events_by_namespace[namespace] = client.list(EVENT, namespace)
        view = gather(
            client, namespace, dataset["metadata"]["name"], events=events_by_namespace[namespace]
        )
        screens.append(render(view))
    print("\n\n".join(screens))
    return 0

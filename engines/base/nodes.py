"""Labels on the nodes that hold a runtime's cache, as upstream Fluid sets them.

Schedulers, webhooks and people read these labels to find a Dataset's cache: the runtime label
`fluid.io/s-<type>-<ns>-<name>`, the common label `fluid.io/s-<ns>-<name>`, capacity labels per
medium, `fluid_exclusive` for exclusive placement and the `fluid.io/dataset-num` counter.

`label_changes` and `unlabel_changes` are pure (labels in, merge-patch labels out);
`CacheNodes`, `sync_cache_nodes` and `release_cache_nodes` apply them. Each node write carries
the node's resourceVersion and is retried on conflict, because `fluid.io/dataset-num` is a
counter shared by every runtime caching on the node. The state lives on the nodes: what a
process remembers only saves requests, and a restarted manager reads the nodes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fluidpy.client import GVK, parse_label_selector, retry_on_conflict
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.runtime_info import EXCLUSIVE, RuntimeInfo, capacity_by_medium
from fluidpy.engines.base.units import short_size

NODE = GVK("", "v1", "Node")
EXCLUSIVE_LABEL = "fluid_exclusive"
DATASET_NUM_LABEL = "fluid.io/dataset-num"
EXCLUDE_SELECTOR_ENV = "SCHEDULE_INFO_EXCLUDE_NODE_SELECTOR"
"""Upstream's variable: a label selector of nodes never labelled as cache nodes (read by the
manager at start-up into EngineOptions.cache_node_exclude_selector)."""

LabelPatch = dict[str, str | None]
"""Labels to set (a value) and to remove (None), as a JSON merge patch wants them."""


def cache_labels(info: RuntimeInfo) -> dict[str, str]:
    """Every label a node holding this runtime's cache carries, except the counter."""
    memory, disk = capacity_by_medium(info.tiered_store)
    labels = {info.runtime_label: "true", info.common_label: "true"}
    if memory:
        labels[info.capacity_label("m")] = short_size(memory)
    if disk:
        labels[info.capacity_label("d")] = short_size(disk)
    if memory or disk:
        labels[info.capacity_label("t")] = short_size(memory + disk)
    if info.placement == EXCLUSIVE:
        labels[EXCLUSIVE_LABEL] = info.exclusive_label_value
    return labels


def label_changes(current: Mapping[str, str], info: RuntimeInfo) -> LabelPatch:
    """What makes a node a cache node of the runtime; empty when it already is one."""
    wanted = cache_labels(info)
    patch: LabelPatch = {k: v for k, v in wanted.items() if current.get(k) != v}
    for kind in "mdt":
        stale = info.capacity_label(kind)
        if stale in current and stale not in wanted:
            patch[stale] = None
    if EXCLUSIVE_LABEL not in wanted and current.get(EXCLUSIVE_LABEL) == info.exclusive_label_value:
        patch[EXCLUSIVE_LABEL] = None  # the Dataset went from Exclusive to Shared
    if info.runtime_label not in current:
        patch[DATASET_NUM_LABEL] = str(_count(current) + 1)
    return patch


def unlabel_changes(current: Mapping[str, str], info: RuntimeInfo) -> LabelPatch:
    """What stops a node being a cache node of the runtime; empty when it is not one."""
    if info.runtime_label not in current:
        return {}
    ours = [info.runtime_label, info.common_label, *(info.capacity_label(k) for k in "mdt")]
    patch: LabelPatch = {key: None for key in ours if key in current}
    if current.get(EXCLUSIVE_LABEL) == info.exclusive_label_value:
        patch[EXCLUSIVE_LABEL] = None
    remaining = _count(current) - 1
    patch[DATASET_NUM_LABEL] = str(remaining) if remaining > 0 else None
    return patch


def _count(labels: Mapping[str, str]) -> int:
    try:
        return max(int(labels.get(DATASET_NUM_LABEL, "0")), 0)
    except ValueError:
        return 0


def _excluded(labels: Mapping[str, str], selector: str) -> bool:
    return bool(selector) and parse_label_selector(selector).matches(labels)


def scheduled_nodes(pods: Iterable[Mapping[str, Any]]) -> set[str]:
    """The nodes where `pods` run or are about to: scheduled, neither terminating nor done."""
    return {
        pod["spec"]["nodeName"]
        for pod in pods
        if (pod.get("spec") or {}).get("nodeName")
        and not pod["metadata"].get("deletionTimestamp")
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    }


def labelled_nodes(ctx: ReconcileRequestContext, label: str) -> set[str]:
    nodes = ctx.client.live.list(NODE, label_selector=f"{label}=true", ctx=ctx.ctx)
    return {node["metadata"]["name"] for node in nodes}


def _patch_node(ctx: ReconcileRequestContext, name: str, info: RuntimeInfo, add: bool) -> None:
    def attempt() -> None:
        node = ctx.client.live.get(NODE, name, ctx=ctx.ctx)
        if node is None:
            return
        labels = node["metadata"].get("labels") or {}
        if add and _excluded(labels, ctx.options.cache_node_exclude_selector):
            return
        patch = label_changes(labels, info) if add else unlabel_changes(labels, info)
        if patch:
            metadata = {"labels": patch, "resourceVersion": node["metadata"]["resourceVersion"]}
            ctx.client.patch(NODE, name, None, {"metadata": metadata}, ctx=ctx.ctx)

    retry_on_conflict(attempt)


def sync_cache_nodes(
    ctx: ReconcileRequestContext, info: RuntimeInfo, desired: Iterable[str], actual: set[str]
) -> set[str]:
    """Label the `desired` nodes and unlabel the rest of `actual`; returns the labelled set."""
    wanted = set(desired)
    for name in sorted(wanted - actual):
        _patch_node(ctx, name, info, add=True)
    for name in sorted(actual - wanted):
        _patch_node(ctx, name, info, add=False)
    return wanted


@dataclass
class CacheNodes:
    """The cache nodes one runtime's engine labelled last, and with which labels, so a steady
    runtime costs no node request. Unknown (None) at first: the first convergence, and any
    after the labels themselves change (a new tiered store, a placement change), reads the
    nodes from the API and visits every node the workers use."""

    nodes: set[str] | None = None
    labels: dict[str, str] | None = None

    def start_unlabelled(self, info: RuntimeInfo) -> None:
        """Know, without reading the nodes, that none is labelled for this runtime yet: for a
        runtime that has no status, that is before the end of its first pass. Its nodes are
        labelled only once its workers are placed, after the pass that creates them, and
        unlabelled before a deleted runtime lets go of its finalizer, so a runtime without a
        status has none of its name, and its first convergence spares a list of the cluster's
        nodes."""
        if self.nodes is None:
            self.nodes, self.labels = set(), cache_labels(info)

    def converge(self, ctx: ReconcileRequestContext, info: RuntimeInfo, desired: set[str]) -> bool:
        """Make exactly the `desired` nodes this runtime's cache nodes; False when what it
        remembers already said they are (no node was read or written)."""
        wanted = cache_labels(info)
        if self.nodes is not None and self.labels == wanted and desired == self.nodes:
            return False
        if self.nodes is None or self.labels != wanted:
            # Every desired node is visited: its labels may be missing or stale.
            self.nodes = labelled_nodes(ctx, info.runtime_label) - desired
            self.labels = wanted
        if desired != self.nodes:
            self.nodes = sync_cache_nodes(ctx, info, desired, self.nodes)
        return True


def release_cache_nodes(ctx: ReconcileRequestContext, info: RuntimeInfo) -> None:
    """Unlabel every node labelled as this runtime's cache node (at shutdown)."""
    for name in sorted(labelled_nodes(ctx, info.runtime_label)):
        _patch_node(ctx, name, info, add=False)


def remove_fuse_labels(ctx: ReconcileRequestContext, info: RuntimeInfo) -> None:
    """Remove the FUSE label Fluid's CSI plugin put on nodes; their FUSE pods then leave."""
    for name in sorted(labelled_nodes(ctx, info.fuse_label)):
        patch: dict[str, Any] = {"metadata": {"labels": {info.fuse_label: None}}}
        ctx.client.patch(NODE, name, None, patch, ctx=ctx.ctx)

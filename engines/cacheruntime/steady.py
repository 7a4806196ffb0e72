"""A bound runtime whose reads are unchanged since a pass that had nothing to do skips the work.

A bound runtime is reconciled on every change it watches and once per resync period (90 s):
at 1000 runtimes, 11 passes a second that find nothing to do, each of which would parse the
runtime, its class and its Dataset, plan, render every object and fingerprint it. What such a
pass does is decided by:

1. what it reads: the runtime and its Dataset (the objects the reconciler hands it), the
   class, whether the Secrets its components mount exist, every owned object it looks at (each
   component's name under every workload kind and as a Service, the runtime config and the
   class's extra ConfigMaps) and the runtime's pods, read once (the runtime config's topology,
   readiness, the scheduler's notes, the nodes labelled as cache nodes);
2. what its engine remembers: applies not yet in the cache (Applier), a held config write
   (DebouncedWriter), the nodes it labelled and with which labels (CacheNodes, which reads
   and writes nodes only when that memo is not already the answer: the nodes' labels are not
   read by a pass with nothing to do, so they are no input of one);
3. the engine options, fixed for the life of the process.

A pass *settles* when it wrote nothing (no apply, no delete, no config write now or held, no
node read or label), changed neither status, left no apply waiting for the cache, and every
read it made of the same object saw the same version. It leaves its engine memory as a pass
with the same reads leaves it: nothing awaiting the cache, nothing held, the cache nodes as
its pods place them. The record of a settled pass (`Settled`) is a digest of every read:
the runtime's and the Dataset's resourceVersions, and the resourceVersion of each object in
`reads` (or its absence, and for a pod list the names and versions of its pods), as the pass
saw them; reads a pass happened not to make (the scheduler's notes are read only while pods
are missing) enter the digest as they are when it is recorded, which can only make a later
pass do its work when it need not. A resourceVersion changes with every write of an object,
and a deleted and recreated object gets a new one, so equal digests mean every read would
return what the settled pass read; with the same engine memory and options the pass would
again write nothing and change nothing. The next pass therefore compares the digest of its
reads, taken from the informer cache without copying anything (`peek`), and of the Secrets'
existence, and when they match it skips parsing, planning, rendering, applying, the status of
the components and the cache nodes.

The reconciler's own phases run on every pass as before (among them the volume, whose PV and
PVC are checked in the cache), and so does what depends on time or on the Dataset's status,
from what the settled pass found: the health check (from the component states of that pass,
which depend on the workloads, whose versions are in the digest), mountUFS when the Dataset's
mounts or the master container changed, and the cache figures once per sync interval.

Reads go through the informer cache as the Client's do (the kinds read here are not among the
Client's `uncached_kinds`, Secrets by default, whose existence is checked as the pass checks
it). The record is a few hundred bytes per runtime: a digest, the names of extra ConfigMaps
and Secrets, two component states and the class's execution entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.engines.base import ReconcileRequestContext
from fluidpy.engines.cacheruntime.execution import Entry
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    COMPONENTS,
    CONFIGMAP,
    POD,
    SERVICE,
    WORKLOAD_KINDS,
    config_map_name,
    pod_selector,
    workload_name,
)
from fluidpy.engines.cacheruntime.render.status import ComponentState

Read = tuple[GVK, str | None, str, str]
"""What one read asks for: (kind, namespace, name, label selector); a get has no selector, a
list no name."""
Version = str | None | tuple[tuple[str, str], ...]
"""What a read saw: an object's resourceVersion, None when it does not exist, or a list's
(name, resourceVersion) pairs."""


def reads(
    namespace: str, name: str, class_name: str, extra_config_maps: Iterable[str]
) -> list[Read]:
    """Every read a pass of the runtime may make, in a fixed order."""
    found: list[Read] = [(CLASS_GVK, None, class_name, "")]
    for component in COMPONENTS:
        workload = workload_name(name, component)
        found += [(gvk, namespace, workload, "") for gvk in (*WORKLOAD_KINDS.values(), SERVICE)]
    found += [
        (CONFIGMAP, namespace, config_map, "")
        for config_map in (config_map_name(name), *extra_config_maps)
    ]
    found += [(POD, namespace, "", pod_selector(name))]
    return found


def version_of(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else str(obj["metadata"].get("resourceVersion", ""))


def versions_of(objects: Iterable[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((o["metadata"]["name"], str(version_of(o))) for o in objects))


def peek(client: Client, read: Read, ctx: Context) -> Version:
    """What `read` would see now, from the informer cache without a copy when it serves the
    kind (as the Client reads it), else through the Client."""
    gvk, namespace, name, selector = read
    cache = client.cache
    if selector:
        if cache is not None and cache.serves(gvk, namespace, label_selector=selector):
            return versions_of(cache.list(gvk, namespace, label_selector=selector))
        return versions_of(client.list(gvk, namespace, label_selector=selector, ctx=ctx))
    if cache is not None and cache.serves(gvk, namespace):
        return version_of(cache.get(gvk, name, namespace))
    return version_of(client.get(gvk, name, namespace, ctx=ctx))


def digest(runtime: str, dataset: str, seen: Sequence[tuple[Read, Version]]) -> bytes:
    text = repr((runtime, dataset, [(str(r[0]), *r[1:], v) for r, v in seen]))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class PassReads:
    """One pass's reads of the objects in `reads`, through the Client, each remembered with
    the version it saw."""

    def __init__(self, client: Client, ctx: Context) -> None:
        self._client = client
        self._ctx = ctx
        self.seen: dict[Read, Version] = {}
        self.steady = True
        """False once the same read saw two versions (the object changed during the pass)."""

    def get(self, gvk: GVK, name: str, namespace: str | None) -> dict[str, Any] | None:
        obj = self._client.get(gvk, name, namespace, ctx=self._ctx)
        self._saw((gvk, namespace, name, ""), version_of(obj))
        return obj

    def list(self, gvk: GVK, namespace: str, selector: str) -> list[dict[str, Any]]:
        objects = self._client.list(gvk, namespace, label_selector=selector, ctx=self._ctx)
        self._saw((gvk, namespace, "", selector), versions_of(objects))
        return objects

    def _saw(self, read: Read, version: Version) -> None:
        if self.seen.setdefault(read, version) != version:
            self.steady = False

    def digest(
        self, client: Client, runtime: str, dataset: str, every: Sequence[Read]
    ) -> bytes | None:
        """The digest of this pass's reads (`every` being all a pass may make; those this one
        did not make as they are now); None when they cannot stand for the pass (a read
        outside `every`, or one that saw two versions)."""
        if not self.steady or not self.seen.keys() <= set(every):
            return None
        seen = [(r, self.seen[r] if r in self.seen else peek(client, r, self._ctx)) for r in every]
        return digest(runtime, dataset, seen)


@dataclass(frozen=True, slots=True)
class Findings:
    """What a pass that changed nothing found, for the steps that run on every pass."""

    master: ComponentState | None
    workers: ComponentState | None
    mount_ufs: Entry | None
    report_summary: Entry | None


@dataclass(frozen=True, slots=True)
class Settled:
    """The last settled pass: the digest of its reads, what else a later pass must read to
    compare, and what it found."""

    digest: bytes
    extra_config_maps: tuple[str, ...]
    secrets: tuple[str, ...]
    """The Secrets whose existence it checked (none unless a component mounts them)."""
    found: Findings

    def holds(self, ctx: ReconcileRequestContext) -> bool:
        """Whether every read of this pass (`ctx`) would see what the settled pass saw; the
        Secrets' existence is the caller's to check."""
        class_name = str(ctx.spec.get("runtimeClassName") or "")
        every = reads(ctx.namespace, ctx.name, class_name, self.extra_config_maps)
        seen = [(read, peek(ctx.client, read, ctx.ctx)) for read in every]
        return digest(*handed_versions(ctx), seen) == self.digest


def handed_versions(ctx: ReconcileRequestContext) -> tuple[str, str]:
    """The runtime's and the Dataset's resourceVersions as the reconciler handed them."""
    return version_of(ctx.runtime) or "", version_of(ctx.dataset) or ""

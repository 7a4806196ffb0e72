"""Cache: shared informers, created on first use, and reads from their stores.

Every controller that watches Pods shares one Pod informer, whatever their number: one watch on
the API server, one copy of each object in memory. What gets cached is scoped by `namespaces`
(default: all) and, per kind, by label and field selectors evaluated by the API server, so objects
a controller never needs are never sent, let alone stored.

A kind can also be watched through label-selected informers (`informer_for(gvk, label_selector)`),
one per selector, shared by every controller that asks for the same one: the Pods of one engine's
workloads, say, without the cluster's other Pods. A list whose label selector implies such an
informer's (`app=alluxio,release=demo` implies `app=alluxio,release`) is answered from it; a get
(which names no labels) only from the kind's unselected informer, if there is one.

Reads wait until the informer has synced (an unsynced store would answer "not found" for
objects that exist) and return the stored dicts themselves: read-only, shared with every other
reader. fluidpy.client.Client hands out copies instead. A list by label in one namespace goes
through a label index (built on the first such list), so it costs the objects it finds.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fluidpy.client import (
    GVK,
    SECRET,
    Client,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from fluidpy.context import Context
from fluidpy.informer import (
    LABEL_INDEX,
    NAMESPACE_INDEX,
    SharedInformer,
    Transform,
    WatchSettings,
    default_transform,
    key_for,
    label_index,
    label_key,
    without_secret_values,
)


class CacheNotStarted(RuntimeError):
    """A read needed an informer to sync, but the cache was never started."""


@dataclass(frozen=True)
class KindOptions:
    """Per-kind scoping; None fields fall back to the cache's settings (namespaces) or to no
    selector.

    Cached reads see only what the selectors let in: a Client.get of an object outside them
    answers None, as in controller-runtime. Read such objects with `client.live`.
    """

    namespaces: Sequence[str] | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    transform: Transform | None = None
    """Replaces the cache's transform for this kind."""
    metadata_only: bool = False
    """List and watch the kind as PartialObjectMetadata: the cache knows the objects exist and
    when they change, and their contents never reach the process. They are stored under their
    own apiVersion and kind, not PartialObjectMetadata's, so readers see the kind they asked
    for."""


SECRET_OPTIONS = KindOptions(transform=without_secret_values, metadata_only=True)
"""Secrets are watched as metadata only unless `by_kind` says otherwise: their values are
never listed, watched or cached; Client reads Secrets from the API by default."""


def _named(gvk: GVK, transform: Transform | None) -> Transform:
    """`transform` for objects watched as PartialObjectMetadata, naming them `gvk` first."""

    def named(obj: dict[str, Any]) -> dict[str, Any]:
        obj["apiVersion"], obj["kind"] = gvk.api_version, gvk.kind
        return transform(obj) if transform is not None else obj

    return named


class Cache:
    """Shared informers for a client's API server.

    `namespaces` (default None: the whole cluster) limits what namespaced kinds are watched;
    cluster-scoped kinds are watched whole. `resync_period` (default 36000 s, 10 h, as
    controller-runtime; 0 disables) is passed to every informer. `by_kind` scopes single kinds
    further. `transform` (default: strip managedFields, share dict keys) runs on every object
    before it is stored. `settings` tunes list/watch behaviour (see WatchSettings).
    """

    def __init__(
        self,
        client: Client,
        *,
        namespaces: Sequence[str] | None = None,
        resync_period: float = 36000.0,
        by_kind: Mapping[GVK, KindOptions] | None = None,
        transform: Transform | None = default_transform,
        settings: WatchSettings | None = None,
    ) -> None:
        self._client = client.live
        self._namespaces = tuple(namespaces) if namespaces else None
        self._resync_period = resync_period
        self._by_kind = {SECRET: SECRET_OPTIONS, **(by_kind or {})}
        self._transform = transform
        self._settings = settings
        self._lock = threading.Lock()
        self._informers: dict[tuple[GVK, str | None], SharedInformer] = {}
        self._ctx: Context | None = None

    def informer_for(self, gvk: GVK, label_selector: str | None = None) -> SharedInformer:
        """The kind's informer (with `label_selector`, default None: the kind's whole scope),
        created on first use (and started, if the cache runs). A selected informer also keeps
        the kind's own `by_kind` selectors."""
        if label_selector:
            parse_label_selector(label_selector)  # a bad selector fails here, not in a thread
        view = (gvk, label_selector or None)
        with self._lock:
            informer = self._informers.get(view)
            if informer is not None:
                return informer
            options = self._by_kind.get(gvk, KindOptions())
            namespaces = options.namespaces if options.namespaces else self._namespaces
            selectors = [s for s in (options.label_selector, label_selector) if s]
            informer = SharedInformer(
                self._client.metadata_only() if options.metadata_only else self._client,
                gvk,
                namespaces=namespaces,
                label_selector=",".join(selectors) or None,
                field_selector=options.field_selector,
                transform=_named(gvk, options.transform or self._transform)
                if options.metadata_only
                else options.transform or self._transform,
                resync_period=self._resync_period,
                settings=self._settings,
            )
            self._informers[view] = informer
            ctx = self._ctx
        if ctx is not None:
            informer.start(ctx)
        return informer

    def informers_of(self, gvk: GVK) -> builtins.list[SharedInformer]:
        """Every informer of the kind that exists, whatever its selection."""
        with self._lock:
            return [informer for (g, _), informer in self._informers.items() if g == gvk]

    def holds_every(self, gvk: GVK, namespace: str | None = None) -> bool:
        """Whether the cache holds every object of the kind (in `namespace`; None: all) that it
        has seen exist: it serves the kind and no selector narrows it. Its answer "no such
        object" then means none exists (as of its watch), where a narrowed cache's may only mean
        "not one of ours"."""
        options = self._by_kind.get(gvk)
        if options is not None and (options.label_selector or options.field_selector):
            return False
        return self.serves(gvk, namespace)

    def serves(
        self, gvk: GVK, namespace: str | None = None, *, label_selector: str | None = None
    ) -> bool:
        """Whether a read of this kind (in this namespace, None: all; of objects matching
        `label_selector`, None: a get or an unselected list) can be answered from a synced
        informer that already exists; the Client asks before reading through the cache."""
        informer = self._serving(gvk, label_selector)
        if informer is None or not informer.has_synced():
            return False
        return namespace is None or informer.covers(namespace)

    def _serving(self, gvk: GVK, label_selector: str | None) -> SharedInformer | None:
        """The existing informer that holds every object of this kind matching `label_selector`:
        the unselected one, else a selected one whose selector the read's implies."""
        with self._lock:
            whole = self._informers.get((gvk, None))
            if whole is not None or not label_selector:
                return whole
            selected = [(s, i) for (g, s), i in self._informers.items() if g == gvk and s]
        wanted = parse_label_selector(label_selector)
        for selector, informer in selected:
            if wanted.implies(parse_label_selector(selector)):
                return informer
        return None

    def get(
        self, gvk: GVK, name: str, namespace: str | None = None, *, ctx: Context | None = None
    ) -> dict[str, Any] | None:
        """The stored object, or None. Waits for the kind's informer to sync (bounded by `ctx`,
        default the cache's own context)."""
        informer = self._synced_informer(gvk, ctx)
        if not self._client.mapping(gvk, ctx=ctx).namespaced:
            namespace = None
        return informer.get(key_for(name, namespace))

    def list(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        index: tuple[str, str] | None = None,
        ctx: Context | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Stored objects, optionally in one namespace, matching selectors, and (`index`, a
        (name, value) pair) listed through an index instead of a scan. A label selector with
        an equality (or `in`) requirement is answered through the label index."""
        informer = self._synced_informer(gvk, ctx, label_selector)
        namespaced = self._client.mapping(gvk, ctx=ctx).namespaced
        if not namespaced:
            namespace = None
        labels = parse_label_selector(label_selector) if label_selector else None
        by_label = None
        if index is None and labels is not None and (namespace is not None or not namespaced):
            by_label = _by_label(informer, labels, namespace)
        if by_label is not None:
            found = by_label
        elif index is not None:
            found = informer.by_index(*index)
            if namespace is not None:
                found = [o for o in found if o["metadata"].get("namespace") == namespace]
        elif namespace is not None:
            found = informer.by_index(NAMESPACE_INDEX, namespace)
        else:
            found = informer.list()
        if labels is not None:
            found = [obj for obj in found if labels.matches_object(obj)]
        if field_selector:
            fields = parse_field_selector(field_selector)
            found = [obj for obj in found if fields.matches_object(obj)]
        return found

    def start(self, ctx: Context) -> None:
        """Start every informer, and any created later; they stop when `ctx` ends."""
        with self._lock:
            if self._ctx is not None:
                raise RuntimeError("the cache was already started")
            self._ctx = ctx
            informers = list(self._informers.values())
        for informer in informers:
            informer.start(ctx)

    def wait_for_cache_sync(self, ctx: Context) -> bool:
        """Block until every informer has synced (True) or `ctx` ends (False)."""
        with self._lock:
            if self._ctx is None:
                raise CacheNotStarted("start the cache before waiting for it to sync")
            informers = list(self._informers.values())
        return all(informer.wait_for_sync(ctx) for informer in informers)

    def _synced_informer(
        self, gvk: GVK, ctx: Context | None, label_selector: str | None = None
    ) -> SharedInformer:
        informer = self._serving(gvk, label_selector) or self.informer_for(gvk)
        if informer.has_synced():
            return informer
        if self._ctx is None:
            raise CacheNotStarted(f"cannot read {gvk.kind} objects: the cache is not started")
        waiting = ctx if ctx is not None else self._ctx
        if not informer.wait_for_sync(waiting):
            waiting.check()
            raise CacheNotStarted(f"the cache stopped before {gvk.kind} objects synced")
        return informer


def _by_label(
    informer: SharedInformer, labels: LabelSelector, namespace: str | None
) -> builtins.list[dict[str, Any]] | None:
    """The objects (of one namespace, or cluster-scoped: `namespace` None) holding the label
    value of the selector's most selective equality or `in` requirement, a superset of the
    answer; None when the selector has no such requirement."""
    candidates = None
    for requirement in labels.requirements:
        if requirement.operator not in ("=", "in"):
            continue
        informer.ensure_indexer(LABEL_INDEX, label_index)
        found = [
            obj
            for value in requirement.values
            for obj in informer.by_index(LABEL_INDEX, label_key(requirement.key, value, namespace))
        ]
        if candidates is None or len(found) < len(candidates):
            candidates = found
    return candidates

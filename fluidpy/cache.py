"""Cache: one shared informer per kind, created on first use, and reads from their stores.

Every controller that watches Pods shares one Pod informer, whatever their number: one watch on
the API server, one copy of each object in memory. What gets cached is scoped by `namespaces`
(default: all) and, per kind, by label and field selectors evaluated by the API server, so objects
a controller never needs are never sent, let alone stored.

Reads wait until the kind's informer has synced (an unsynced store would answer "not found" for
objects that exist) and return the stored dicts themselves: read-only, shared with every other
reader. fluidpy.client.Client hands out copies instead.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fluidpy.client import GVK, SECRET, Client, parse_field_selector, parse_label_selector
from fluidpy.context import Context
from fluidpy.informer import (
    NAMESPACE_INDEX,
    SharedInformer,
    Transform,
    WatchSettings,
    default_transform,
    key_for,
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
    when they change, and their contents never reach the process."""


SECRET_OPTIONS = KindOptions(transform=without_secret_values, metadata_only=True)
"""Secrets are watched as metadata only unless `by_kind` says otherwise: their values are
never listed, watched or cached; Client reads Secrets from the API by default."""


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
        self._informers: dict[GVK, SharedInformer] = {}
        self._ctx: Context | None = None

    def informer_for(self, gvk: GVK) -> SharedInformer:
        """The kind's informer, created on first use (and started, if the cache runs)."""
        with self._lock:
            informer = self._informers.get(gvk)
            if informer is not None:
                return informer
            options = self._by_kind.get(gvk, KindOptions())
            namespaces = options.namespaces if options.namespaces else self._namespaces
            informer = SharedInformer(
                self._client.metadata_only() if options.metadata_only else self._client,
                gvk,
                namespaces=namespaces,
                label_selector=options.label_selector,
                field_selector=options.field_selector,
                transform=options.transform or self._transform,
                resync_period=self._resync_period,
                settings=self._settings,
            )
            self._informers[gvk] = informer
            ctx = self._ctx
        if ctx is not None:
            informer.start(ctx)
        return informer

    def serves(self, gvk: GVK, namespace: str | None = None) -> bool:
        """Whether a read of this kind (in this namespace, None: all) can be answered from a
        synced informer that already exists; the Client asks before reading through the cache."""
        with self._lock:
            informer = self._informers.get(gvk)
        if informer is None or not informer.has_synced():
            return False
        return namespace is None or informer.covers(namespace)

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
        (name, value) pair) listed through an index instead of a scan."""
        informer = self._synced_informer(gvk, ctx)
        if namespace is not None and not self._client.mapping(gvk, ctx=ctx).namespaced:
            namespace = None
        if index is not None:
            found = informer.by_index(*index)
            if namespace is not None:
                found = [o for o in found if o["metadata"].get("namespace") == namespace]
        elif namespace is not None:
            found = informer.by_index(NAMESPACE_INDEX, namespace)
        else:
            found = informer.list()
        if label_selector:
            labels = parse_label_selector(label_selector)
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

    def _synced_informer(self, gvk: GVK, ctx: Context | None) -> SharedInformer:
        informer = self.informer_for(gvk)
        if informer.has_synced():
            return informer
        if self._ctx is None:
            raise CacheNotStarted(f"cannot read {gvk.kind} objects: the cache is not started")
        waiting = ctx if ctx is not None else self._ctx
        if not informer.wait_for_sync(waiting):
            waiting.check()
            raise CacheNotStarted(f"the cache stopped before {gvk.kind} objects synced")
        return informer

"""SharedInformer: a kind's objects, listed then watched into an indexed store, with events.

How it keeps the store right:

- List, then watch from the list's resourceVersion with bookmarks on, so the version to resume
  from stays fresh even when nothing of this kind changes.
- Every watch asks the server to end it after a random 5 to 10 minutes (spreading reconnects of
  many clients over time) and is simply reopened from the last version seen.
- A watch that delivers no byte within `inactivity_timeout` is presumed dead (a NAT or proxy can
  drop a connection without either end noticing) and is reopened. A live watch that asked for
  bookmarks is never that quiet for long: the API server sends one about every minute, but
  (measured on Kubernetes 1.35, see WatchSettings) the first only some two minutes after the
  watch opened. The default of 150 s covers that first gap with room for a busy server, and
  still notices a dead stream long before the watch's own 5-to-10-minute timeout would. A
  shorter timeout (kopf uses 70 s) would reopen every quiet watch before its first bookmark,
  over and over.
- When the server no longer has the history to resume from (410 Gone, after a compaction or an
  API server restart), the informer lists again with a quorum read and replaces its store: new
  objects become adds, changed ones updates, and objects that vanished meanwhile deletes.
- Any other failure (connection refused, reset, 5xx) is retried from the last version after a
  backoff (0.8 s doubling to 30 s, jittered, reset after two healthy minutes).
- Every `resync_period` (default 10 h, jittered by 10 % either way, as controller-runtime) every
  cached object is replayed to the handlers as an update with old and new the same object: a
  safety net for controllers that lost an event, not a polling mechanism (use requeue_after).

Threads: each watched namespace (or the whole cluster) has a thread running that loop, and one
more thread per informer waits for the context to end (then closes the open watch streams, which
unblocks their readers at once) and runs the resyncs. Handlers are called on those threads, one
event at a time per informer, always after the store shows the change. They must be quick
(controllers only enqueue a key); an exception in one is logged and the informer carries on.

Objects from the initial list reach on_add with is_initial_list=True, so a controller can give
the start-up flood a low priority; a handler added after the informer synced gets the current
objects the same way.
"""

from __future__ import annotations

import builtins
import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from fluidpy.client.errors import ApiError, Gone
from fluidpy.client.gvk import GVK
from fluidpy.client.mapping import NoKindMatch, RESTMapping
from fluidpy.client.watch import BOOKMARK, DELETED
from fluidpy.context import Context, ContextError
from fluidpy.informer.backoff import Backoff
from fluidpy.informer.store import Change, IndexFunc, Obj, Store, changed, object_key
from fluidpy.informer.transform import Transform, default_transform


def _logger(**context: Any) -> Any:
    """A logger bound now: one bound at import time would keep the logging set-up of that time."""
    return structlog.get_logger().bind(logger="fluidpy.informer", **context)


class EventHandler(Protocol):
    def on_add(self, obj: Obj, is_initial_list: bool) -> None: ...
    def on_update(self, old: Obj, new: Obj) -> None: ...
    def on_delete(self, obj: Obj) -> None: ...


@dataclass(frozen=True)
class HandlerFuncs:
    """An EventHandler from plain functions; the events without one are ignored."""

    add: Callable[[Obj, bool], None] | None = None
    update: Callable[[Obj, Obj], None] | None = None
    delete: Callable[[Obj], None] | None = None

    def on_add(self, obj: Obj, is_initial_list: bool) -> None:
        if self.add is not None:
            self.add(obj, is_initial_list)

    def on_update(self, old: Obj, new: Obj) -> None:
        if self.update is not None:
            self.update(old, new)

    def on_delete(self, obj: Obj) -> None:
        if self.delete is not None:
            self.delete(obj)


class WatchEvents(Protocol):
    def __iter__(self) -> Iterator[tuple[str, Obj]]: ...
    def close(self) -> None: ...


class ListWatcher(Protocol):
    """What an informer needs from a client; fluidpy.client.Client provides it."""

    def mapping(self, gvk: GVK, *, ctx: Context | None = None) -> RESTMapping: ...

    def list_with_version(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        page_size: int = ...,
        ctx: Context | None = None,
    ) -> tuple[list[Obj], str]: ...

    def watch(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        resource_version: str,
        timeout_seconds: int,
        label_selector: str | None = None,
        field_selector: str | None = None,
        allow_bookmarks: bool = True,
        inactivity_timeout: float | None = None,
        ctx: Context | None = None,
    ) -> WatchEvents: ...


@dataclass(frozen=True)
class WatchSettings:
    """How an informer lists and watches; the defaults suit any cluster."""

    min_watch_timeout: float = 300.0
    """Shortest server-side watch timeout, seconds (client-go: 5 min)."""
    max_watch_timeout: float = 600.0
    """Longest server-side watch timeout, seconds (client-go: 10 min)."""
    inactivity_timeout: float = 150.0
    """Seconds without a byte after which a watch is presumed dead. On a quiet watch the API
    server (1.35, measured) sent its first bookmark 121 s after the watch opened, then one every
    60 s; 150 s stays clear of both (see the module docstring)."""
    backoff_initial: float = 0.8
    """First delay after a failure, seconds (client-go)."""
    backoff_cap: float = 30.0
    """Longest delay between failures, before jitter, seconds (client-go)."""
    backoff_reset_after: float = 120.0
    """Seconds without failure after which the delay starts over (client-go)."""
    page_size: int = 500
    """Objects per page of a list (client-go's pager); 0 lists in one request."""

    def backoff(self) -> Backoff:
        return Backoff(self.backoff_initial, self.backoff_cap, reset_after=self.backoff_reset_after)


@dataclass
class _Cursor:
    """Where a watch resumes; None means "list first"."""

    version: str | None = None


def needs_relist(error: ApiError) -> bool:
    """Whether resuming the watch cannot work and only a fresh list can: the version is gone
    from the server's history, or (after an API server restart) ahead of what it has seen."""
    if isinstance(error, Gone):
        return True
    causes = (error.body.get("details") or {}).get("causes") or ()
    return any(cause.get("reason") == "ResourceVersionTooLarge" for cause in causes)


class SharedInformer:
    """One kind's objects, in one set of namespaces (None: all), under optional selectors.

    `namespaces` is ignored for cluster-scoped kinds. `transform` (default: strip managedFields
    and share dict keys) runs on every object before it is stored; None stores objects as
    received. `resync_period` in seconds (default 36000, 10 h; 0 disables) replays the store to
    the handlers.
    """

    def __init__(
        self,
        client: ListWatcher,
        gvk: GVK,
        *,
        namespaces: Sequence[str] | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        transform: Transform | None = default_transform,
        resync_period: float = 36000.0,
        settings: WatchSettings | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
    ) -> None:
        self.gvk = gvk
        self.namespaces = tuple(namespaces) if namespaces is not None else None
        self.label_selector = label_selector
        self.field_selector = field_selector
        self._client = client
        self._transform = transform
        self._resync_period = resync_period
        self._settings = settings or WatchSettings()
        self._store = Store(indexers)
        self._handlers: tuple[EventHandler, ...] = ()
        # Held while the store changes and handlers run: one event at a time per informer, and a
        # handler added concurrently sees every object exactly once (replay or live event).
        self._dispatch = threading.RLock()
        self._streams: set[WatchEvents] = set()
        self._streams_lock = threading.Lock()
        self._unsynced: set[str | None] = set()
        self._scopes_watched: frozenset[str | None] = frozenset()
        self._synced = threading.Event()
        self._started = False
        self._log_context = {"kind": gvk.kind, "api_version": gvk.api_version}

    # Reading

    def get(self, key: str) -> Obj | None:
        """The object stored under "namespace/name" (or "name" if cluster-scoped)."""
        return self._store.get(key)

    def list(self) -> list[Obj]:
        return self._store.list()

    def by_index(self, index: str, value: str) -> builtins.list[Obj]:
        return self._store.by_index(index, value)

    def has_synced(self) -> bool:
        """True once the initial list of every namespace is stored and handed to handlers."""
        return self._synced.is_set()

    def covers(self, namespace: str) -> bool:
        """Whether the store holds this namespace's objects (all of them, bar selectors)."""
        scopes = self._scopes_watched
        return None in scopes or namespace in scopes

    def wait_for_sync(self, ctx: Context) -> bool:
        """Block until synced (True) or until the context ends (False)."""
        while not self._synced.wait(0.1):
            if ctx.done():
                return self._synced.is_set()
        return True

    # Configuring

    def add_event_handler(self, handler: EventHandler) -> None:
        """Add a handler; it first receives every object already stored, as initial adds."""
        with self._dispatch:
            self._handlers = (*self._handlers, handler)
            for obj in self._store.list():
                self._call(handler.on_add, obj, True)

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self._store.add_indexers(indexers)

    def ensure_indexer(self, name: str, func: IndexFunc) -> None:
        self._store.ensure_indexer(name, func)

    # Running

    def start(self, ctx: Context) -> None:
        """Start the list/watch threads; they stop when `ctx` ends. Returns at once."""
        with self._dispatch:
            if self._started:
                raise RuntimeError(f"the informer for {self.gvk} was already started")
            self._started = True
        name = f"informer-{self.gvk.kind}"
        threading.Thread(target=self._run, args=(ctx,), name=name, daemon=True).start()
        threading.Thread(
            target=self._housekeep, args=(ctx,), name=f"{name}-housekeeping", daemon=True
        ).start()

    def _run(self, ctx: Context) -> None:
        scopes = self._scopes(ctx)
        if scopes is None:
            return
        self._unsynced.update(scopes)
        self._scopes_watched = frozenset(scopes)
        for scope in scopes[1:]:
            threading.Thread(
                target=self._reflect,
                args=(ctx, scope),
                name=f"informer-{self.gvk.kind}-{scope}",
                daemon=True,
            ).start()
        self._reflect(ctx, scopes[0])

    def _scopes(self, ctx: Context) -> builtins.list[str | None] | None:
        """The namespaces to watch separately, or [None] for one cluster-wide watch. Learning
        whether the kind is namespaced may need discovery, retried until it works."""
        if not self.namespaces:
            return [None]
        backoff = self._settings.backoff()
        while not ctx.done():
            try:
                namespaced = self._client.mapping(self.gvk, ctx=ctx).namespaced
            except ContextError:
                return None
            except Exception as error:
                self._log().warning("cannot map kind; retrying", error=str(error))
                ctx.wait(backoff.next_delay())
                continue
            return list(dict.fromkeys(self.namespaces)) if namespaced else [None]
        return None

    def _reflect(self, ctx: Context, namespace: str | None) -> None:
        """List and watch one namespace (None: all) until the context ends."""
        backoff = self._settings.backoff()
        cursor = _Cursor()
        list_version = "0"  # the first list may come from the API server's watch cache
        initial = True
        while not ctx.done():
            try:
                if cursor.version is None:
                    cursor.version = self._list(ctx, namespace, list_version, initial)
                    initial = False
                self._watch(ctx, namespace, cursor)
                continue
            except ContextError:
                return
            except NoKindMatch as error:
                self._log(namespace).warning("kind not served (yet); retrying", error=str(error))
            except ApiError as error:
                if ctx.done():
                    return
                if needs_relist(error):
                    self._log(namespace).info(
                        "watch history expired; relisting", version=cursor.version
                    )
                    cursor.version, list_version = None, ""
                else:
                    self._log(namespace).warning(
                        "list/watch failed", error=str(error), version=cursor.version
                    )
            except Exception:
                if ctx.done():
                    return
                self._log(namespace).exception(
                    "list/watch failed unexpectedly", version=cursor.version
                )
            ctx.wait(backoff.next_delay())

    def _list(self, ctx: Context, namespace: str | None, version: str, initial: bool) -> str:
        """List into the store; the version to watch from. The objects as received (before the
        transform) go when this returns: held by the watch loop, they would double the cache's
        memory until the next relist."""
        items, listed = self._client.list_with_version(
            self.gvk,
            namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            resource_version=version,
            page_size=self._settings.page_size,
            ctx=ctx,
        )
        self._replace(items, namespace, initial)
        return listed

    def _watch(self, ctx: Context, namespace: str | None, cursor: _Cursor) -> None:
        """Apply a watch's events until the server ends it, moving the cursor along, so a
        failure midway resumes after the last event applied rather than before the first."""
        assert cursor.version is not None
        settings = self._settings
        timeout = random.uniform(settings.min_watch_timeout, settings.max_watch_timeout)
        stream = self._client.watch(
            self.gvk,
            namespace,
            resource_version=cursor.version,
            timeout_seconds=int(timeout),
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            allow_bookmarks=True,
            inactivity_timeout=settings.inactivity_timeout,
            ctx=ctx,
        )
        with self._streams_lock:
            self._streams.add(stream)
        try:
            if ctx.done():
                return  # the housekeeper may have closed streams before this one
            for event_type, raw in stream:
                if event_type == BOOKMARK:
                    cursor.version = raw["metadata"]["resourceVersion"]
                else:
                    cursor.version = self._apply(event_type, raw)
        finally:
            with self._streams_lock:
                self._streams.discard(stream)
            stream.close()

    def _housekeep(self, ctx: Context) -> None:
        """Resync periodically; when the context ends, close open watches to wake readers."""
        while True:
            period = self._resync_period
            wait = random.uniform(0.9 * period, 1.1 * period) if period > 0 else None
            if ctx.wait(wait):
                break
            if self.has_synced():
                self._resync()
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    # Store changes and dispatch

    def _apply(self, event_type: str, raw: Obj) -> str:
        obj = self._transform(raw) if self._transform is not None else raw
        key = object_key(obj)
        with self._dispatch:
            if event_type == DELETED:
                if self._store.delete(key) is not None:
                    self._notify(Change("delete", key, obj, None), False)
            else:
                old = self._store.upsert(key, obj)
                if old is None:
                    self._notify(Change("add", key, None, obj), False)
                elif changed(old, obj):
                    self._notify(Change("update", key, old, obj), False)
        return str(obj["metadata"]["resourceVersion"])

    def _replace(self, items: builtins.list[Obj], namespace: str | None, initial: bool) -> None:
        transform = self._transform
        fresh: dict[str, Obj] = {}
        for raw in items:
            obj = transform(raw) if transform is not None else raw
            fresh[object_key(obj)] = obj
        with self._dispatch:
            changes = self._store.replace(fresh, namespace)
            for change in changes:
                self._notify(change, initial)
            if initial:
                self._unsynced.discard(namespace)
                if not self._unsynced:
                    self._synced.set()
        if not initial:
            self._log(namespace).info("relisted", objects=len(fresh), changes=len(changes))

    def _notify(self, change: Change, initial: bool) -> None:
        for handler in self._handlers:
            if change.type == "add":
                assert change.new is not None
                self._call(handler.on_add, change.new, initial)
            elif change.type == "update":
                assert change.old is not None and change.new is not None
                self._call(handler.on_update, change.old, change.new)
            else:
                assert change.old is not None
                self._call(handler.on_delete, change.old)

    def _resync(self) -> None:
        with self._dispatch:
            for obj in self._store.list():
                for handler in self._handlers:
                    self._call(handler.on_update, obj, obj)

    def _log(self, namespace: str | None = None) -> Any:
        if namespace is None:
            return _logger(**self._log_context)
        return _logger(**self._log_context, namespace=namespace)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            self._log().exception("event handler failed", handler=getattr(fn, "__qualname__", fn))

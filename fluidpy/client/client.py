"""The Client: Kubernetes objects as plain dicts, read from a cache, written to the API server.

Reads (get, list) come from the attached Cache for every kind it holds a synced informer for,
and from the API server otherwise: a kind is cached only because something asked the cache to
watch it (a controller's for/owns/watches, or an explicit `cache.informer_for`), never as a side
effect of a read. Implicit informers are how Go operators end up watching every Secret in a
cluster; here a read of an unwatched kind costs one request and no memory. Secrets are never
read from the cache unless `uncached_kinds` says otherwise (Fluid reads them live too): they are
large, sensitive and rarely read. Reads through the cache return deep copies, so callers may
change what they get without corrupting the cache. `client.live` reads from the API server always.

Writes always go to the API server: create, update, patch (merge, JSON or strategic), delete,
server-side apply with one field manager, and the same for the status subresource.

Every call first checks its Context, waits for the client-side rate limit (Fluid's 20 qps with
bursts of 30 by default; qps <= 0 turns it off) and bounds its HTTP timeout by the context's
deadline.
"""

from __future__ import annotations

import builtins
import copy
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from fluidpy.client.connection import ApiServerConnection
from fluidpy.client.errors import Gone, NotFound
from fluidpy.client.gvk import GVK
from fluidpy.client.mapping import RESTMapper, RESTMapping, resource_path
from fluidpy.client.ratelimit import TokenBucket
from fluidpy.client.transport import (
    METADATA_OBJECT,
    METADATA_ONLY,
    Query,
    Transport,
    WriteFence,
)
from fluidpy.client.watch import WatchStream
from fluidpy.context import Context

if TYPE_CHECKING:
    from fluidpy.cache import Cache

PatchType = Literal["merge", "json", "strategic"]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
# Server-side apply takes YAML; JSON is valid YAML, so the body needs no YAML encoder.
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
JSON_CONTENT_TYPE = "application/json"

SECRET = GVK("", "v1", "Secret")

# The API server gives up on a non-watch request after 60 s (its --request-timeout default), so
# waiting longer on our side never yields an answer.
DEFAULT_REQUEST_TIMEOUT = 60.0
# client-go's pager size: big enough that a list of a few thousand objects takes a handful of
# requests, small enough that no single answer holds the API server's memory for long.
DEFAULT_PAGE_SIZE = 500


class Client:
    """Talks to one API server through an ApiServerConnection (see fluidpy.client.config).

    `qps` (default 20.0) and `burst` (default 30) are Fluid's client-side limits; qps <= 0
    disables limiting. `field_manager` (default "fluidpy") names this client in managedFields
    for every write and owns the fields of server-side applies. `cache` serves reads (see the
    module docstring); `uncached_kinds` (default Secrets) are always read live. `request_timeout`
    (default 60 s) bounds any request without a shorter context deadline.

    Derived clients (`live`, `with_cache`) share the rate limit, the connection pool and the
    discovery cache of the client they come from.
    """

    def __init__(
        self,
        connection: ApiServerConnection,
        *,
        qps: float = 20.0,
        burst: int = 30,
        field_manager: str = "fluidpy",
        cache: Cache | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        uncached_kinds: Iterable[GVK] = (SECRET,),
    ) -> None:
        transport = Transport(connection, qps=qps, burst=burst, request_timeout=request_timeout)
        self._transport = transport
        self._mapper = RESTMapper(lambda path, ctx: transport.request("GET", path, ctx=ctx))
        self._field_manager = field_manager
        self._cache = cache
        self._uncached = frozenset(uncached_kinds)

    @property
    def connection(self) -> ApiServerConnection:
        return self._transport.connection

    @property
    def rate_limiter(self) -> TokenBucket | None:
        """The client-side bucket every request waits on; None when there is no such limit."""
        return self._transport.bucket

    @property
    def field_manager(self) -> str:
        return self._field_manager

    @property
    def cache(self) -> Cache | None:
        return self._cache

    @property
    def live(self) -> Client:
        """This client without its cache: every read asks the API server."""
        return self.with_cache(None)

    def with_cache(self, cache: Cache | None) -> Client:
        """This client (same limits, connections and discovery) reading through `cache`."""
        if cache is self._cache:
            return self
        derived = copy.copy(self)
        derived._cache = cache
        return derived

    def with_own_rate_limit(self) -> Client:
        """This client with a client-side rate limit of its own (same qps and burst)."""
        derived = copy.copy(self)
        derived._transport = self._transport.with_own_rate_limit()
        return derived

    def with_field_manager(self, field_manager: str) -> Client:
        """This client, naming its writes `field_manager` in managedFields."""
        derived = copy.copy(self)
        derived._field_manager = field_manager
        return derived

    def metadata_only(self) -> Client:
        """This client reading objects as their metadata alone (PartialObjectMetadata): what an
        informer needs to know that objects exist and when they change, and nothing more."""
        derived = copy.copy(self)
        derived._transport = self._transport.accepting(METADATA_ONLY, METADATA_OBJECT)
        return derived

    def with_write_fence(self, fence: WriteFence) -> Client:
        """This client, refusing (WriteFenced, nothing sent) every write `fence` denies."""
        derived = copy.copy(self)
        derived._transport = self._transport.fenced(fence)
        return derived

    def mapping(self, gvk: GVK, *, ctx: Context | None = None) -> RESTMapping:
        """The kind's plural and scope; raises NoKindMatch for a kind the server does not serve."""
        return self._mapper.mapping(gvk, ctx)

    # Reads

    def get(
        self, gvk: GVK, name: str, namespace: str | None = None, *, ctx: Context | None = None
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        cache = self._reading_cache(gvk, namespace, ctx)
        if cache is not None:
            cached = cache.get(gvk, name, namespace)
            return deep_copy(cached) if cached is not None else None
        path = resource_path(self.mapping(gvk, ctx=ctx), namespace, name)
        try:
            obj: dict[str, Any] = self._transport.request("GET", path, ctx=ctx)
        except NotFound:
            return None
        return obj

    def list(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        ctx: Context | None = None,
    ) -> list[dict[str, Any]]:
        """Objects of a kind, in one namespace or (namespace None) in all."""
        cache = self._reading_cache(gvk, namespace, ctx, label_selector)
        if cache is not None:
            found = cache.list(
                gvk, namespace, label_selector=label_selector, field_selector=field_selector
            )
            return [deep_copy(obj) for obj in found]
        items, _ = self.list_with_version(
            gvk, namespace, label_selector=label_selector, field_selector=field_selector, ctx=ctx
        )
        return items

    def list_with_version(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        ctx: Context | None = None,
    ) -> tuple[builtins.list[dict[str, Any]], str]:
        """A live list and the resourceVersion it is consistent with (where a watch resumes).

        `resource_version` None or "" asks for the latest state (a quorum read); "0" accepts the
        API server's watch cache, cheaper and possibly slightly stale. Pages of `page_size`
        (0 for one request) are fetched until the list is complete; if a continuation expires
        midway, the list is fetched again in one piece. Items carry apiVersion and kind, which
        the API leaves out of list items.
        """
        path = resource_path(self.mapping(gvk, ctx=ctx), namespace)
        selectors = _selector_query(label_selector, field_selector)
        items: builtins.list[dict[str, Any]] = []
        token = ""
        while True:
            query = list(selectors)
            if token:
                query.append(("continue", token))
            elif resource_version is not None:
                query.append(("resourceVersion", resource_version))
            if page_size > 0:
                query.append(("limit", str(page_size)))
            try:
                page = self._transport.request("GET", path, query=query, ctx=ctx)
            except Gone:
                if not token:
                    raise
                items, token, page_size = [], "", 0
                continue
            items.extend(page.get("items") or ())
            metadata = page.get("metadata") or {}
            token = metadata.get("continue") or ""
            if not token:
                break
        api_version, kind = gvk.api_version, gvk.kind
        for item in items:
            item["apiVersion"] = api_version
            item["kind"] = kind
        return items, str(metadata.get("resourceVersion") or "")

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
    ) -> WatchStream:
        """Changes after `resource_version`, until the server ends the watch (after
        `timeout_seconds`) or the stream is closed.

        ERROR events raise their ApiError (Gone when the version is too old). A stream that
        delivers no byte for `inactivity_timeout` seconds (default: the server's timeout plus a
        minute) raises WatchInactive. The context is checked before the request is sent; to stop
        a stream while it waits for data, close() it from another thread.
        """
        path = resource_path(self.mapping(gvk, ctx=ctx), namespace)
        query: builtins.list[tuple[str, str]] = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(int(timeout_seconds))),
        ]
        if allow_bookmarks:
            query.append(("allowWatchBookmarks", "true"))
        query.extend(_selector_query(label_selector, field_selector))
        read_timeout = inactivity_timeout if inactivity_timeout else timeout_seconds + 60.0
        response = self._transport.open_stream(
            path, query=query, read_timeout=read_timeout, ctx=ctx
        )
        return WatchStream(response, read_timeout)

    # Writes

    def create(self, obj: Mapping[str, Any], *, ctx: Context | None = None) -> dict[str, Any]:
        """Create the object (metadata.generateName works); AlreadyExists when the name is taken."""
        mapping = self.mapping(GVK.of_object(obj), ctx=ctx)
        namespace = _namespace_of(obj, mapping)
        return self._write("POST", resource_path(mapping, namespace), obj, ctx=ctx)

    def update(self, obj: Mapping[str, Any], *, ctx: Context | None = None) -> dict[str, Any]:
        """Replace the object; Conflict when its resourceVersion is stale."""
        return self._write("PUT", self._object_path(obj, None, ctx), obj, ctx=ctx)

    def update_status(
        self, obj: Mapping[str, Any], *, ctx: Context | None = None
    ) -> dict[str, Any]:
        """Replace the status subresource (other changes in `obj` are ignored by the server)."""
        path = self._object_path(obj, "status", ctx)
        return self._write("PUT", path, obj, ctx=ctx)

    def patch(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None,
        patch: Any,
        *,
        patch_type: PatchType = "merge",
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Patch the object. "merge" is RFC 7386, "json" RFC 6902 (a list of operations),
        "strategic" Kubernetes' strategic merge (built-in kinds only)."""
        path = resource_path(self.mapping(gvk, ctx=ctx), namespace, name)
        return self._write(
            "PATCH", path, patch, content_type=_patch_content_type(patch_type), ctx=ctx
        )

    def patch_status(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None,
        patch: Any,
        *,
        patch_type: PatchType = "merge",
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        path = resource_path(self.mapping(gvk, ctx=ctx), namespace, name, "status")
        return self._write(
            "PATCH", path, patch, content_type=_patch_content_type(patch_type), ctx=ctx
        )

    def apply(
        self, obj: Mapping[str, Any], *, force: bool = True, ctx: Context | None = None
    ) -> dict[str, Any]:
        """Server-side apply: make the fields in `obj` (and only those) what this field manager
        wants, creating the object if needed.

        `force` (default True) takes over fields another manager set: a controller is the
        authority on the objects it renders, and without force a conflict would need a human.
        """
        return self._apply(obj, force, None, ctx)

    def apply_status(
        self, obj: Mapping[str, Any], *, force: bool = True, ctx: Context | None = None
    ) -> dict[str, Any]:
        """Server-side apply of the status subresource."""
        return self._apply(obj, force, "status", ctx)

    def delete(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        ctx: Context | None = None,
    ) -> bool:
        """Delete the object; False when it was already gone.

        `propagation_policy` is "Foreground", "Background" or "Orphan" (default: the kind's own,
        Background for most). `preconditions` ({"uid": ..., "resourceVersion": ...}) make the
        delete fail with Conflict if the object changed.
        """
        path = resource_path(self.mapping(gvk, ctx=ctx), namespace, name)
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = dict(preconditions)
        try:
            self._transport.request(
                "DELETE", path, body=_encode(options), content_type=JSON_CONTENT_TYPE, ctx=ctx
            )
        except NotFound:
            return False
        return True

    # Helpers

    def _reading_cache(
        self,
        gvk: GVK,
        namespace: str | None,
        ctx: Context | None,
        label_selector: str | None = None,
    ) -> Cache | None:
        if ctx is not None:
            ctx.check()
        cache = self._cache
        if cache is None or gvk in self._uncached:
            return None
        if not cache.serves(gvk, namespace, label_selector=label_selector):
            return None
        return cache

    def _object_path(
        self, obj: Mapping[str, Any], subresource: str | None, ctx: Context | None
    ) -> str:
        mapping = self.mapping(GVK.of_object(obj), ctx=ctx)
        name = obj.get("metadata", {}).get("name")
        if not name:
            raise ValueError("the object has no metadata.name")
        return resource_path(mapping, _namespace_of(obj, mapping), name, subresource)

    def _apply(
        self, obj: Mapping[str, Any], force: bool, subresource: str | None, ctx: Context | None
    ) -> dict[str, Any]:
        path = self._object_path(obj, subresource, ctx)
        metadata = obj.get("metadata", {})
        if "managedFields" in metadata:
            # The server rejects an apply that carries managedFields; an object read back from
            # the API still has them, and they are never part of what a controller wants.
            obj = {**obj, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}
        extra = [("force", "true")] if force else []
        return self._write(
            "PATCH", path, obj, content_type=APPLY_CONTENT_TYPE, ctx=ctx, query=extra
        )

    def _write(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        content_type: str = JSON_CONTENT_TYPE,
        ctx: Context | None,
        query: Query = (),
    ) -> dict[str, Any]:
        params = [("fieldManager", self._field_manager), *query]
        result: dict[str, Any] = self._transport.request(
            method, path, query=params, body=_encode(body), content_type=content_type, ctx=ctx
        )
        return result


def deep_copy(value: Any) -> Any:
    """A copy of a JSON tree (dicts, lists, scalars), several times faster than copy.deepcopy."""
    if type(value) is dict:
        return {key: deep_copy(item) for key, item in value.items()}
    if type(value) is list:
        return [deep_copy(item) for item in value]
    return value


def _patch_content_type(patch_type: str) -> str:
    try:
        return PATCH_CONTENT_TYPES[patch_type]
    except KeyError:
        raise ValueError(f"patch_type must be one of {sorted(PATCH_CONTENT_TYPES)}") from None


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _namespace_of(obj: Mapping[str, Any], mapping: RESTMapping) -> str | None:
    namespace = obj.get("metadata", {}).get("namespace")
    if mapping.namespaced and not namespace:
        raise ValueError(f"{mapping.gvk.kind} is namespaced: the object needs metadata.namespace")
    return str(namespace) if namespace else None


def _selector_query(
    label_selector: str | None, field_selector: str | None
) -> list[tuple[str, str]]:
    query = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    return query

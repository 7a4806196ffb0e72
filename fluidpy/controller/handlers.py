"""Event handlers: turn informer events into requests on a controller's queue.

A handler is registered on a shared informer and runs on that informer's thread, so it must be
quick and must never raise into it: it filters the event through predicates, maps the object to
requests, and adds them to the queue, which never blocks. An exception from a predicate or a map
function is logged with its traceback and the event is dropped.

Three mappings cover the usual watches:

- `request_for_object`: the object itself (the controller's primary kind);
- `owner_mapper(owner)`: the object's controller owner, i.e. the ownerReferences entry with
  controller=true whose kind and API group match the primary kind (the version may differ, since
  owner references outlive API version changes);
- any function from an object to requests, for relations that are not ownership.

Updates map both the old and the new object, so a change that moves an object from one owner
(or one mapped request) to another reconciles both sides.

Priorities: objects delivered by the informer's initial list, and resync updates (old and new
are the same object, or carry the same resourceVersion), are added at LOW_PRIORITY; every live
change is added at the default priority and so is served first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from fluidpy.client import GVK
from fluidpy.controller.predicates import Predicate
from fluidpy.controller.reconcile import Request
from fluidpy.log import get_logger
from fluidpy.workqueue import LOW_PRIORITY

LOGGER = "fluidpy.controller"

Object = Mapping[str, Any]
MapFunc = Callable[[Object], Iterable[Request]]


class RequestSink(Protocol):
    """The part of a work queue a handler uses."""

    def add(self, item: Request, priority: int = 0) -> None: ...


def request_for_object(obj: Object) -> list[Request]:
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        return []
    return [Request(meta.get("namespace") or "", name)]


def owner_mapper(owner: GVK, *, owner_namespaced: bool = True) -> MapFunc:
    """Map an object to its controller owner of kind `owner`.

    A namespaced owner lives in the object's namespace (Kubernetes forbids cross-namespace
    owner references); a cluster-scoped owner gets namespace "".
    """

    def map_owner(obj: Object) -> list[Request]:
        meta = obj.get("metadata") or {}
        for ref in meta.get("ownerReferences") or ():
            if ref.get("controller") is not True or ref.get("kind") != owner.kind:
                continue
            try:
                group = GVK.of(ref.get("apiVersion", ""), owner.kind).group
            except ValueError:
                continue
            if group == owner.group and ref.get("name"):
                namespace = (meta.get("namespace") or "") if owner_namespaced else ""
                return [Request(namespace, ref["name"])]
        return []

    return map_owner


def _is_resync(old: Object, new: Object) -> bool:
    if old is new:
        return True
    old_rv = (old.get("metadata") or {}).get("resourceVersion")
    return old_rv is not None and old_rv == (new.get("metadata") or {}).get("resourceVersion")


class EnqueueHandler:
    """An informer EventHandler that filters, maps and enqueues."""

    def __init__(
        self,
        queue: RequestSink,
        map_fn: MapFunc,
        predicates: Sequence[Predicate] = (),
        *,
        controller: str = "",
        source: str = "",
    ) -> None:
        self._queue = queue
        self._map = map_fn
        self._predicates = tuple(predicates)
        self._log = get_logger(LOGGER, controller=controller, source=source)

    def on_add(self, obj: dict[str, Any], is_initial_list: bool) -> None:
        try:
            if all(p.create(obj) for p in self._predicates):
                self._enqueue(self._map(obj), LOW_PRIORITY if is_initial_list else 0)
        except Exception:
            self._log.exception("dropping add event: predicate or mapping failed")

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        try:
            if all(p.update(old, new) for p in self._predicates):
                requests = [*self._map(old), *self._map(new)]
                self._enqueue(requests, LOW_PRIORITY if _is_resync(old, new) else 0)
        except Exception:
            self._log.exception("dropping update event: predicate or mapping failed")

    def on_delete(self, obj: dict[str, Any]) -> None:
        try:
            if all(p.delete(obj) for p in self._predicates):
                self._enqueue(self._map(obj), 0)
        except Exception:
            self._log.exception("dropping delete event: predicate or mapping failed")

    def _enqueue(self, requests: Iterable[Request], priority: int) -> None:
        for request in dict.fromkeys(requests):
            self._queue.add(request, priority)

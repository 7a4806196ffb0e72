"""The fluent builder that wires a reconciler to watches and registers it with a manager:

    manager.controller("runtime")
        .for_(RUNTIME, predicates=[GenerationChanged()])
        .owns(STATEFULSET)
        .watches(RUNTIME_CLASS, runtimes_using_class)
        .with_options(max_concurrent_reconciles=3)
        .complete(reconciler)

Mistakes (a second for_(), owns() without for_(), a duplicate controller name, bad option values)
raise ValueError when made or at complete(), before anything starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fluidpy.client import GVK
from fluidpy.controller.controller import Controller, Source
from fluidpy.controller.handlers import MapFunc, owner_mapper, request_for_object
from fluidpy.controller.predicates import Predicate
from fluidpy.controller.reconcile import ReconcileFunc, Reconciler, ReconcilerFunc
from fluidpy.workqueue import RateLimiter, WorkQueue

_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")


class ControllerHost(Protocol):
    """What the builder needs from a manager."""

    @property
    def graceful_shutdown_timeout(self) -> float: ...

    def informer_for(self, gvk: GVK, label_selector: str | None = None) -> Source: ...

    def is_namespaced(self, gvk: GVK) -> bool: ...

    def add_controller(self, controller: Controller, *, need_leader_election: bool) -> None: ...


@dataclass(frozen=True)
class _Watch:
    gvk: GVK
    map_fn: MapFunc | None  # None: map through the controller owner reference
    predicates: tuple[Predicate, ...]
    description: str
    label_selector: str | None = None


class Builder:
    def __init__(self, host: ControllerHost, name: str) -> None:
        if not _NAME.match(name):
            raise ValueError(
                f"controller name {name!r} must be lower-case letters, digits, '.', '_' or '-'"
            )
        self._host = host
        self._name = name
        self._for: _Watch | None = None
        self._owns: list[_Watch] = []
        self._watches: list[_Watch] = []
        self._filters: tuple[Predicate, ...] = ()
        self._max_concurrent_reconciles = 1
        self._reconcile_timeout: float | None = None
        self._rate_limiter: RateLimiter | None = None
        self._cache_sync_timeout = 120.0
        self._need_leader_election = True
        self._completed = False

    def for_(self, gvk: GVK, *, predicates: Iterable[Predicate] = ()) -> Builder:
        """The primary kind: its own events reconcile it."""
        if self._for is not None:
            raise ValueError(f"controller {self._name}: for_() may be called only once")
        self._for = _Watch(gvk, request_for_object, tuple(predicates), f"for {gvk}")
        return self

    def owns(self, gvk: GVK, *, predicates: Iterable[Predicate] = ()) -> Builder:
        """A kind the primary creates: its events reconcile its controller owner."""
        self._owns.append(_Watch(gvk, None, tuple(predicates), f"owns {gvk}"))
        return self

    def watches(
        self,
        gvk: GVK,
        map_fn: MapFunc,
        *,
        predicates: Iterable[Predicate] = (),
        label_selector: str | None = None,
    ) -> Builder:
        """Any kind, mapped to requests by `map_fn` (object -> requests). With `label_selector`
        (default None: every object of the kind) only matching objects are watched, through an
        informer shared with every other watch of the same kind and selector."""
        if not callable(map_fn):
            raise ValueError("watches() needs a map function from an object to requests")
        description = f"watches {gvk}" + (f" ({label_selector})" if label_selector else "")
        self._watches.append(_Watch(gvk, map_fn, tuple(predicates), description, label_selector))
        return self

    def with_event_filter(self, *predicates: Predicate) -> Builder:
        """Predicates applied to every watch of this controller."""
        self._filters += predicates
        return self

    def with_options(
        self,
        *,
        max_concurrent_reconciles: int | None = None,
        reconcile_timeout: float | None = None,
        rate_limiter: RateLimiter | None = None,
        cache_sync_timeout: float | None = None,
        need_leader_election: bool | None = None,
    ) -> Builder:
        """Options left out keep their defaults:

        - max_concurrent_reconciles: 1 worker, as in controller-runtime, so reconcilers need not
          be written for concurrency until someone asks for it;
        - reconcile_timeout: none, because a sensible bound depends on what the reconciler does;
          client calls have their own timeouts;
        - rate_limiter: fluidpy.workqueue.default_controller_rate_limiter() (per-key backoff
          from 5 ms to 1000 s, bounded by an overall 10 retries/s with bursts of 100);
        - cache_sync_timeout: 120 s (see Controller);
        - need_leader_election: True, so a standby replica never reconciles.
        """
        if max_concurrent_reconciles is not None:
            if max_concurrent_reconciles < 1:
                raise ValueError("max_concurrent_reconciles must be at least 1")
            self._max_concurrent_reconciles = max_concurrent_reconciles
        if reconcile_timeout is not None:
            if reconcile_timeout <= 0:
                raise ValueError("reconcile_timeout must be positive")
            self._reconcile_timeout = reconcile_timeout
        if rate_limiter is not None:
            self._rate_limiter = rate_limiter
        if cache_sync_timeout is not None:
            if cache_sync_timeout <= 0:
                raise ValueError("cache_sync_timeout must be positive")
            self._cache_sync_timeout = cache_sync_timeout
        if need_leader_election is not None:
            self._need_leader_election = need_leader_election
        return self

    def complete(self, reconciler: Reconciler | ReconcileFunc) -> Controller:
        """Validate, build the controller, register its watches and hand it to the manager."""
        if self._completed:
            raise ValueError(f"controller {self._name} is already complete")
        if self._owns and self._for is None:
            raise ValueError(f"controller {self._name}: owns() needs for_() to name the owner")
        if self._for is None and not self._watches:
            raise ValueError(f"controller {self._name}: nothing to watch; call for_()")
        impl: Reconciler
        if hasattr(reconciler, "reconcile"):
            impl = reconciler
        elif callable(reconciler):
            impl = ReconcilerFunc(reconciler)
        else:
            raise ValueError("complete() needs a Reconciler or a function (ctx, request)")
        owner_map: MapFunc | None = None
        primary = self._for
        if primary is not None and self._owns:
            owner_map = owner_mapper(
                primary.gvk, owner_namespaced=self._host.is_namespaced(primary.gvk)
            )
        controller = Controller(
            self._name,
            impl,
            WorkQueue(name=self._name, rate_limiter=self._rate_limiter),
            max_concurrent_reconciles=self._max_concurrent_reconciles,
            reconcile_timeout=self._reconcile_timeout,
            cache_sync_timeout=self._cache_sync_timeout,
            graceful_shutdown_timeout=self._host.graceful_shutdown_timeout,
        )
        self._host.add_controller(controller, need_leader_election=self._need_leader_election)
        self._completed = True
        for watch in self._all_watches():
            map_fn = watch.map_fn or owner_map
            assert map_fn is not None, "owner watches exist only with for_()"
            controller.watch(
                self._host.informer_for(watch.gvk, watch.label_selector),
                map_fn,
                self._filters + watch.predicates,
                description=watch.description,
            )
        return controller

    def _all_watches(self) -> Sequence[_Watch]:
        return [*([self._for] if self._for else []), *self._owns, *self._watches]

"""An informer keeps the transformed objects only: the list as received (managedFields and all)
is not held for the life of the watch that follows it."""

from __future__ import annotations

import gc
import queue
import weakref
from collections.abc import Iterator
from typing import Any

from fluidpy.client import BUILTIN_MAPPINGS, GVK
from fluidpy.client.mapping import RESTMapping
from fluidpy.context import Context
from fluidpy.informer import SharedInformer, default_transform
from fluidpy.testing.waiting import wait_for

POD = GVK("", "v1", "Pod")


class Received(dict[str, Any]):
    """A decoded object that can be watched for collection (plain dicts cannot)."""


class OpenWatch:
    def __init__(self) -> None:
        self._closed: queue.Queue[None] = queue.Queue()

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        self._closed.get()
        return iter(())

    def close(self) -> None:
        self._closed.put(None)


class Source:
    def __init__(self) -> None:
        self.sent: list[weakref.ref[Received]] = []

    def mapping(self, gvk: GVK, *, ctx: Context | None = None) -> RESTMapping:
        return BUILTIN_MAPPINGS[gvk]

    def list_with_version(self, gvk: GVK, *_: Any, **__: Any) -> tuple[list[Any], str]:
        items = [
            Received(
                apiVersion="v1",
                kind="Pod",
                metadata={"name": f"p{i}", "namespace": "ns", "resourceVersion": "1"},
            )
            for i in range(3)
        ]
        self.sent = [weakref.ref(item) for item in items]
        return items, "1"

    def watch(self, gvk: GVK, *_: Any, **__: Any) -> OpenWatch:
        return OpenWatch()


def test_the_objects_as_listed_are_let_go_once_stored() -> None:
    source = Source()
    informer = SharedInformer(source, POD, transform=lambda obj: default_transform(dict(obj)))
    ctx, cancel = Context.background().with_cancel()
    try:
        informer.start(ctx)
        assert informer.wait_for_sync(ctx)

        def all_collected() -> bool:
            gc.collect()
            return all(ref() is None for ref in source.sent)

        wait_for(all_collected, "the listed objects collected", timeout=30)
        assert len(informer.list()) == 3
    finally:
        cancel()

"""Label-selected informers: one per kind and selector, shared by every watch that asks for the
same selection, and serving the lists whose selectors imply theirs (the real Cache and
SharedInformer over an in-memory API server that applies selectors as the real one does)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest

from fluidpy.cache import Cache, KindOptions
from fluidpy.client import BUILTIN_MAPPINGS, GVK, parse_label_selector
from fluidpy.client.mapping import RESTMapping
from fluidpy.context import Context
from fluidpy.testing.waiting import wait_for

POD = GVK("", "v1", "Pod")
NODE = GVK("", "v1", "Node")
ALLUXIO = "app=alluxio,release"


def pod(name: str, namespace: str = "ns", **labels: str) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace, "resourceVersion": "1", "labels": labels}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata}


class Watch:
    """Delivers what the server sends until closed."""

    def __init__(self, events: queue.Queue[tuple[str, dict[str, Any]] | None]) -> None:
        self._events = events

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        while (event := self._events.get()) is not None:
            yield event

    def close(self) -> None:
        self._events.put(None)


class Server:
    """Lists what it holds under the asked label selector; `send` reaches the open watch."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = list(objects)
        self.listed_with: list[str | None] = []
        self.events: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()

    @property
    def live(self) -> Server:
        return self

    def metadata_only(self) -> Server:
        return self

    def mapping(self, gvk: GVK, *, ctx: Context | None = None) -> RESTMapping:
        return BUILTIN_MAPPINGS[gvk]

    def list_with_version(
        self, gvk: GVK, namespace: str | None = None, *, label_selector: str | None = None, **_: Any
    ) -> tuple[list[dict[str, Any]], str]:
        self.listed_with.append(label_selector)
        selector = parse_label_selector(label_selector or "")
        kind = [o for o in self.objects if o["kind"] == gvk.kind]
        return [o for o in kind if selector.matches_object(o)], "1"

    def watch(self, gvk: GVK, namespace: str | None = None, **_: Any) -> Watch:
        return Watch(self.events)


@pytest.fixture
def ctx() -> Iterator[Context]:
    ctx, cancel = Context.background().with_cancel()
    yield ctx
    cancel()


def started(server: Server, ctx: Context, *selectors: str | None, **options: Any) -> Cache:
    cache = Cache(server, **options)  # type: ignore[arg-type]
    for selector in selectors:
        cache.informer_for(POD, selector)
    cache.start(ctx)
    assert cache.wait_for_cache_sync(ctx)
    return cache


def test_watches_of_one_selection_share_one_informer_and_others_get_their_own() -> None:
    cache = Cache(Server())  # type: ignore[arg-type]

    alluxio = cache.informer_for(POD, ALLUXIO)

    assert cache.informer_for(POD, ALLUXIO) is alluxio
    assert cache.informer_for(POD, "cacheruntime.fluid.io/name") is not alluxio
    assert cache.informer_for(POD) is not alluxio


def test_the_api_server_is_asked_for_the_selected_objects_only(ctx: Context) -> None:
    server = Server(pod("master-0", app="alluxio", release="demo"), pod("web-0", app="web"))

    cache = started(server, ctx, ALLUXIO)

    assert server.listed_with == [ALLUXIO]
    assert [p["metadata"]["name"] for p in cache.informer_for(POD, ALLUXIO).list()] == ["master-0"]


def test_a_list_whose_selector_implies_the_informers_is_served_from_it(ctx: Context) -> None:
    server = Server(
        pod("demo-master-0", app="alluxio", release="demo", role="alluxio-master"),
        pod("demo-worker-0", app="alluxio", release="demo", role="alluxio-worker"),
        pod("other-master-0", app="alluxio", release="other", role="alluxio-master"),
        pod("elsewhere-0", "other-ns", app="alluxio", release="demo", role="alluxio-master"),
    )
    cache = started(server, ctx, ALLUXIO)

    selector = "app=alluxio,release=demo,role=alluxio-master"
    assert cache.serves(POD, "ns", label_selector=selector)
    found = cache.list(POD, "ns", label_selector=selector)

    assert [p["metadata"]["name"] for p in found] == ["demo-master-0"]


def test_reads_the_selection_may_not_cover_go_to_the_api_server(ctx: Context) -> None:
    cache = started(Server(), ctx, ALLUXIO)

    assert not cache.serves(POD, "ns", label_selector="app=jindofs,release=demo")
    assert not cache.serves(POD, "ns", label_selector="app=alluxio")
    assert not cache.serves(POD, "ns")  # a get, or a list of every pod


def test_a_selection_keeps_the_kinds_own_selector(ctx: Context) -> None:
    server = Server()
    by_kind = {POD: KindOptions(label_selector="shard=s1")}

    started(server, ctx, ALLUXIO, by_kind=by_kind)

    assert server.listed_with == [f"shard=s1,{ALLUXIO}"]


def test_a_label_list_finds_objects_labelled_after_the_index_was_built(ctx: Context) -> None:
    server = Server(pod("a", app="web"))
    cache = started(server, ctx, None)
    assert len(cache.list(POD, "ns", label_selector="app=web")) == 1  # builds the index

    server.events.put(("ADDED", pod("b", app="web")))
    server.events.put(("ADDED", pod("c", app="db")))
    wait_for(lambda: len(cache.informer_for(POD).list()) == 3, "the added pods", timeout=30)

    found = cache.list(POD, "ns", label_selector="app=web")

    assert sorted(p["metadata"]["name"] for p in found) == ["a", "b"]


def test_a_cluster_scoped_kind_is_listed_by_label_too(ctx: Context) -> None:
    nodes = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n, "resourceVersion": "1"}}
        for n in ("n1", "n2")
    ]
    nodes[0]["metadata"]["labels"] = {"fluid.io/s-demo": "true"}
    cache = Cache(Server(*nodes))  # type: ignore[arg-type]
    cache.informer_for(NODE)
    cache.start(ctx)
    assert cache.wait_for_cache_sync(ctx)

    found = cache.list(NODE, label_selector="fluid.io/s-demo=true")

    assert [n["metadata"]["name"] for n in found] == ["n1"]


def test_a_cache_of_the_whole_kind_holds_every_object_and_a_narrowed_one_does_not(
    ctx: Context,
) -> None:
    whole = started(Server(), ctx, None)
    selected = started(Server(), ctx, ALLUXIO)
    sharded = started(Server(), ctx, None, by_kind={POD: KindOptions(label_selector="shard=s1")})

    assert whole.holds_every(POD, "ns")
    assert not selected.holds_every(POD, "ns")
    assert not sharded.holds_every(POD, "ns")


class MetadataServer(Server):
    """Answers as the API server answers a metadata-only client: PartialObjectMetadata."""

    def list_with_version(
        self, gvk: GVK, namespace: str | None = None, **options: Any
    ) -> tuple[list[dict[str, Any]], str]:
        found, version = super().list_with_version(gvk, namespace, **options)
        partial = {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata"}
        return [{**partial, "metadata": obj["metadata"]} for obj in found], version


def test_objects_watched_as_metadata_only_are_stored_under_their_own_kind(ctx: Context) -> None:
    volume = GVK("", "v1", "PersistentVolume")
    metadata = {"name": "ns-demo", "resourceVersion": "1", "labels": {"a": "b"}}
    server = MetadataServer({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": metadata})
    by_kind = {volume: KindOptions(metadata_only=True)}
    cache = Cache(server, by_kind=by_kind)  # type: ignore[arg-type]
    cache.informer_for(volume)
    cache.start(ctx)
    assert cache.wait_for_cache_sync(ctx)

    assert cache.get(volume, "ns-demo") == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata,
    }

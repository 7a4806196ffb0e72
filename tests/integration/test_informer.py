"""SharedInformer and Cache against a real API server: every change reaches the handlers, the
store matches the server, and the informer's extras (indexes, resync, replay) work on live data."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from fluidpy.cache import Cache
from fluidpy.client import GVK, Client
from fluidpy.client.config import load_connection
from fluidpy.context import Context
from fluidpy.informer import HandlerFuncs, SharedInformer, WatchSettings, owner_key
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

CONFIGMAP = GVK("", "v1", "ConfigMap")
WRITERS = 8


def configmap(name: str, namespace: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"v": "0"}}


class Recorder:
    """A controller-like handler: cheap, thread-safe, remembers what it was told."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.versions: dict[str, set[str]] = defaultdict(set)
        self.initial: dict[str, bool] = {}
        self.updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.deleted: set[str] = set()

    def on_add(self, obj: dict[str, Any], is_initial_list: bool) -> None:
        with self.lock:
            name = obj["metadata"]["name"]
            self.initial[name] = is_initial_list
            self.versions[name].add(obj["metadata"]["resourceVersion"])

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        with self.lock:
            self.updates.append((old, new))
            self.versions[new["metadata"]["name"]].add(new["metadata"]["resourceVersion"])

    def on_delete(self, obj: dict[str, Any]) -> None:
        with self.lock:
            self.deleted.add(obj["metadata"]["name"])


def versions_by_name(objects: list[dict[str, Any]]) -> dict[str, str]:
    return {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in objects}


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    connection = load_connection(cluster.kubeconfig, pool_size=WRITERS + 4)
    yield Client(connection, qps=0)  # the writers below should not wait on a client-side limit
    connection.close()


@pytest.fixture
def ctx() -> Any:
    ctx, cancel = Context.background().with_cancel()
    yield ctx
    cancel()


def test_handler_sees_every_change_of_1000_configmaps_and_the_store_matches_a_fresh_list(
    client: Client, namespace: str, ctx: Context
) -> None:
    client.create(configmap("before", namespace))
    recorder = Recorder()
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace])
    informer.add_event_handler(recorder)
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)

    names = [f"cm-{i:04d}" for i in range(1000)]
    written: dict[str, set[str]] = defaultdict(set)
    written_lock = threading.Lock()

    def record(obj: dict[str, Any]) -> None:
        with written_lock:
            written[obj["metadata"]["name"]].add(obj["metadata"]["resourceVersion"])

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda n: record(client.create(configmap(n, namespace))), names))
        list(
            pool.map(
                lambda n: record(client.patch(CONFIGMAP, n, namespace, {"data": {"v": "1"}})),
                names,
            )
        )
        deleted = set(names[::10])
        list(pool.map(lambda n: client.delete(CONFIGMAP, n, namespace), sorted(deleted)))

    def every_change_seen() -> bool:
        with recorder.lock:
            return recorder.deleted >= deleted and all(
                recorder.versions[name] >= versions for name, versions in written.items()
            )

    wait_for(every_change_seen, "the handler to see every create, update and delete")
    fresh, _ = client.list_with_version(CONFIGMAP, namespace)
    wait_for(
        lambda: versions_by_name(informer.list()) == versions_by_name(fresh),
        "the store to equal a fresh list",
    )
    assert not any(recorder.initial[name] for name in names)
    assert recorder.initial["before"] is True


def test_late_handler_gets_the_current_objects_as_initial_adds(
    client: Client, namespace: str, ctx: Context
) -> None:
    client.create(configmap("existing", namespace))
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace])
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)
    late = Recorder()
    informer.add_event_handler(late)
    assert late.initial["existing"] is True
    client.create(configmap("after", namespace))
    wait_for(lambda: "after" in late.initial, "the late handler to see a new object")
    assert late.initial["after"] is False


def test_resync_replays_cached_objects_as_updates_of_themselves(
    client: Client, namespace: str, ctx: Context
) -> None:
    client.create(configmap("a", namespace))
    recorder = Recorder()
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace], resync_period=0.5)
    informer.add_event_handler(recorder)
    informer.start(ctx)

    def resynced() -> bool:
        with recorder.lock:
            return any(
                old is new and new["metadata"]["name"] == "a" for old, new in recorder.updates
            )

    wait_for(resynced, "a resync update for the cached object")


def test_failing_handler_is_logged_and_the_informer_carries_on(
    client: Client, namespace: str, ctx: Context
) -> None:
    def explode(obj: dict[str, Any], is_initial_list: bool) -> None:
        raise RuntimeError("handler bug")

    recorder = Recorder()
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace])
    informer.add_event_handler(HandlerFuncs(add=explode))
    informer.add_event_handler(recorder)
    informer.start(ctx)
    client.create(configmap("first", namespace))
    client.create(configmap("second", namespace))
    wait_for(lambda: {"first", "second"} <= set(recorder.initial), "both adds to arrive")
    assert informer.get(f"{namespace}/second") is not None


def test_owner_namespace_and_custom_indexes_answer_from_live_data(
    client: Client, namespace: str, ctx: Context
) -> None:
    owner = client.create(configmap("owner", namespace))
    owned = configmap("owned", namespace)
    owned["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "owner",
            "uid": owner["metadata"]["uid"],
            "controller": True,
        }
    ]
    client.create(owned)
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace])
    informer.add_indexers({"data-v": lambda o: [o.get("data", {}).get("v", "")]})
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)

    by_owner = informer.by_index("owner", owner_key("ConfigMap", "owner", namespace))
    assert [o["metadata"]["name"] for o in by_owner] == ["owned"]
    in_namespace = {o["metadata"]["name"] for o in informer.by_index("namespace", namespace)}
    assert {"owner", "owned"} <= in_namespace
    client.patch(CONFIGMAP, "owned", namespace, {"data": {"v": "9"}})
    wait_for(
        lambda: [o["metadata"]["name"] for o in informer.by_index("data-v", "9")] == ["owned"],
        "the custom index to follow the update",
    )


def test_cache_shares_one_informer_per_kind_and_filters_reads(
    client: Client, namespace: str, ctx: Context
) -> None:
    client.create(configmap("web", namespace, {"app": "web", "tier": "front"}))
    client.create(configmap("db", namespace, {"app": "db"}))
    cache = Cache(client, namespaces=[namespace])
    informer = cache.informer_for(CONFIGMAP)
    assert cache.informer_for(CONFIGMAP) is informer
    cache.start(ctx)
    assert cache.wait_for_cache_sync(ctx)

    def names(**kwargs: Any) -> list[str]:
        return sorted(o["metadata"]["name"] for o in cache.list(CONFIGMAP, namespace, **kwargs))

    assert names(label_selector="app in (web,db),tier!=back") == ["db", "web"]
    assert names(label_selector="tier") == ["web"]
    assert names(field_selector="metadata.name=db") == ["db"]
    assert (cache.get(CONFIGMAP, "web", namespace) or {})["metadata"]["labels"]["app"] == "web"
    assert cache.get(CONFIGMAP, "nope", namespace) is None


def test_informer_scoped_by_a_label_selector_stores_only_matching_objects(
    client: Client, namespace: str, ctx: Context
) -> None:
    client.create(configmap("mine", namespace, {"owner": "me"}))
    client.create(configmap("theirs", namespace, {"owner": "them"}))
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace], label_selector="owner=me")
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)
    assert [o["metadata"]["name"] for o in informer.list()] == ["mine"]


def test_cancelling_the_context_stops_a_blocked_watch_at_once(
    client: Client, namespace: str
) -> None:
    ctx, cancel = Context.background().with_cancel()
    before = set(threading.enumerate())
    # With a 10-minute inactivity timeout, only closing the stream can end a quiet watch soon.
    settings = WatchSettings(inactivity_timeout=600.0)
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace], settings=settings)
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)
    started = set(threading.enumerate()) - before
    assert started
    cancel()
    wait_for(
        lambda: not any(t.is_alive() for t in started), "the informer's threads to end", timeout=30
    )

"""The informer's store stays right when the API server or the network misbehave.

The informer under test talks to the API server through a TCP relay this module controls, so
the tests can cut its connection (refusing new ones) or freeze it (keep it open, forward
nothing), as a failing network or a NAT that forgot the flow would. Writes that set up each
scenario go straight to the API server.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from fluidpy.client import GVK, ApiServerConnection, Client, Gone
from fluidpy.context import Context
from fluidpy.informer import SharedInformer, WatchSettings
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

CONFIGMAP = GVK("", "v1", "ConfigMap")
# Reconnect quickly in tests; the production cap (30 s) would only make them slower.
FAST_RETRY = WatchSettings(backoff_initial=0.2, backoff_cap=1.0)


class _Pipe:
    """One relayed connection: bytes copied both ways until closed, or held back when frozen."""

    def __init__(self, downstream: socket.socket, upstream: socket.socket) -> None:
        self.sockets = (downstream, upstream)
        self.frozen = threading.Event()
        self.closed = threading.Event()
        for src, dst in ((downstream, upstream), (upstream, downstream)):
            threading.Thread(target=self._copy, args=(src, dst), daemon=True).start()

    def _copy(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self.closed.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if self.frozen.is_set():
                    self.closed.wait()  # swallow this and everything after, silently
                    return
                dst.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        self.closed.set()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Relay:
    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._refusing = False
        self._pipes: list[_Pipe] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                downstream.close()
                continue
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._pipes.append(_Pipe(downstream, upstream))

    def cut(self) -> None:
        """Drop every connection and refuse new ones, as an unreachable server would."""
        self._refusing = True
        with self._lock:
            pipes, self._pipes = self._pipes, []
        for pipe in pipes:
            pipe.close()

    def restore(self) -> None:
        self._refusing = False

    def freeze(self) -> None:
        """Stop forwarding on the open connections without closing them; new ones work."""
        with self._lock:
            for pipe in self._pipes:
                pipe.frozen.set()

    def close(self) -> None:
        self.cut()
        self._listener.close()


@pytest.fixture
def relay(cluster: LocalCluster) -> Iterator[Relay]:
    server = urlsplit(cluster.server)
    relay = Relay((server.hostname or "127.0.0.1", server.port or 443))
    yield relay
    relay.close()


@pytest.fixture
def relayed_client(cluster: LocalCluster, relay: Relay) -> Iterator[Client]:
    admin = cluster.connection()
    api = ApiServerConnection(
        f"https://127.0.0.1:{relay.port}", tls=admin.tls, credentials=admin.credentials
    )
    api.pool_manager.connection_pool_kw["retries"] = False  # a cut shows at once, unretried
    yield Client(api, qps=0)
    api.close()
    admin.close()


@pytest.fixture
def client(connection: Any) -> Client:
    return Client(connection, qps=0)


@pytest.fixture
def ctx() -> Iterator[Context]:
    ctx, cancel = Context.background().with_cancel()
    yield ctx
    cancel()


class Deletions:
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.updated: set[str] = set()
        self.added: set[str] = set()

    def on_add(self, obj: dict[str, Any], is_initial_list: bool) -> None:
        self.added.add(obj["metadata"]["name"])

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.updated.add(new["metadata"]["name"])

    def on_delete(self, obj: dict[str, Any]) -> None:
        self.names.add(obj["metadata"]["name"])


def configmap(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"v": "0"},
    }


def versions(objects: list[dict[str, Any]]) -> dict[str, str]:
    return {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in objects}


def store_matches_server(informer: SharedInformer, client: Client, namespace: str) -> bool:
    fresh, _ = client.list_with_version(CONFIGMAP, namespace)
    return versions(informer.list()) == versions(fresh)


def test_store_stays_right_through_an_api_server_restart(
    cluster: LocalCluster, client: Client, namespace: str, ctx: Context
) -> None:
    for i in range(20):
        client.create(configmap(f"cm-{i}", namespace))
    events = Deletions()
    informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace], settings=FAST_RETRY)
    informer.add_event_handler(events)
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)

    cluster.restart_apiserver()

    client.delete(CONFIGMAP, "cm-0", namespace)
    client.patch(CONFIGMAP, "cm-1", namespace, {"data": {"v": "after restart"}})
    client.create(configmap("new", namespace))
    wait_for(lambda: store_matches_server(informer, client, namespace), "the store to catch up")
    assert "cm-0" in events.names
    assert "cm-1" in events.updated
    assert "new" in events.added


def test_relist_after_410_turns_changes_made_while_disconnected_into_events(
    *,
    cluster: LocalCluster,
    client: Client,
    relayed_client: Client,
    relay: Relay,
    namespace: str,
    ctx: Context,
) -> None:
    for i in range(30):
        client.create(configmap(f"cm-{i}", namespace))
    events = Deletions()
    informer = SharedInformer(
        relayed_client, CONFIGMAP, namespaces=[namespace], settings=FAST_RETRY
    )
    informer.add_event_handler(events)
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)
    _, last_seen = client.list_with_version(CONFIGMAP, namespace)

    relay.cut()
    vanished = {f"cm-{i}" for i in range(10)}
    changed = {f"cm-{i}" for i in range(10, 20)}
    for name in sorted(vanished):
        client.delete(CONFIGMAP, name, namespace)
    for name in sorted(changed):
        client.patch(CONFIGMAP, name, namespace, {"data": {"v": "changed while away"}})
    client.create(configmap("born-while-away", namespace))
    cluster.compact_etcd()
    cluster.restart_apiserver()  # the new watch cache has no history before now
    with pytest.raises(Gone):  # so a watch resuming from where the informer was must relist
        next(
            iter(client.watch(CONFIGMAP, namespace, resource_version=last_seen, timeout_seconds=5))
        )
    relay.restore()

    wait_for(lambda: store_matches_server(informer, client, namespace), "the store to catch up")
    assert vanished <= events.names
    assert changed <= events.updated
    assert "born-while-away" in events.added
    assert not events.updated & {f"cm-{i}" for i in range(20, 30)}  # unchanged: no event


def test_silent_watch_is_detected_and_reopened(
    client: Client, relayed_client: Client, relay: Relay, namespace: str, ctx: Context
) -> None:
    settings = WatchSettings(inactivity_timeout=3.0, backoff_initial=0.2, backoff_cap=1.0)
    events = Deletions()
    informer = SharedInformer(relayed_client, CONFIGMAP, namespaces=[namespace], settings=settings)
    informer.add_event_handler(events)
    informer.start(ctx)
    assert informer.wait_for_sync(ctx)

    relay.freeze()  # the watch connection stays open but goes quiet for good
    client.create(configmap("made-during-silence", namespace))
    # The server-side watch timeout is 5 to 10 minutes; only the inactivity check is this fast.
    wait_for(lambda: "made-during-silence" in events.added, "the informer to reconnect", timeout=60)
    wait_for(lambda: store_matches_server(informer, client, namespace), "the store to catch up")

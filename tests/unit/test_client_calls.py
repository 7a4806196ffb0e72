"""Client calls without a server: the context is checked before anything is sent, transport
failures become TransportError, and every attempt is counted."""

import socket
from collections.abc import Iterator

import pytest

from fluidpy.client import GVK, ApiServerConnection, Client, TransportError, deep_copy
from fluidpy.context import Cancelled, Context, DeadlineExceeded
from fluidpy.metrics import REGISTRY

CONFIGMAP = GVK("", "v1", "ConfigMap")


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening), so connects are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def client(closed_port: int) -> Iterator[Client]:
    connection = ApiServerConnection(f"http://127.0.0.1:{closed_port}")
    try:
        yield Client(connection)
    finally:
        connection.close()


def requests_counted(host: str, code: str, method: str) -> float:
    value = REGISTRY.get_sample_value(
        "rest_client_requests_total", {"code": code, "method": method, "host": host}
    )
    return value or 0.0


def test_cancelled_context_fails_the_call_before_sending(client: Client, closed_port: int) -> None:
    ctx, cancel = Context.background().with_cancel()
    cancel()
    with pytest.raises(Cancelled):
        client.get(CONFIGMAP, "cm", "default", ctx=ctx)
    with pytest.raises(Cancelled):
        client.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "d"}},
            ctx=ctx,
        )
    assert requests_counted(f"127.0.0.1:{closed_port}", "<error>", "GET") == 0.0


def test_expired_deadline_fails_the_call_before_sending(client: Client, closed_port: int) -> None:
    ctx, cancel = Context.background().with_timeout(0.0)
    try:
        with pytest.raises(DeadlineExceeded):
            client.delete(CONFIGMAP, "cm", "default", ctx=ctx)
    finally:
        cancel()
    assert requests_counted(f"127.0.0.1:{closed_port}", "<error>", "DELETE") == 0.0


def test_refused_connection_is_a_transport_error_counted_without_code(
    client: Client, closed_port: int
) -> None:
    with pytest.raises(TransportError) as raised:
        client.get(CONFIGMAP, "cm", "default")
    assert raised.value.status == 0
    assert requests_counted(f"127.0.0.1:{closed_port}", "<error>", "GET") == 1.0


def test_namespaced_object_without_namespace_is_refused_before_sending(client: Client) -> None:
    with pytest.raises(ValueError, match="namespace"):
        client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})


def test_unknown_patch_type_is_refused(client: Client) -> None:
    with pytest.raises(ValueError, match="patch_type"):
        client.patch(CONFIGMAP, "a", "d", {}, patch_type="yaml")  # type: ignore[arg-type]


def test_live_and_with_cache_derive_clients_that_share_the_transport(client: Client) -> None:
    assert client.live is client  # no cache: already live
    assert client.with_cache(None) is client
    assert client.live.connection is client.connection


def test_deep_copy_shares_no_container_with_the_original() -> None:
    original = {"metadata": {"labels": {"a": "1"}}, "spec": {"ports": [{"port": 80}]}}
    copied = deep_copy(original)
    assert copied == original
    copied["metadata"]["labels"]["a"] = "2"
    copied["spec"]["ports"][0]["port"] = 81
    assert original == {"metadata": {"labels": {"a": "1"}}, "spec": {"ports": [{"port": 80}]}}

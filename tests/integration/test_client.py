"""The Client against a real API server: plain dicts in and out, errors as types, server-side
apply, status writes, discovery, and reads through the cache."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from fluidpy.cache import Cache
from fluidpy.client import (
    GVK,
    SECRET,
    AlreadyExists,
    ApiServerConnection,
    Client,
    Conflict,
    Forbidden,
    Invalid,
    NoKindMatch,
    NotFound,
    retry_on_conflict,
)
from fluidpy.client.credentials import ClientCertificate
from fluidpy.context import Context
from fluidpy.metrics import REGISTRY
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

CONFIGMAP = GVK("", "v1", "ConfigMap")
CRD = GVK("apiextensions.k8s.io", "v1", "CustomResourceDefinition")


def configmap(name: str, namespace: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


@pytest.fixture
def client(connection: Any) -> Client:
    return Client(connection)


def test_objects_round_trip_as_plain_dicts(client: Client, namespace: str) -> None:
    created = client.create(configmap("a", namespace, k="1"))
    assert type(created) is dict
    assert created["data"] == {"k": "1"}
    fetched = client.get(CONFIGMAP, "a", namespace)
    assert fetched is not None
    assert fetched["metadata"]["uid"] == created["metadata"]["uid"]
    fetched["data"]["k"] = "2"
    updated = client.update(fetched)
    assert updated["data"] == {"k": "2"}
    assert updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    assert client.delete(CONFIGMAP, "a", namespace) is True


def test_missing_objects_read_as_none_and_delete_as_false(client: Client, namespace: str) -> None:
    assert client.get(CONFIGMAP, "nope", namespace) is None
    assert client.delete(CONFIGMAP, "nope", namespace) is False


def test_creating_a_taken_name_raises_already_exists(client: Client, namespace: str) -> None:
    client.create(configmap("a", namespace))
    with pytest.raises(AlreadyExists) as raised:
        client.create(configmap("a", namespace))
    assert (raised.value.status, raised.value.reason) == (409, "AlreadyExists")


def test_stale_update_conflicts_and_retry_on_conflict_rereads(
    client: Client, namespace: str
) -> None:
    stale = client.create(configmap("a", namespace, n="0"))
    client.patch(CONFIGMAP, "a", namespace, {"data": {"n": "1"}})
    with pytest.raises(Conflict):
        client.update({**stale, "data": {"n": "stale"}})

    attempts: list[int] = []

    def increment() -> dict[str, Any]:
        current = client.get(CONFIGMAP, "a", namespace) if attempts else stale
        attempts.append(1)
        assert current is not None
        return client.update({**current, "data": {"n": str(int(current["data"]["n"]) + 1)}})

    assert retry_on_conflict(increment)["data"] == {"n": "2"}
    assert len(attempts) == 2


def test_invalid_object_raises_invalid_with_the_server_message(
    client: Client, namespace: str
) -> None:
    with pytest.raises(Invalid) as raised:
        client.create(configmap("Not_A_Valid_Name", namespace))
    assert raised.value.status == 422
    assert "Not_A_Valid_Name" in raised.value.message


class ActingAsNobody:
    """The admin's client certificate, asking to act as a user without any permission."""

    def headers(self) -> Mapping[str, str]:
        return {"Impersonate-User": "nobody-in-particular"}

    def client_certificate(self) -> ClientCertificate | None:
        return None

    def refresh(self, rejected: Mapping[str, str]) -> bool:
        return False


def test_denied_request_raises_forbidden(cluster: LocalCluster, namespace: str) -> None:
    admin = cluster.connection()
    api = ApiServerConnection(admin.host, tls=admin.tls, credentials=ActingAsNobody())
    try:
        with pytest.raises(Forbidden) as raised:
            Client(api).get(CONFIGMAP, "a", namespace)
    finally:
        api.close()
        admin.close()
    assert raised.value.status == 403


def test_patch_types_merge_json_and_strategic(client: Client, namespace: str) -> None:
    client.create(configmap("a", namespace, keep="1", drop="1"))
    client.patch(CONFIGMAP, "a", namespace, {"data": {"drop": None, "added": "1"}})
    client.patch(
        CONFIGMAP,
        "a",
        namespace,
        [{"op": "replace", "path": "/data/keep", "value": "2"}],
        patch_type="json",
    )
    result = client.patch(
        CONFIGMAP, "a", namespace, {"metadata": {"labels": {"x": "y"}}}, patch_type="strategic"
    )
    assert result["data"] == {"keep": "2", "added": "1"}
    assert result["metadata"]["labels"] == {"x": "y"}


def test_server_side_apply_creates_updates_and_records_the_field_manager(
    client: Client, namespace: str
) -> None:
    desired = configmap("applied", namespace, a="1")
    first = client.apply(desired)
    second = client.apply({**desired, "data": {"a": "2"}})
    assert first["metadata"]["uid"] == second["metadata"]["uid"]
    assert second["data"] == {"a": "2"}
    managers = {(m["manager"], m["operation"]) for m in second["metadata"]["managedFields"]}
    assert ("fluidpy", "Apply") in managers
    again = client.apply(second)  # read-back objects carry managedFields; apply drops them
    assert again["data"] == {"a": "2"}


def test_apply_without_force_conflicts_over_fields_another_manager_owns(
    connection: Any, namespace: str
) -> None:
    ours = Client(connection, field_manager="ours")
    theirs = Client(connection, field_manager="theirs")
    theirs.apply(configmap("shared", namespace, owner="theirs"))
    with pytest.raises(Conflict):
        ours.apply(configmap("shared", namespace, owner="ours"), force=False)
    assert ours.apply(configmap("shared", namespace, owner="ours"))["data"] == {"owner": "ours"}


def test_delete_preconditions_protect_a_changed_object(client: Client, namespace: str) -> None:
    created = client.create(configmap("a", namespace))
    client.patch(CONFIGMAP, "a", namespace, {"data": {"changed": "yes"}})
    with pytest.raises(Conflict):
        client.delete(
            CONFIGMAP,
            "a",
            namespace,
            preconditions={"resourceVersion": created["metadata"]["resourceVersion"]},
        )
    assert client.delete(CONFIGMAP, "a", namespace, propagation_policy="Foreground") is True


def test_list_gathers_every_page_and_filters_by_label(client: Client, namespace: str) -> None:
    for i in range(7):
        obj = configmap(f"cm-{i}", namespace)
        obj["metadata"]["labels"] = {"parity": "even" if i % 2 == 0 else "odd"}
        client.create(obj)
    items, version = client.list_with_version(CONFIGMAP, namespace, page_size=3)
    names = {o["metadata"]["name"] for o in items}
    assert {f"cm-{i}" for i in range(7)} <= names
    assert version
    assert all((o["apiVersion"], o["kind"]) == ("v1", "ConfigMap") for o in items)
    odd = client.list(CONFIGMAP, namespace, label_selector="parity=odd")
    assert sorted(o["metadata"]["name"] for o in odd) == ["cm-1", "cm-3", "cm-5"]


def test_requests_are_counted_by_code_method_and_host(client: Client, namespace: str) -> None:
    host = client.connection.host.split("://", 1)[1]

    def count(code: str, method: str) -> float:
        labels = {"code": code, "method": method, "host": host}
        return REGISTRY.get_sample_value("rest_client_requests_total", labels) or 0.0

    before_ok, before_missing = count("200", "GET"), count("404", "GET")
    client.create(configmap("a", namespace))
    client.get(CONFIGMAP, "a", namespace)
    client.get(CONFIGMAP, "missing", namespace)
    assert count("200", "GET") == before_ok + 1
    assert count("404", "GET") == before_missing + 1


WIDGET_GROUP = "tests.fluidpy.io"


def widget_crd(plural: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{WIDGET_GROUP}"},
        "spec": {
            "group": WIDGET_GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture
def widget_kind(connection: Any) -> Iterator[GVK]:
    """A CRD installed for one test (a fresh kind, unknown to every client so far)."""
    suffix = secrets.token_hex(3)
    kind = f"Widget{suffix}"
    plural = f"widget{suffix}s"
    admin = Client(connection)
    gvk = GVK(WIDGET_GROUP, "v1", kind)
    with pytest.raises(NoKindMatch):
        admin.mapping(gvk)
    admin.create(widget_crd(plural, kind))
    try:
        yield gvk
    finally:
        admin.delete(CRD, f"{plural}.{WIDGET_GROUP}")


def test_freshly_installed_custom_kind_is_discovered_by_an_existing_client(
    connection: Any, namespace: str
) -> None:
    client = Client(connection)
    suffix = secrets.token_hex(3)
    gvk = GVK(WIDGET_GROUP, "v1", f"Gadget{suffix}")
    with pytest.raises(NoKindMatch):
        client.mapping(gvk)
    client.create(widget_crd(f"gadget{suffix}s", gvk.kind))
    try:

        def served() -> bool:
            try:
                return client.mapping(gvk).plural == f"gadget{suffix}s"
            except NoKindMatch:
                return False

        wait_for(served, "the new kind to be discovered")
        obj = {
            "apiVersion": gvk.api_version,
            "kind": gvk.kind,
            "metadata": {"name": "g", "namespace": namespace},
        }
        assert client.create(obj)["kind"] == gvk.kind
    finally:
        client.delete(CRD, f"gadget{suffix}s.{WIDGET_GROUP}")


def test_status_subresource_writes(client: Client, namespace: str, widget_kind: GVK) -> None:
    def widget() -> dict[str, Any]:
        return {
            "apiVersion": widget_kind.api_version,
            "kind": widget_kind.kind,
            "metadata": {"name": "w", "namespace": namespace},
            "spec": {"size": 1},
        }

    created = wait_for(lambda: _create_when_served(client, widget()), "the widget kind to serve")
    ignored = client.update({**created, "status": {"phase": "ignored"}})
    assert "status" not in ignored  # the main resource ignores status changes

    written = client.update_status({**ignored, "status": {"phase": "Ready"}})
    assert written["status"] == {"phase": "Ready"}
    patched = client.patch_status(widget_kind, "w", namespace, {"status": {"replicas": 3}})
    assert patched["status"] == {"phase": "Ready", "replicas": 3}
    applied = client.apply_status({**widget(), "status": {"phase": "Serving"}})
    assert applied["status"]["phase"] == "Serving"
    assert applied["spec"] == {"size": 1}


def _create_when_served(client: Client, obj: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return client.create(obj)
    except (NoKindMatch, NotFound):  # discovery may list the kind just before it is served
        return None


def test_reads_come_from_the_cache_for_watched_kinds_only(connection: Any, namespace: str) -> None:
    live = Client(connection)
    cache = Cache(live, namespaces=[namespace])
    client = live.with_cache(cache)
    live.create(configmap("a", namespace, k="1"))
    live.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": namespace}}
    )
    ctx, cancel = Context.background().with_cancel()
    try:
        cache.informer_for(CONFIGMAP)
        cache.informer_for(SECRET)
        cache.start(ctx)
        assert cache.wait_for_cache_sync(ctx)
        assert cache.serves(CONFIGMAP, namespace)
        assert not cache.serves(CONFIGMAP, "another-namespace")

        live.patch(CONFIGMAP, "a", namespace, {"data": {"k": "2"}})
        wait_for(
            lambda: (cache.get(CONFIGMAP, "a", namespace) or {}).get("data") == {"k": "2"},
            "the cache to see the change",
        )
        read = client.get(CONFIGMAP, "a", namespace)
        assert read is not None
        assert read["data"] == {"k": "2"}
        assert "managedFields" not in read["metadata"]  # the cached copy, transformed
        read["data"]["k"] = "mutated by the caller"
        assert cache.get(CONFIGMAP, "a", namespace)["data"] == {"k": "2"}  # type: ignore[index]

        assert "managedFields" in client.get(SECRET, "s", namespace)["metadata"]  # type: ignore[index]
        assert "managedFields" in client.live.get(CONFIGMAP, "a", namespace)["metadata"]  # type: ignore[index]
    finally:
        cancel()

"""Applies are skipped when the live object is as rendered, and never repeated on a stale cache."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.client import GVK
from fluidpy.controllers import CACHE_VIEWS
from fluidpy.engines.base.ownership import NameConflict
from fluidpy.engines.cacheruntime.apply import APPLIED_HASH, Applier, covers, stamped, up_to_date
from fluidpy.testing.fake_client import FakeClient

STATEFULSET = GVK("apps", "v1", "StatefulSet")

OWNER = {"kind": "CacheRuntime", "name": "demofs", "uid": "uid-runtime", "controller": True}
"""Every rendering names its runtime as its controller."""


def config_map(data: str = "a") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "ns", "ownerReferences": [OWNER]},
        "data": {"k": data},
    }


def test_the_stamp_is_the_hash_of_the_rendering_and_changes_with_it() -> None:
    first = stamped(config_map("a"))["metadata"]["annotations"][APPLIED_HASH]

    assert first == stamped(config_map("a"))["metadata"]["annotations"][APPLIED_HASH]
    assert first != stamped(config_map("b"))["metadata"]["annotations"][APPLIED_HASH]


def test_live_objects_cover_renderings_despite_defaults_and_spelling() -> None:
    desired = {"spec": {"sizeLimit": "1024Mi", "readOnly": False, "env": [{"name": "A"}], "x": ""}}
    live = {"spec": {"sizeLimit": "1Gi", "env": [{"name": "A", "value": ""}], "default": 1}}

    assert covers(live, desired)


@pytest.mark.parametrize(
    "live",
    [
        {"spec": {"sizeLimit": "2Gi", "env": [{"name": "A"}]}},
        {"spec": {"sizeLimit": "1Gi", "env": [{"name": "B"}]}},
        {"spec": {"sizeLimit": "1Gi", "env": [{"name": "A"}, {"name": "B"}]}},
        {"spec": {"env": [{"name": "A"}]}},
    ],
)
def test_a_changed_missing_or_extra_list_item_is_not_covered(live: dict[str, Any]) -> None:
    assert not covers(live, {"spec": {"sizeLimit": "1Gi", "env": [{"name": "A"}]}})


def test_an_object_is_up_to_date_only_with_the_same_stamp_and_fields() -> None:
    desired = stamped(config_map("a"))

    assert up_to_date(desired, desired)
    assert not up_to_date(None, desired)
    assert not up_to_date(stamped(config_map("b")), desired)
    edited = stamped(config_map("a"))
    edited["data"]["k"] = "edited by hand"
    assert not up_to_date(edited, desired)


def test_the_applier_writes_once_and_then_leaves_the_object_alone(fake_client: Any) -> None:
    client = fake_client()
    applier = Applier()

    _, first = applier.ensure(client, config_map())
    _, second = applier.ensure(client, config_map())

    assert (first, second) == (True, False)
    assert client.writes == [("apply", "ConfigMap", "cm")]


def test_the_applier_does_not_write_again_while_the_cache_still_shows_the_old_object(
    fake_client: Any,
) -> None:
    client = fake_client(config_map("old"))
    cached = client.get(GVK("", "v1", "ConfigMap"), "cm", "ns")
    applier = Applier()
    applier.ensure(client, config_map("new"))
    client.put(cached)  # the cache lags

    _, wrote = applier.ensure(client, config_map("new"))

    assert not wrote
    assert client.writes == [("apply", "ConfigMap", "cm")]


def test_the_applier_writes_again_over_a_newer_version_someone_else_made(
    fake_client: Any,
) -> None:
    client = fake_client(config_map("old"))
    applier = Applier()
    applier.ensure(client, config_map("new"))
    client.put(config_map("edited by hand"))

    _, wrote = applier.ensure(client, config_map("new"))

    assert wrote
    assert client.find("ConfigMap", "cm", "ns")["data"] == {"k": "new"}


def test_an_object_deleted_after_the_cache_saw_it_is_applied_again(fake_client: Any) -> None:
    client = fake_client()
    applier = Applier()
    applier.ensure(client, config_map())
    applier.ensure(client, config_map())  # the cache shows our object
    client.delete(GVK("", "v1", "ConfigMap"), "cm", "ns")

    _, wrote = applier.ensure(client, config_map())

    assert wrote
    assert client.find("ConfigMap", "cm", "ns") is not None


def test_a_change_of_the_rendering_is_applied(fake_client: Any) -> None:
    client = fake_client()
    applier = Applier()
    applier.ensure(client, config_map("a"))

    _, wrote = applier.ensure(client, config_map("b"))

    assert wrote
    assert client.find("ConfigMap", "cm", "ns")["data"] == {"k": "b"}


def test_the_applier_never_writes_over_an_object_the_runtime_does_not_control(
    fake_client: Any,
) -> None:
    client = fake_client()
    users = config_map("the user's own")
    users["metadata"].pop("ownerReferences")
    client.create(users)

    with pytest.raises(NameConflict) as refused:
        Applier().ensure(client, config_map())

    assert "ConfigMap ns/cm already exists and is not this runtime's" in refused.value.message
    assert client.get(GVK("", "v1", "ConfigMap"), "cm", "ns")["data"] == {"k": "the user's own"}
    assert [w for w in client.writes if w[0] != "create"] == []


def stateful_set(image: str = "cache:1") -> dict[str, Any]:
    container = {"name": "worker", "image": image}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "sts", "namespace": "ns", "ownerReferences": [OWNER]},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [container]}}},
    }


class WholeReads:
    """The API server behind a trimming cache: whole objects, each read counted."""

    def __init__(self, server: FakeClient) -> None:
        self.server = server
        self.reads = 0

    def get(self, gvk: GVK, name: str, namespace: str | None = None, **_: Any) -> Any:
        self.reads += 1
        return FakeClient.get(self.server, gvk, name, namespace)


class TrimmingCache(FakeClient):
    """Reads through the manager's cache view of StatefulSets (no pod template)."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        super().__init__(*objects)
        self.whole = WholeReads(self)

    @property
    def live(self) -> Any:
        return self.whole

    def get(self, gvk: GVK, name: str, namespace: str | None = None, **_: Any) -> Any:
        obj = super().get(gvk, name, namespace)
        transform = CACHE_VIEWS[STATEFULSET].transform
        return transform(obj) if obj is not None and transform is not None else obj


def test_an_object_cached_without_its_template_is_not_applied_again_nor_read() -> None:
    client = TrimmingCache()
    applier = Applier()
    applier.ensure(client, stateful_set())  # type: ignore[arg-type]
    client.set_status("StatefulSet", "sts", "ns", readyReplicas=1)

    _, wrote = applier.ensure(client, stateful_set())  # type: ignore[arg-type]

    assert not wrote
    assert client.writes == [("apply", "StatefulSet", "sts")]
    assert client.whole.reads == 1  # before the create, the name looked up once


def test_after_a_restart_a_trimmed_object_is_read_whole_once_and_left_alone() -> None:
    client = TrimmingCache()
    Applier().ensure(client, stateful_set())  # type: ignore[arg-type]
    restarted = Applier()
    reads = client.whole.reads

    first = restarted.ensure(client, stateful_set())[1]  # type: ignore[arg-type]
    second = restarted.ensure(client, stateful_set())[1]  # type: ignore[arg-type]

    assert (first, second) == (False, False)
    assert client.whole.reads == reads + 1
    assert client.writes == [("apply", "StatefulSet", "sts")]


def test_a_template_someone_else_changed_is_applied_again_though_the_cache_cannot_show_it() -> None:
    client = TrimmingCache()
    applier = Applier()
    applier.ensure(client, stateful_set())  # type: ignore[arg-type]
    edited = FakeClient.get(client, STATEFULSET, "sts", "ns")
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "someone-elses:2"
    client.update(edited)

    _, wrote = applier.ensure(client, stateful_set())  # type: ignore[arg-type]

    assert wrote
    live = FakeClient.get(client, STATEFULSET, "sts", "ns")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "cache:1"

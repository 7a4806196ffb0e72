"""Classes, Secrets and pods map to the runtimes they affect."""

from __future__ import annotations

from fluidpy.client import SECRET
from fluidpy.engines.cacheruntime import secondary_watches
from fluidpy.engines.cacheruntime.dependents import Dependents, runtime_of_pod
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, POD


def test_a_class_maps_to_every_runtime_that_names_it() -> None:
    dependents = Dependents()
    dependents.record("a", "one", "demofs", [])
    dependents.record("b", "two", "demofs", [])
    dependents.record("a", "three", "other", [])

    assert dependents.runtimes_of_class("demofs") == [("a", "one"), ("b", "two")]
    assert dependents.runtimes_of_class("missing") == []


def test_a_secret_maps_to_the_runtimes_of_its_namespace_whose_dataset_names_it() -> None:
    dependents = Dependents()
    dependents.record("a", "one", "demofs", ["jfs-secret", "other"])
    dependents.record("b", "two", "demofs", ["jfs-secret"])

    assert dependents.runtimes_of_secret("a", "jfs-secret") == [("a", "one")]
    assert dependents.runtimes_of_secret("b", "jfs-secret") == [("b", "two")]


def test_a_new_record_replaces_the_old_and_forget_removes_it() -> None:
    dependents = Dependents()
    dependents.record("a", "one", "old-class", ["old-secret"])
    dependents.record("a", "one", "new-class", ["new-secret"])

    assert dependents.runtimes_of_class("old-class") == []
    assert dependents.runtimes_of_secret("a", "old-secret") == []
    assert dependents.runtimes_of_class("new-class") == [("a", "one")]

    dependents.forget("a", "one")
    assert dependents.runtimes_of_class("new-class") == []
    assert dependents.runtimes_of_secret("a", "new-secret") == []


def test_a_pod_maps_to_the_runtime_its_label_names() -> None:
    labelled = {"metadata": {"namespace": "ns", "labels": {"cacheruntime.fluid.io/name": "demo"}}}
    unlabelled = {"metadata": {"namespace": "ns", "labels": {"app": "web"}}}

    assert runtime_of_pod(labelled) == [("ns", "demo")]
    assert runtime_of_pod(unlabelled) == []


def test_the_controller_watches_classes_secrets_and_pods() -> None:
    assert [watch[0] for watch in secondary_watches()] == [CLASS_GVK, SECRET, POD]

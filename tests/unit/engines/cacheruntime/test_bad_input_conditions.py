"""Every bad-input case of the spec, through the real RuntimeReconciler: a Ready=False
condition and a Warning event with the same reason and text, and nothing created.

The CRDs refuse some of these cases before they reach a controller; here the objects are
stored directly, as a class written under an older CRD would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fluidpy.context import Context
from fluidpy.controller import Request
from fluidpy.controllers import CACHE_RUNTIME, RuntimeReconciler
from fluidpy.engines.cacheruntime import build
from fluidpy.engines.factory import EngineFactory

Objects = dict[str, dict[str, Any]]


class Events:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


LONG = "a-cache-whose-name-is-longer-than-a-pod-allows"


def without_class(objects: Objects) -> None:
    del objects["CacheRuntimeClass"]


def replica_set_master(objects: Objects) -> None:
    objects["CacheRuntimeClass"]["topology"]["master"]["workloadType"]["kind"] = "ReplicaSet"


def headless_daemonset(objects: Objects) -> None:
    objects["CacheRuntimeClass"]["topology"]["master"]["workloadType"]["kind"] = "DaemonSet"


def master_the_class_lacks(objects: Objects) -> None:
    del objects["CacheRuntimeClass"]["topology"]["master"]


def replicas_on_daemonset(objects: Objects) -> None:
    worker = objects["CacheRuntimeClass"]["topology"]["worker"]
    worker["workloadType"]["kind"] = "DaemonSet"
    del worker["service"]
    objects["CacheRuntime"]["spec"]["worker"]["replicas"] = 2


def without_secret(objects: Objects) -> None:
    del objects["Secret"]


def long_name(objects: Objects) -> None:
    objects["CacheRuntime"]["metadata"]["name"] = objects["Dataset"]["metadata"]["name"] = LONG


def pod_spec_a_string(objects: Objects) -> None:
    objects["CacheRuntimeClass"]["topology"]["master"]["podTemplateSpec"]["spec"] = "containers"


def containers_a_map(objects: Objects) -> None:
    spec = objects["CacheRuntimeClass"]["topology"]["worker"]["podTemplateSpec"]["spec"]
    spec["containers"] = {"name": "worker", "image": "demofs"}


def container_a_string(objects: Objects) -> None:
    spec = objects["CacheRuntimeClass"]["topology"]["master"]["podTemplateSpec"]["spec"]
    spec["containers"] = ["demofs:latest"]


def quota(value: str) -> Callable[[Objects], None]:
    def change(objects: Objects) -> None:
        objects["CacheRuntime"]["spec"]["worker"]["tieredStore"]["levels"][0]["quota"] = value

    change.__name__ = f"quota_{value}"
    return change


def every_component_disabled(objects: Objects) -> None:
    for component in ("master", "worker", "client"):
        objects["CacheRuntime"]["spec"][component]["disabled"] = True


def unprivileged_fuse_client(objects: Objects) -> None:
    client = objects["CacheRuntimeClass"]["topology"]["client"]["podTemplateSpec"]["spec"]
    for container in client["containers"]:
        container.pop("securityContext", None)


FIELD_TEMPLATE = "CacheRuntimeClass demofs topology.{}.podTemplateSpec.spec"
CASES: list[tuple[Callable[[Objects], None], str, str]] = [
    (
        pod_spec_a_string,
        "ErrorValidateSpecFields",
        f"{FIELD_TEMPLATE.format('master')}: is a string, not an object (a PodSpec); write the "
        "pod's spec as a mapping with containers, volumes, ...",
    ),
    (
        containers_a_map,
        "ErrorValidateSpecFields",
        f"{FIELD_TEMPLATE.format('worker')}.containers: is an object, not a list of containers; "
        "write containers as a list, each item a container with a name and an image",
    ),
    (
        container_a_string,
        "ErrorValidateSpecFields",
        f"{FIELD_TEMPLATE.format('master')}.containers[0]: is a string without a name, not a "
        "container; give every container a name and an image",
    ),
    *(
        (
            quota(value),
            "ErrorValidateSpecFields",
            f"spec.worker.tieredStore.levels[0].quota: {value!r} is not a positive size; write "
            "a size such as 2Gi or 500Mi, or remove quota for no limit",
        )
        for value in ("0", "-1Gi", "lots")
    ),
    (
        every_component_disabled,
        "ErrorValidateSpecFields",
        "spec: disables every component, so the runtime would run nothing; enable at least one "
        "of spec.master, spec.worker, spec.client (remove disabled: true)",
    ),
    (
        unprivileged_fuse_client,
        "ErrorValidateSpecFields",
        f"{FIELD_TEMPLATE.format('client')}.containers: no container of the FUSE client can "
        "mount FUSE: none is privileged, and none has capability SYS_ADMIN with /dev/fuse "
        "mounted from the host; set securityContext.privileged: true on the FUSE container, or "
        "add capability SYS_ADMIN and a hostPath volume /dev/fuse mounted in it",
    ),
    (
        without_class,
        "RuntimeClassNotFound",
        "waiting for CacheRuntimeClass 'demofs' (spec.runtimeClassName), which does not exist: "
        "create the class (it is cluster-scoped) and the runtime proceeds by itself",
    ),
    (
        replica_set_master,
        "ErrorValidateSpecFields",
        "CacheRuntimeClass demofs topology.master.workloadType: apps/v1 ReplicaSet is not a "
        "workload CacheRuntime can run; use apiVersion apps/v1 with kind StatefulSet, DaemonSet "
        "or Deployment",
    ),
    (
        headless_daemonset,
        "ErrorValidateSpecFields",
        "CacheRuntimeClass demofs topology.master.service.headless: needs a StatefulSet, but the "
        "master is a DaemonSet (only StatefulSet pods have stable DNS names behind a headless "
        "Service); remove service.headless or set workloadType.kind to StatefulSet",
    ),
    (
        master_the_class_lacks,
        "ErrorValidateSpecFields",
        "spec.master: configures the master, but CacheRuntimeClass demofs defines no master (it "
        "defines worker, client); remove spec.master, set spec.master.disabled: true, or use a "
        "class with a master",
    ),
    (
        replicas_on_daemonset,
        "ErrorValidateSpecFields",
        "spec.worker.replicas: is 2, but CacheRuntimeClass demofs runs the worker as a "
        "DaemonSet, which runs one pod per eligible node; remove spec.worker.replicas and choose "
        "the nodes with spec.worker.nodeSelector",
    ),
    (
        without_secret,
        "SecretNotFound",
        "waiting for Secret default/jfs-secret, which Dataset default/demofs names in "
        "encryptOptions (access-key, secret-key, token) and which does not exist: create it in "
        "namespace default and the runtime proceeds by itself",
    ),
    (
        long_name,
        "ErrorValidateSpecFields",
        f"metadata.name: {LONG!r} makes the StatefulSet name '{LONG}-master' 53 characters "
        "long, over Kubernetes' limit of 52 characters for a StatefulSet name (its pods carry the "
        "label controller-revision-hash=<name>-<hash of up to 10 characters>, which must fit "
        "63); use a runtime (and Dataset) name of at most 45 characters",
    ),
]


@pytest.mark.parametrize(
    ("change", "reason", "message"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_bad_input_gets_a_condition_and_an_event_and_creates_nothing(
    seed: Objects,
    fake_client: Any,
    change: Callable[[Objects], None],
    reason: str,
    message: str,
) -> None:
    change(seed)
    client = fake_client(*seed.values())
    recorder = Events()
    factory = EngineFactory()
    factory.register("cacheruntime", build)
    reconciler = RuntimeReconciler(CACHE_RUNTIME, client, recorder, factory=factory)
    name = seed["CacheRuntime"]["metadata"]["name"]

    reconciler.reconcile(Context.background(), Request("default", name))

    runtime = client.find("CacheRuntime", name, "default")
    [ready] = [c for c in runtime["status"]["conditions"] if c["type"] == "Ready"]
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", reason, message)
    assert ("Warning", reason, message) in recorder.events
    made = {obj["kind"] for obj in client.objects()}
    assert made.isdisjoint({"StatefulSet", "DaemonSet", "Deployment", "Service", "ConfigMap"})

"""Informer benchmarks: events per second into the store, and memory per cached Pod.

    .venv/bin/python benchmarks/bench_informer.py [--events N] [--pods N] [--e2e N]
        [--kubeconfig PATH]

1. Synthetic throughput: Pod-sized watch events, as the bytes an API server sends, go through
   the real path (line splitting, JSON decoding, transform, store, indexes, handler) of a
   SharedInformer fed by an in-memory list/watch source. The handler does what a controller's
   does: put the object's key on a queue.
2. Memory: realistic Pod dicts with managedFields, decoded from JSON as the informer receives
   them, stored with and without the default transform; tracemalloc measures the bytes per
   cached object (store and index entries included). The Pod cache of a whole manager among
   unrelated Pods is bench_informer_memory.py's.
3. End to end, when a cluster is at hand (--kubeconfig, or a fluidpy.testing.LocalCluster that
   this script starts): the initial list of N ConfigMaps, then N updates made by 8 writer
   threads, timed until the informer's handler has seen them all.

Figures are printed, never judged: the machine is shared, so times vary from run to run.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fluidpy.client import BUILTIN_MAPPINGS, GVK, RESTMapping
from fluidpy.client.watch import decode_event, split_lines
from fluidpy.context import Context
from fluidpy.informer import (
    HandlerFuncs,
    SharedInformer,
    Store,
    Transform,
    default_transform,
    object_key,
    strip_managed_fields,
)

POD = GVK("", "v1", "Pod")
CONFIGMAP = GVK("", "v1", "ConfigMap")
KIB = 1024.0
TARGET_KIB = 20.0  # the memory goal per cached Pod-sized object set for fluidpy

TRANSFORMS: list[tuple[str, Transform | None]] = [
    ("no transform", None),
    ("managedFields stripped", strip_managed_fields),
    ("default transform (stripped, strings shared)", default_transform),
]


def _fields(keys: list[str]) -> dict[str, Any]:
    return {key: {} for key in keys}


def _container_status(name: str, i: int, started: str) -> dict[str, Any]:
    return {
        "name": name,
        "state": {"running": {"startedAt": started}},
        "lastState": {},
        "ready": True,
        "restartCount": 0,
        "image": "registry.example.com/fluid/alluxio:2.9.4",
        "imageID": "registry.example.com/fluid/alluxio@sha256:" + f"{i:064x}",
        "containerID": "containerd://" + f"{i + 7:064x}",
        "started": True,
    }


def realistic_pod(i: int) -> dict[str, Any]:
    """A StatefulSet Pod as a real API server returns it: a container with probes, env, volumes,
    status with conditions and container statuses, and managedFields from three managers."""
    name = f"alluxio-worker-{i}"
    uid = f"6f1c2a4e-{i:04x}-4b8e-9d3f-{i:012x}"
    ts = f"2026-03-02T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
    container_spec = {
        "name": "alluxio-worker",
        "image": "registry.example.com/fluid/alluxio:2.9.4",
        "imagePullPolicy": "IfNotPresent",
        "args": ["worker-only", "nofuse"],
        "env": [
            {
                "name": "ALLUXIO_WORKER_HOSTNAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.hostIP"}},
            },
            {
                "name": "ALLUXIO_WORKER_CONTAINER_HOSTNAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            },
            {"name": "ALLUXIO_JAVA_OPTS", "value": "-Xmx2G -XX:MaxDirectMemorySize=8G"},
        ],
        "ports": [
            {"name": "rpc", "containerPort": 29999, "protocol": "TCP"},
            {"name": "web", "containerPort": 30000, "protocol": "TCP"},
        ],
        "resources": {"limits": {"memory": "4Gi"}, "requests": {"cpu": "500m", "memory": "2Gi"}},
        "readinessProbe": {
            "tcpSocket": {"port": "rpc"},
            "initialDelaySeconds": 10,
            "timeoutSeconds": 1,
            "periodSeconds": 10,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
        "volumeMounts": [
            {"name": "mem", "mountPath": "/dev/shm"},
            {
                "name": "kube-api-access-x7k2p",
                "readOnly": True,
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            },
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": "alluxio-worker-",
            "namespace": "default",
            "uid": uid,
            "resourceVersion": str(100000 + i),
            "creationTimestamp": ts,
            "labels": {
                "app": "alluxio",
                "role": "alluxio-worker",
                "release": "hbase",
                "fluid.io/dataset-id": "default-hbase",
                "controller-revision-hash": "alluxio-worker-7d9f8b6c5",
                "statefulset.kubernetes.io/pod-name": name,
            },
            "annotations": {"sidecar.istio.io/inject": "false"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": "alluxio-worker",
                    "uid": "0b7c9e2d-1111-4a5b-8c6d-7e8f9a0b1c2d",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {
                            "f:generateName": {},
                            "f:labels": _fields(
                                [
                                    "f:app",
                                    "f:role",
                                    "f:release",
                                    "f:fluid.io/dataset-id",
                                    "f:controller-revision-hash",
                                    "f:statefulset.kubernetes.io/pod-name",
                                ]
                            ),
                            "f:ownerReferences": {'k:{"uid":"0b7c9e2d"}': {}},
                        },
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"alluxio-worker"}': _fields(
                                    [
                                        "f:args",
                                        "f:env",
                                        "f:image",
                                        "f:imagePullPolicy",
                                        "f:name",
                                        "f:ports",
                                        "f:readinessProbe",
                                        "f:resources",
                                        "f:volumeMounts",
                                        "f:terminationMessagePath",
                                    ]
                                )
                            },
                            "f:dnsPolicy": {},
                            "f:hostname": {},
                            "f:restartPolicy": {},
                            "f:schedulerName": {},
                            "f:volumes": {},
                        },
                    },
                },
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "subresource": "status",
                    "fieldsV1": {
                        "f:status": {
                            "f:conditions": _fields(
                                [
                                    'k:{"type":"ContainersReady"}',
                                    'k:{"type":"Initialized"}',
                                    'k:{"type":"PodScheduled"}',
                                    'k:{"type":"Ready"}',
                                ]
                            ),
                            "f:containerStatuses": {},
                            "f:hostIP": {},
                            "f:phase": {},
                            "f:podIP": {},
                            "f:podIPs": {},
                            "f:startTime": {},
                        }
                    },
                },
                {
                    "manager": "fluid-controller",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:annotations": _fields(["f:sidecar.istio.io/inject"])}
                    },
                },
            ],
        },
        "spec": {
            "volumes": [
                {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
                {
                    "name": "kube-api-access-x7k2p",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                        ],
                        "defaultMode": 420,
                    },
                },
            ],
            "containers": [container_spec],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirstWithHostNet",
            "serviceAccountName": "alluxio-worker",
            "nodeName": f"node-{i % 50}",
            "hostNetwork": True,
            "hostname": name,
            "subdomain": "alluxio-worker",
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "hostIP": f"10.0.{i % 250}.{i % 200 + 1}",
            "podIP": f"10.0.{i % 250}.{i % 200 + 1}",
            "podIPs": [{"ip": f"10.0.{i % 250}.{i % 200 + 1}"}],
            "startTime": ts,
            "containerStatuses": [_container_status("alluxio-worker", i, ts)],
            "qosClass": "Burstable",
        },
    }


# Synthetic throughput


class _Replay:
    """One watch that replays prepared bytes, cut into 64 KiB reads as a socket delivers them."""

    def __init__(self, payload: bytes) -> None:
        self._chunks = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return (decode_event(line) for line in split_lines(self._chunks))

    def close(self) -> None:
        """Nothing to interrupt: replaying never blocks."""


class _Idle:
    """A watch with nothing to say: blocks until closed, as a quiet API server's would."""

    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        self._closed.wait()
        return iter(())

    def close(self) -> None:
        self._closed.set()


class MemorySource:
    """An in-memory list/watch source: an empty list, one watch replaying `payload`, then quiet."""

    def __init__(self, payload: bytes) -> None:
        self._payload: bytes | None = payload

    def mapping(self, gvk: GVK, *, ctx: Context | None = None) -> RESTMapping:
        return BUILTIN_MAPPINGS[gvk]

    def list_with_version(
        self, gvk: GVK, namespace: str | None = None, **_: Any
    ) -> tuple[list[dict[str, Any]], str]:
        return [], "1"

    def watch(self, gvk: GVK, namespace: str | None = None, **_: Any) -> _Replay | _Idle:
        payload, self._payload = self._payload, None
        return _Replay(payload) if payload is not None else _Idle()


def watch_payload(pods: int) -> bytes:
    """An ADDED event for every Pod, then a MODIFIED event for each, as watch-stream bytes."""
    lines = []
    for event_type, bump in (("ADDED", 0), ("MODIFIED", 1_000_000)):
        for i in range(pods):
            pod = realistic_pod(i)
            pod["metadata"]["resourceVersion"] = str(int(pod["metadata"]["resourceVersion"]) + bump)
            lines.append(json.dumps({"type": event_type, "object": pod}).encode())
    return b"\n".join(lines) + b"\n"


def bench_synthetic(pods: int) -> None:
    payload = watch_payload(pods)
    events = 2 * pods
    print(f"synthetic: {events} Pod watch events, {len(payload) / events / KIB:.1f} KiB each")
    for label, transform in TRANSFORMS:
        elapsed = _informer_run(payload, events, transform)
        print(
            f"  {label}: {elapsed:.2f} s, {events / elapsed:,.0f} events/s "
            f"({1e6 * elapsed / events:.0f} us per event)"
        )


def _informer_run(payload: bytes, events: int, transform: Transform | None) -> float:
    """Seconds from starting an informer until its handler has queued every event's key."""
    queue: collections.deque[str] = collections.deque()
    done = threading.Event()

    def enqueue(obj: dict[str, Any]) -> None:
        queue.append(object_key(obj))
        if len(queue) == events:
            done.set()

    informer = SharedInformer(MemorySource(payload), POD, transform=transform)
    informer.add_event_handler(
        HandlerFuncs(add=lambda obj, _: enqueue(obj), update=lambda _, new: enqueue(new))
    )
    ctx, cancel = Context.background().with_cancel()
    gc.collect()
    started = time.perf_counter()
    informer.start(ctx)
    done.wait()
    elapsed = time.perf_counter() - started
    cancel()
    return elapsed


# Memory


def bench_memory(pods: int) -> None:
    lines = [json.dumps(realistic_pod(i), separators=(",", ":")).encode() for i in range(pods)]
    print(
        f"memory: {pods} cached Pods, {sum(map(len, lines)) / pods / KIB:.1f} KiB of JSON each "
        "(managedFields included)"
    )
    for label, transform in TRANSFORMS:
        gc.collect()
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        store = Store()
        for line in lines:
            obj = json.loads(line)
            if transform is not None:
                obj = transform(obj)
            store.upsert(object_key(obj), obj)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        per_object = (after - before) / pods / KIB
        verdict = "within" if per_object <= TARGET_KIB else "above"
        print(
            f"  {label}: {per_object:.1f} KiB per object ({verdict} the {TARGET_KIB:g} KiB target)"
        )
        del store


# End to end


def bench_end_to_end(kubeconfig: Path, count: int) -> None:
    from fluidpy.client import Client
    from fluidpy.client.config import load_connection

    connection = load_connection(kubeconfig, pool_size=16)
    client = Client(connection, qps=0)  # measure the informer, not the client-side rate limit
    namespace = f"bench-informer-{int(time.time())}"
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:

        def create(i: int) -> None:
            client.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i}", "namespace": namespace},
                    "data": {"index": str(i)},
                }
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(count)))

        updates = threading.Semaphore(0)
        informer = SharedInformer(client, CONFIGMAP, namespaces=[namespace])
        informer.add_event_handler(HandlerFuncs(update=lambda old, new: updates.release()))
        ctx, cancel = Context.background().with_cancel()
        started = time.perf_counter()
        informer.start(ctx)
        informer.wait_for_sync(ctx)
        listed = time.perf_counter() - started
        print(
            f"end to end: initial list of {count} ConfigMaps synced in {listed:.2f} s "
            f"({count / listed:,.0f} objects/s)"
        )

        def update(i: int) -> None:
            client.patch(CONFIGMAP, f"cm-{i}", namespace, {"data": {"updated": "yes"}})

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(update, range(count)))
        written = time.perf_counter() - started
        for _ in range(count):
            updates.acquire()
        seen = time.perf_counter() - started
        cancel()
        print(
            f"  {count} updates by 8 writers took {written:.2f} s ({count / written:,.0f}/s); "
            f"the informer had seen all of them after {seen:.2f} s ({count / seen:,.0f} events/s, "
            "bounded by the API server's write rate)"
        )
    finally:
        client.delete(GVK("", "v1", "Namespace"), namespace)
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--events", type=int, default=5000, help="Pods in the synthetic watch (x2 events)"
    )
    parser.add_argument("--pods", type=int, default=5000, help="Pods cached for the memory figure")
    parser.add_argument("--e2e", type=int, default=1000, help="ConfigMaps end to end (0 skips)")
    parser.add_argument("--kubeconfig", type=Path, help="an existing cluster (default: start one)")
    args = parser.parse_args()

    bench_synthetic(args.events)
    bench_memory(args.pods)
    if args.e2e <= 0:
        return
    if args.kubeconfig is not None:
        bench_end_to_end(args.kubeconfig, args.e2e)
        return
    from fluidpy.testing import BinariesNotFound, LocalCluster

    cluster = LocalCluster(name="fluidpy-bench", nodes=0)
    try:
        cluster.start()
    except BinariesNotFound as missing:
        print(f"end to end: skipped, no local control plane ({missing})")
        return
    try:
        bench_end_to_end(cluster.kubeconfig, args.e2e)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
